"""Order lifecycle: the next due actions of one order.

Inputs: the Mirakl order snapshot (its state), the ledger (what we already did), the host's
fulfilment and return events, the policy and ``now``. Output: an :class:`OrderPlan` listing the
actions due, in the order they must run, each with a deadline and a stable key (the ledger's op
key). Unknown order or line states give a MANUAL plan with no action: alert, never act.

Per state (``SO`` = sales order in the inventory system, created on payment by default):

=========================  ============================================================
STAGING                    hold (operator validation)
WAITING_ACCEPTANCE         [create SO if ``on acceptance``] -> decide acceptance (by the
                           deadline); hold once the decision was sent
WAITING_DEBIT(_PAYMENT)    hold while payment is pending; reserve stock; [create SO if
                           ``on acceptance``]
SHIPPING                   create SO; release the soft reservation once the SO exists; on a
                           fulfilment: send tracking, then ship; refund returns
SHIPPED/TO_COLLECT/        create a missing SO; release the reservation; refund returns
RECEIVED
CLOSED                     release the reservation; returns can no longer be refunded here
                           (MANUAL)
REFUSED/CANCELED           release the reservation; cancel the SO if one was created
other                      MANUAL, no action
=========================  ============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar
from mirakl_sync.core.acceptance import AcceptancePolicy, acceptance_deadline
from mirakl_sync.core.models import (
    LINE_STATES,
    PENDING_PAYMENT_STATES,
    FulfilmentEvent,
    Order,
    OrderId,
    OrderLedger,
    OrderLineId,
    OrderState,
    ReturnEvent,
)

__all__ = [
    "ActionKind",
    "DueAction",
    "LifecyclePolicy",
    "OrderPlan",
    "OrderPlans",
    "PlanStatus",
    "next_actions",
    "plan_orders",
]

S = OrderState


class ActionKind(StrEnum):
    DECIDE_ACCEPTANCE = "DECIDE_ACCEPTANCE"
    RESERVE_STOCK = "RESERVE_STOCK"
    CREATE_SALES_ORDER = "CREATE_SALES_ORDER"
    CANCEL_SALES_ORDER = "CANCEL_SALES_ORDER"
    RELEASE_RESERVATION = "RELEASE_RESERVATION"
    SEND_TRACKING = "SEND_TRACKING"
    SHIP = "SHIP"
    REFUND = "REFUND"


class PlanStatus(StrEnum):
    ACT = "ACT"
    """Actions are due."""
    HOLD = "HOLD"
    """Nothing to do yet: waiting for the operator, the customer's payment or the warehouse."""
    DONE = "DONE"
    """Nothing left to do."""
    MANUAL = "MANUAL"
    """A human must look (unknown state, refund no longer possible...): no action is planned."""


@attrs.frozen(kw_only=True)
class LifecyclePolicy:
    """Attributes:
    create_sales_order_on: ``"payment"`` (default: when the order reaches SHIPPING) or
        ``"acceptance"`` (before acceptance is sent).
    ship_within: how soon after the fulfilment event tracking and ship must be sent (default
        1 h; they are due immediately, this is the deadline).
    refund_within: deadline of a refund after the return event (default 24 h).
    acceptance: the acceptance policy (for the deadline).
    """

    create_sales_order_on: Literal["payment", "acceptance"] = "payment"
    ship_within: timedelta = timedelta(hours=1)
    refund_within: timedelta = timedelta(hours=24)
    acceptance: AcceptancePolicy = attrs.field(factory=AcceptancePolicy)


@attrs.frozen(kw_only=True)
class DueAction:
    kind: ActionKind
    order_id: OrderId
    key: str
    """Deterministic op key for the ledger: ``"<KIND>:<order>[:<sub-entity>]"``."""
    due_at: datetime
    deadline: datetime | None
    line_ids: tuple[OrderLineId, ...] = ()
    reason: str = ""
    event_id: str | None = None
    """The fulfilment or return event behind the action, when there is one."""


@attrs.frozen(kw_only=True)
class OrderPlan:
    order_id: OrderId
    state: str
    status: PlanStatus
    actions: tuple[DueAction, ...]
    reason: str

    @property
    def manual(self) -> bool:
        return self.status is PlanStatus.MANUAL

    def to_record(self) -> dict[str, Scalar]:
        deadlines = [a.deadline for a in self.actions if a.deadline is not None]
        return {
            "order_id": self.order_id,
            "state": self.state,
            "status": self.status.value,
            "actions": "; ".join(a.kind.value for a in self.actions),
            "next_deadline": min(deadlines).isoformat() if deadlines else None,
            "reason": self.reason,
        }


@attrs.frozen(kw_only=True)
class OrderPlans(RecordsDisplayMixin):
    plans: tuple[OrderPlan, ...]

    def __repr__(self) -> str:
        counts = {s: sum(1 for p in self.plans if p.status is s) for s in PlanStatus}
        parts = " ".join(f"{s.value.lower()}={n}" for s, n in counts.items())
        return f"<OrderPlans orders={len(self.plans)} {parts}>"

    def to_records(self) -> list[dict[str, Scalar]]:
        return [p.to_record() for p in self.plans]

    def _display_title(self) -> str:
        return "OrderPlans"


def _plan(order: Order, status: PlanStatus, reason: str, actions: list[DueAction]) -> OrderPlan:
    if actions and status is not PlanStatus.MANUAL:
        status = PlanStatus.ACT
    return OrderPlan(
        order_id=order.order_id,
        state=order.state,
        status=status,
        actions=tuple(actions),
        reason=reason,
    )


def next_actions(
    order: Order,
    ledger: OrderLedger | None,
    *,
    now: datetime,
    fulfilments: Iterable[FulfilmentEvent] = (),
    returns: Iterable[ReturnEvent] = (),
    policy: LifecyclePolicy | None = None,
) -> OrderPlan:
    """The next due actions of ``order`` (see the module doc for the table)."""
    policy = policy or LifecyclePolicy()
    led = ledger or OrderLedger(order_id=order.order_id)
    oid = order.order_id
    state = order.state
    fulfil = sorted((f for f in fulfilments if f.order_id == oid), key=lambda f: (f.at, f.event_id))
    rets = sorted((r for r in returns if r.order_id == oid), key=lambda r: (r.at, r.return_id))
    active = tuple(ln.line_id for ln in order.lines if ln.is_active)

    def act(
        kind: ActionKind,
        *,
        deadline: datetime | None = None,
        sub: str | None = None,
        reason: str = "",
        lines: tuple[OrderLineId, ...] = active,
        event_id: str | None = None,
    ) -> DueAction:
        key = f"{kind.value}:{oid}" + (f":{sub}" if sub else "")
        return DueAction(
            kind=kind,
            order_id=oid,
            key=key,
            due_at=now,
            deadline=deadline,
            line_ids=lines,
            reason=reason,
            event_id=event_id,
        )

    if not order.is_known_state:
        return _plan(
            order, PlanStatus.MANUAL, f"unknown order state {state!r}: alert, never act", []
        )
    unknown_lines = [ln.line_id for ln in order.lines if ln.state not in LINE_STATES]
    if unknown_lines:
        return _plan(
            order,
            PlanStatus.MANUAL,
            f"unknown line state on {', '.join(unknown_lines)}: alert, never act",
            [],
        )

    actions: list[DueAction] = []
    on_acceptance = policy.create_sales_order_on == "acceptance"

    def refunds(refundable: bool) -> str | None:
        pending = [r for r in rets if r.return_id not in led.refunded_return_ids]
        if not pending:
            return None
        if not refundable:
            return (
                f"{len(pending)} return(s) not refunded but the order is {state}: refund it "
                "in the Mirakl back office or with the operator"
            )
        for r in pending:
            actions.append(
                act(
                    ActionKind.REFUND,
                    deadline=r.at + policy.refund_within,
                    sub=r.return_id,
                    reason=f"return {r.return_id} accepted by the host",
                    lines=(r.line_id,),
                    event_id=r.return_id,
                )
            )
        return None

    if state == S.STAGING:
        return _plan(order, PlanStatus.HOLD, "the operator is validating the order", [])

    if state == S.WAITING_ACCEPTANCE:
        if led.acceptance_sent:
            return _plan(order, PlanStatus.HOLD, "acceptance sent; waiting for Mirakl", [])
        deadline = acceptance_deadline(order, policy.acceptance)
        if on_acceptance and not led.sales_order_created:
            actions.append(
                act(
                    ActionKind.CREATE_SALES_ORDER, deadline=deadline, reason="created on acceptance"
                )
            )
        actions.append(
            act(
                ActionKind.DECIDE_ACCEPTANCE,
                deadline=deadline,
                reason="every line must be accepted or refused in one OR21 call",
            )
        )
        return _plan(order, PlanStatus.ACT, "waiting for our acceptance", actions)

    if state in PENDING_PAYMENT_STATES:
        if on_acceptance and not led.sales_order_created:
            actions.append(act(ActionKind.CREATE_SALES_ORDER, reason="created on acceptance"))
        elif not led.sales_order_created and not led.reservation_held:
            actions.append(
                act(ActionKind.RESERVE_STOCK, reason="accepted, not yet in the inventory system")
            )
        if led.sales_order_created and led.reservation_held:
            actions.append(act(ActionKind.RELEASE_RESERVATION, reason="the sales order holds it"))
        return _plan(order, PlanStatus.HOLD, "payment pending: hold", actions)

    if state in (S.SHIPPING, S.SHIPPED, S.TO_COLLECT, S.RECEIVED):
        if not led.sales_order_created:
            actions.append(act(ActionKind.CREATE_SALES_ORDER, reason="payment confirmed"))
        if led.reservation_held:
            actions.append(
                act(
                    ActionKind.RELEASE_RESERVATION,
                    reason="released once the sales order exists",
                )
            )
        hold_reason = "shipped" if state != S.SHIPPING else "waiting for the warehouse"
        if state == S.SHIPPING and fulfil:
            first = fulfil[0]
            deadline = first.at + policy.ship_within
            if order.shipping_deadline is not None:
                deadline = min(deadline, order.shipping_deadline)
            tracked = next((f for f in fulfil if f.has_tracking), None)
            if tracked is not None and not led.tracking_sent:
                actions.append(
                    act(
                        ActionKind.SEND_TRACKING,
                        deadline=deadline,
                        reason="fulfilled with a tracking number (OR23 before OR24)",
                        event_id=tracked.event_id,
                    )
                )
            if not led.ship_sent:
                actions.append(
                    act(
                        ActionKind.SHIP,
                        deadline=deadline,
                        reason="fulfilled by the host",
                        event_id=first.event_id,
                    )
                )
            hold_reason = "fulfilled: confirming shipment"
        manual = refunds(refundable=True)
        assert manual is None
        done = state != S.SHIPPING
        return _plan(order, PlanStatus.DONE if done else PlanStatus.HOLD, hold_reason, actions)

    if state == S.CLOSED:
        if led.reservation_held:
            actions.append(act(ActionKind.RELEASE_RESERVATION, reason="order closed"))
        manual = refunds(refundable=False)
        if manual is not None:
            return _plan(order, PlanStatus.MANUAL, manual, [])
        return _plan(order, PlanStatus.DONE, "closed", actions)

    # REFUSED / CANCELED
    if led.reservation_held:
        actions.append(act(ActionKind.RELEASE_RESERVATION, reason=f"order {state.lower()}"))
    if led.sales_order_created and not led.sales_order_cancelled:
        actions.append(act(ActionKind.CANCEL_SALES_ORDER, reason=f"order {state.lower()}"))
    return _plan(order, PlanStatus.DONE, state.lower(), actions)


def plan_orders(
    orders: Iterable[Order],
    ledger: dict[OrderId, OrderLedger] | None = None,
    *,
    now: datetime,
    fulfilments: Iterable[FulfilmentEvent] = (),
    returns: Iterable[ReturnEvent] = (),
    policy: LifecyclePolicy | None = None,
) -> OrderPlans:
    """:func:`next_actions` for many orders (sorted by order id)."""
    ledger = ledger or {}
    fl: dict[str, list[FulfilmentEvent]] = {}
    for f in fulfilments:
        fl.setdefault(f.order_id, []).append(f)
    rt: dict[str, list[ReturnEvent]] = {}
    for r in returns:
        rt.setdefault(r.order_id, []).append(r)
    return OrderPlans(
        plans=tuple(
            next_actions(
                o,
                ledger.get(o.order_id),
                now=now,
                fulfilments=fl.get(o.order_id, ()),
                returns=rt.get(o.order_id, ()),
                policy=policy,
            )
            for o in sorted(orders, key=lambda o: o.order_id)
        )
    )
