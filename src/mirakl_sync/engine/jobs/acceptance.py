"""Jobs "acceptance" (OR21) and "pending" (sales orders and soft reservations).

Acceptance: every WAITING_ACCEPTANCE order the engine has not decided yet (or left MANUAL) gets
the core's decision. ACCEPT / REFUSE_LINES are planned in the outbox with every line decided,
together with the soft reservation of the accepted units (so the next stock push already
publishes less), then sent through the outbox executor: a lost answer is resolved by re-reading
the order, ``ORDER_INVALID_STATE`` on an order already accepted counts as success, and an order
auto-refused at its deadline releases its reservation. With ``sales_order_on = "acceptance"`` the
sales order is created through the :class:`~mirakl_sync.engine.protocols.OrderSink` first and
OR21 is sent only once it exists.

Pending: the core's lifecycle (:func:`~mirakl_sync.core.orders.next_actions`) says what each
known order needs: create the sales order on payment (SHIPPING), hold reservations while payment
is pending, release them on refusal/cancellation (or at shipment when the sink does not deduct
stock), cancel the sales order of a cancelled order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import attrs

from mirakl_sync.core.acceptance import Decision, decide_acceptance
from mirakl_sync.core.models import ItemSku, Order, OrderState
from mirakl_sync.core.orders import ActionKind, next_actions
from mirakl_sync.engine.adapters import order_from_json
from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.engine.jobs.stock import invalidate_published
from mirakl_sync.engine.outbox import OutboxExecutor, Verdict
from mirakl_sync.engine.runtime import LedgerState, ShopRuntime
from mirakl_sync.errors import NotFoundError
from mirakl_sync.storage.records import OutboxItem

__all__ = [
    "ACCEPT",
    "CANCEL_SALES_ORDER",
    "CREATE_SALES_ORDER",
    "accept_orders",
    "handlers",
    "pending_orders",
]

ACCEPT = "OR21"
CREATE_SALES_ORDER = "SALES_ORDER"
CANCEL_SALES_ORDER = "SALES_ORDER_CANCEL"

#: Order states after which the warehouse has taken the goods (reservations no longer needed
#: even when the sink does not deduct stock: the stock source reflects the shipment).
_SHIPPED = frozenset(
    {OrderState.SHIPPED, OrderState.TO_COLLECT, OrderState.RECEIVED, OrderState.CLOSED}
)


def total_available(runtime: ShopRuntime) -> dict[ItemSku, int]:
    """Available units per item, summed over the stock source's warehouses."""
    totals: dict[ItemSku, int] = {}
    for items in runtime.stock_levels().values():
        for sku, quantity in items.items():
            totals[ItemSku(sku)] = totals.get(ItemSku(sku), 0) + int(quantity)
    return totals


def _set_ledger_state(runtime: ShopRuntime, order_id: str, state: str, **changes: Any) -> None:
    record = runtime.storage.get_order(runtime.shop, order_id)
    if record is not None:
        runtime.storage.put_order(
            attrs.evolve(record, ledger_state=state, updated_at=runtime.now(), **changes)
        )


def _reserve(runtime: ShopRuntime, order_id: str, accepted: Mapping[str, bool]) -> None:
    lines = runtime.storage.get_lines(runtime.shop, order_id)
    runtime.storage.put_lines(
        attrs.evolve(
            line,
            reserved_quantity=line.quantity if accepted.get(line.line_id) else 0,
            updated_at=runtime.now(),
        )
        for line in lines
    )


def release_reservation(runtime: ShopRuntime, order_id: str) -> int:
    """Set every line's reservation of an order back to zero; returns the units released."""
    lines = runtime.storage.get_lines(runtime.shop, order_id)
    released = sum(line.reserved_quantity for line in lines)
    if released:
        runtime.storage.put_lines(
            attrs.evolve(line, reserved_quantity=0, updated_at=runtime.now()) for line in lines
        )
    return released


@attrs.define
class AcceptHandler:
    """OR21 through the outbox; verification re-reads the order with OR11."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        payload = item.payload
        assert isinstance(payload, dict)
        decisions = {str(line_id): bool(accepted) for line_id, accepted in payload["lines"]}
        self.runtime.mirakl.orders.accept(str(payload["order_id"]), decisions)
        return None

    def verify(self, item: OutboxItem) -> Verdict:
        payload = item.payload
        assert isinstance(payload, dict)
        try:
            order = self.runtime.mirakl.orders.get(str(payload["order_id"]))
        except NotFoundError:
            return Verdict.UNKNOWN
        state = str(order.order_state)
        if state in (OrderState.WAITING_ACCEPTANCE, OrderState.STAGING):
            return Verdict.NOT_APPLIED
        if state == OrderState.CANCELED or (
            state == OrderState.REFUSED and order.acceptance_decision_date is None
        ):
            return Verdict.REFUSED  # auto-refused at the deadline, or cancelled meanwhile
        return Verdict.APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        payload = item.payload
        assert isinstance(payload, dict)
        any_accepted = any(accepted for _, accepted in payload["lines"])
        state = LedgerState.ACCEPTED if any_accepted else LedgerState.REFUSED
        order_id = str(payload["order_id"])
        _set_ledger_state(self.runtime, order_id, state)
        refused = {str(line_id) for line_id, accepted in payload["lines"] if not accepted}
        if refused:
            skus = {
                line.offer_sku
                for line in self.runtime.storage.get_lines(self.runtime.shop, order_id)
                if line.line_id in refused
            }
            invalidate_published(self.runtime, skus)

    def failed(self, item: OutboxItem, reason: str) -> None:
        payload = item.payload
        assert isinstance(payload, dict)
        order_id = str(payload["order_id"])
        release_reservation(self.runtime, order_id)
        _set_ledger_state(self.runtime, order_id, LedgerState.ACCEPT_FAILED)


def _order_of(runtime: ShopRuntime, item: OutboxItem) -> Order:
    payload = item.payload
    assert isinstance(payload, dict)
    record = runtime.storage.get_order(runtime.shop, str(payload["order_id"]))
    if record is None or not isinstance(record.data, dict):
        raise LookupError(f"order {payload['order_id']} is not in the ledger")
    return order_from_json(record.data)


@attrs.define
class SalesOrderHandler:
    """Creates the sales order through the OrderSink (idempotent on the outbox key)."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        return self.runtime.order_sink.create_sales_order(
            _order_of(self.runtime, item), key=item.key
        )

    def verify(self, item: OutboxItem) -> Verdict:
        found = self.runtime.order_sink.find_sales_order(
            _order_of(self.runtime, item), key=item.key
        )
        return Verdict.APPLIED if found else Verdict.NOT_APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        order = _order_of(self.runtime, item)
        reference = result if isinstance(result, str) else None
        if reference is None:
            reference = self.runtime.order_sink.find_sales_order(order, key=item.key)
        record = self.runtime.storage.get_order(self.runtime.shop, order.order_id)
        if record is not None:
            self.runtime.storage.put_order(
                attrs.evolve(
                    record,
                    sales_order_ref=reference or f"created:{item.key}",
                    updated_at=self.runtime.now(),
                )
            )
        if self.runtime.order_sink.deducts_stock:
            release_reservation(self.runtime, order.order_id)

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


@attrs.define
class CancelSalesOrderHandler:
    """Cancels the sales order of a refused/cancelled Mirakl order."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        order = _order_of(self.runtime, item)
        record = self.runtime.storage.get_order(self.runtime.shop, order.order_id)
        reference = record.sales_order_ref if record is not None else None
        if reference:
            self.runtime.order_sink.cancel_sales_order(order, key=item.key, reference=reference)
        return None

    def verify(self, item: OutboxItem) -> Verdict:
        return Verdict.NOT_APPLIED  # cancelling is idempotent: send again

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        order = _order_of(self.runtime, item)
        _set_ledger_state(self.runtime, order.order_id, LedgerState.CLOSED)

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


def handlers(runtime: ShopRuntime) -> dict[str, Any]:
    return {
        ACCEPT: AcceptHandler(runtime),
        CREATE_SALES_ORDER: SalesOrderHandler(runtime),
        CANCEL_SALES_ORDER: CancelSalesOrderHandler(runtime),
    }


def _executor(runtime: ShopRuntime) -> OutboxExecutor:
    return OutboxExecutor(
        storage=runtime.storage,
        shop=runtime.shop,
        worker=runtime.worker,
        now=runtime.now,
        handlers=handlers(runtime),
    )


def accept_orders(runtime: ShopRuntime) -> Counter[str]:
    """Decide and send acceptance for every undecided WAITING_ACCEPTANCE order."""
    storage, shop = runtime.storage, runtime.shop
    counts: Counter[str] = Counter()
    undecided = [
        order
        for record, order in runtime.orders(states=[OrderState.WAITING_ACCEPTANCE])
        if record.ledger_state in (LedgerState.NEW, LedgerState.MANUAL)
    ]
    executor = _executor(runtime)
    if undecided:
        available = total_available(runtime)
        sku_map = runtime.sku_map(items=available)
        plan = decide_acceptance(
            undecided,
            mapping=sku_map,
            available=available,
            reserved=runtime.reserved_items(sku_map),
            policy=runtime.acceptance_policy,
        )
        on_acceptance = runtime.config.sales_order_on == "acceptance"
        for decision in plan.decisions:
            lines = decision.or21_lines
            if decision.decision is Decision.MANUAL or lines is None:
                with storage.transaction():
                    _set_ledger_state(runtime, decision.order_id, LedgerState.MANUAL)
                counts["manual"] += 1
                continue
            accepted = {str(line_id): ok for line_id, ok in lines}
            if on_acceptance:
                key = f"{ActionKind.CREATE_SALES_ORDER.value}:{decision.order_id}"
                storage.enqueue(
                    shop,
                    key,
                    kind=CREATE_SALES_ORDER,
                    payload={"order_id": decision.order_id},
                    now=runtime.now(),
                )
                if executor.run_one(key) != "confirmed":
                    counts["sales_order_pending"] += 1
                    continue
            with storage.transaction():
                storage.enqueue(
                    shop,
                    f"{ACCEPT}:{decision.order_id}",
                    kind=ACCEPT,
                    payload={
                        "order_id": decision.order_id,
                        "lines": [[line_id, ok] for line_id, ok in lines],
                        "deadline": decision.deadline.isoformat(),
                    },
                    now=runtime.now(),
                )
                _reserve(runtime, decision.order_id, accepted)
                _set_ledger_state(runtime, decision.order_id, LedgerState.ACCEPT_PLANNED)
            crash_point("outbox.after_enqueue")
            counts[decision.decision.value.lower()] += 1
    counts.update(f"or21_{k}" for k, n in executor.run(kinds={ACCEPT}).items() for _ in range(n))
    return counts


def pending_orders(runtime: ShopRuntime) -> Counter[str]:
    """Apply the core's lifecycle actions: sales orders, reservations, cancellations."""
    storage, shop = runtime.storage, runtime.shop
    counts: Counter[str] = Counter()
    policy = runtime.lifecycle_policy
    deducts = runtime.order_sink.deducts_stock
    outbox = runtime.outbox_index()
    # Closed orders (most of the history) are neither read nor parsed.
    for record, order in runtime.orders(ledger_states=LedgerState.OPEN):
        lines = storage.get_lines(shop, record.order_id)
        ledger = runtime.ledger_view(record, lines, outbox.get(record.order_id, ()))
        plan = next_actions(order, ledger, now=runtime.now(), policy=policy)
        released = False
        for action in plan.actions:
            if (
                action.kind is ActionKind.CREATE_SALES_ORDER
                and order.state != OrderState.WAITING_ACCEPTANCE
            ):
                storage.enqueue(
                    shop,
                    action.key,
                    kind=CREATE_SALES_ORDER,
                    payload={"order_id": order.order_id},
                    now=runtime.now(),
                )
                counts["sales_orders_planned"] += 1
            elif action.kind is ActionKind.RELEASE_RESERVATION:
                finished = order.state in _SHIPPED or order.state in (
                    OrderState.REFUSED,
                    OrderState.CANCELED,
                )
                if deducts or finished:
                    with storage.transaction():
                        counts["units_released"] += release_reservation(runtime, order.order_id)
                    released = True
            elif action.kind is ActionKind.CANCEL_SALES_ORDER:
                storage.enqueue(
                    shop,
                    action.key,
                    kind=CANCEL_SALES_ORDER,
                    payload={"order_id": order.order_id},
                    now=runtime.now(),
                )
                counts["sales_orders_to_cancel"] += 1
        # Lines refused or cancelled one by one release their own units (read again if the
        # release above rewrote them).
        if released:
            lines = storage.get_lines(shop, order.order_id)
        dead = [
            line
            for line in lines
            if line.reserved_quantity
            and line.mirakl_state in (OrderState.REFUSED, OrderState.CANCELED)
        ]
        if dead:
            with storage.transaction():
                storage.put_lines(
                    attrs.evolve(line, reserved_quantity=0, updated_at=runtime.now())
                    for line in dead
                )
            counts["units_released"] += sum(line.reserved_quantity for line in dead)
        if (
            order.state in (OrderState.REFUSED, OrderState.CANCELED)
            and record.ledger_state != LedgerState.CLOSED
            and not record.sales_order_ref
        ):
            with storage.transaction():
                if order.state == OrderState.REFUSED:
                    # Some operators zero the offers' stock on refusal: push them again.
                    skus = {line.offer_sku for line in order.lines}
                    counts["offers_repushed"] += invalidate_published(runtime, skus)
                _set_ledger_state(runtime, order.order_id, LedgerState.CLOSED)
    executor = _executor(runtime)
    for outcome, n in executor.run(kinds={CREATE_SALES_ORDER, CANCEL_SALES_ORDER}).items():
        counts[f"sales_order_{outcome}"] += n
    return counts
