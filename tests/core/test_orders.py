from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from mirakl_sync.core.models import (
    FulfilmentEvent,
    OrderId,
    OrderLedger,
    OrderLineId,
    OrderState,
    ReturnEvent,
)
from mirakl_sync.core.orders import (
    ActionKind,
    LifecyclePolicy,
    PlanStatus,
    next_actions,
    plan_orders,
)

from .factories import NOW, line, order

S = OrderState
A = ActionKind
OID = OrderId("O")


def led(**kw: object) -> OrderLedger:
    return OrderLedger(order_id=OID, **kw)  # type: ignore[arg-type]


FULFIL = FulfilmentEvent(
    event_id="F1", order_id=OID, at=NOW - timedelta(minutes=5), tracking_number="TRK"
)
FULFIL_NO_TRACKING = FulfilmentEvent(event_id="F2", order_id=OID, at=NOW - timedelta(minutes=5))
RETURN = ReturnEvent(
    return_id="R1",
    order_id=OID,
    line_id=OrderLineId("O-1"),
    at=NOW - timedelta(hours=1),
    amount=Decimal("10.00"),
)

CASES = [
    # (id, state, ledger, events, policy, status, actions)
    ("staging", S.STAGING, led(), (), "payment", PlanStatus.HOLD, []),
    ("wa", S.WAITING_ACCEPTANCE, led(), (), "payment", PlanStatus.ACT, [A.DECIDE_ACCEPTANCE]),
    (
        "wa-on-accept",
        S.WAITING_ACCEPTANCE,
        led(),
        (),
        "acceptance",
        PlanStatus.ACT,
        [A.CREATE_SALES_ORDER, A.DECIDE_ACCEPTANCE],
    ),
    (
        "wa-sent",
        S.WAITING_ACCEPTANCE,
        led(acceptance_sent=True),
        (),
        "payment",
        PlanStatus.HOLD,
        [],
    ),
    ("debit", S.WAITING_DEBIT, led(), (), "payment", PlanStatus.ACT, [A.RESERVE_STOCK]),
    (
        "debit-held",
        S.WAITING_DEBIT_PAYMENT,
        led(reservation_held=True),
        (),
        "payment",
        PlanStatus.HOLD,
        [],
    ),
    (
        "debit-on-accept",
        S.WAITING_DEBIT_PAYMENT,
        led(),
        (),
        "acceptance",
        PlanStatus.ACT,
        [A.CREATE_SALES_ORDER],
    ),
    (
        "debit-so-created",
        S.WAITING_DEBIT,
        led(sales_order_created=True, reservation_held=True),
        (),
        "acceptance",
        PlanStatus.ACT,
        [A.RELEASE_RESERVATION],
    ),
    (
        "shipping",
        S.SHIPPING,
        led(reservation_held=True),
        (),
        "payment",
        PlanStatus.ACT,
        [A.CREATE_SALES_ORDER, A.RELEASE_RESERVATION],
    ),
    (
        "shipping-idle",
        S.SHIPPING,
        led(sales_order_created=True),
        (),
        "payment",
        PlanStatus.HOLD,
        [],
    ),
    (
        "shipping-fulfilled",
        S.SHIPPING,
        led(sales_order_created=True),
        (FULFIL,),
        "payment",
        PlanStatus.ACT,
        [A.SEND_TRACKING, A.SHIP],
    ),
    (
        "shipping-fulfilled-no-tracking",
        S.SHIPPING,
        led(sales_order_created=True),
        (FULFIL_NO_TRACKING,),
        "payment",
        PlanStatus.ACT,
        [A.SHIP],
    ),
    (
        "shipping-tracking-sent",
        S.SHIPPING,
        led(sales_order_created=True, tracking_sent=True),
        (FULFIL,),
        "payment",
        PlanStatus.ACT,
        [A.SHIP],
    ),
    ("shipped", S.SHIPPED, led(sales_order_created=True), (), "payment", PlanStatus.DONE, []),
    (
        "shipped-return",
        S.SHIPPED,
        led(sales_order_created=True),
        (RETURN,),
        "payment",
        PlanStatus.ACT,
        [A.REFUND],
    ),
    (
        "received-return-done",
        S.RECEIVED,
        led(sales_order_created=True, refunded_return_ids=frozenset({"R1"})),
        (RETURN,),
        "payment",
        PlanStatus.DONE,
        [],
    ),
    ("to-collect", S.TO_COLLECT, led(), (), "payment", PlanStatus.ACT, [A.CREATE_SALES_ORDER]),
    ("closed", S.CLOSED, led(sales_order_created=True), (), "payment", PlanStatus.DONE, []),
    (
        "closed-return",
        S.CLOSED,
        led(sales_order_created=True),
        (RETURN,),
        "payment",
        PlanStatus.MANUAL,
        [],
    ),
    (
        "refused",
        S.REFUSED,
        led(reservation_held=True),
        (),
        "payment",
        PlanStatus.ACT,
        [A.RELEASE_RESERVATION],
    ),
    (
        "canceled",
        S.CANCELED,
        led(reservation_held=True, sales_order_created=True),
        (),
        "acceptance",
        PlanStatus.ACT,
        [A.RELEASE_RESERVATION, A.CANCEL_SALES_ORDER],
    ),
    ("canceled-clean", S.CANCELED, led(), (), "payment", PlanStatus.DONE, []),
    (
        "unknown",
        "WAITING_SOMETHING",
        led(reservation_held=True),
        (),
        "payment",
        PlanStatus.MANUAL,
        [],
    ),
    ("deprecated", "WAITING_REFUND", led(), (RETURN,), "payment", PlanStatus.MANUAL, []),
    ("empty", "", led(), (), "payment", PlanStatus.MANUAL, []),
]


@pytest.mark.parametrize(
    ("state", "ledger", "events", "on", "status", "actions"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_lifecycle_table(
    state: str,
    ledger: OrderLedger,
    events: tuple[object, ...],
    on: str,
    status: PlanStatus,
    actions: list[ActionKind],
) -> None:
    line_state = state if state in (S.REFUSED, S.CANCELED) else S.SHIPPING
    o = order("O", line(1, "A", state=line_state), state=state)
    plan = next_actions(
        o,
        ledger,
        now=NOW,
        fulfilments=[e for e in events if isinstance(e, FulfilmentEvent)],
        returns=[e for e in events if isinstance(e, ReturnEvent)],
        policy=LifecyclePolicy(create_sales_order_on=on),  # type: ignore[arg-type]
    )
    assert plan.status is status, plan.reason
    assert [a.kind for a in plan.actions] == actions
    if status is PlanStatus.MANUAL:
        assert plan.actions == ()
        assert plan.manual
    for a in plan.actions:
        assert a.key.startswith(f"{a.kind.value}:O")
        assert a.due_at == NOW


def test_every_documented_state_has_a_decision() -> None:
    for state in sorted(
        {
            S.STAGING,
            S.WAITING_ACCEPTANCE,
            S.WAITING_DEBIT,
            S.WAITING_DEBIT_PAYMENT,
            S.SHIPPING,
            S.SHIPPED,
            S.TO_COLLECT,
            S.RECEIVED,
            S.CLOSED,
            S.REFUSED,
            S.CANCELED,
        }
    ):
        plan = next_actions(order("O", state=state), None, now=NOW)
        assert plan.status is not PlanStatus.MANUAL, state


def test_unknown_line_state_is_manual_and_never_acts() -> None:
    o = order("O", line(1, "A", state="MYSTERY"), state=S.SHIPPING)
    plan = next_actions(o, None, now=NOW, fulfilments=[FULFIL])
    assert plan.manual
    assert plan.actions == ()
    assert "MYSTERY" not in plan.reason or "unknown" in plan.reason


def test_deadlines() -> None:
    o = order("O", state=S.WAITING_ACCEPTANCE, age=timedelta(hours=10))
    plan = next_actions(o, None, now=NOW)
    assert plan.actions[0].deadline == o.created_at + timedelta(days=3)
    shipping = order("O", line(1, "A", state=S.SHIPPING), state=S.SHIPPING, shipping_deadline=NOW)
    plan = next_actions(shipping, led(sales_order_created=True), now=NOW, fulfilments=[FULFIL])
    assert plan.actions[-1].deadline == NOW  # min(fulfilled + 1 h, shipping deadline)
    ret = next_actions(
        order("O", state=S.SHIPPED), led(sales_order_created=True), now=NOW, returns=[RETURN]
    )
    assert ret.actions[0].deadline == RETURN.at + timedelta(hours=24)
    assert ret.actions[0].key == "REFUND:O:R1"
    assert ret.actions[0].line_ids == ("O-1",)


def test_refused_lines_are_left_out_of_the_sales_order() -> None:
    o = order("O", line(1, "A", state=S.SHIPPING), line(2, "B", state=S.REFUSED), state=S.SHIPPING)
    plan = next_actions(o, None, now=NOW)
    assert plan.actions[0].kind is A.CREATE_SALES_ORDER
    assert plan.actions[0].line_ids == ("O-1",)


def test_plan_orders_report() -> None:
    plans = plan_orders([order("B", state="???"), order("A", state=S.STAGING)], now=NOW)
    assert [p.order_id for p in plans.plans] == ["A", "B"]
    assert "orders=2" in repr(plans)
    recs = plans.to_records()
    assert recs[1]["status"] == "MANUAL"
    assert recs[0]["next_deadline"] is None
