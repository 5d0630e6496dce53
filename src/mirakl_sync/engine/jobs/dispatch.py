"""Dispatch, refunds and cancellations: what the host app tells the engine, sent to Mirakl.

* A fulfilment (``record_shipment``) is recorded as a ledger event and two outbox items in one
  transaction: OR23 (tracking, when given) and OR24 (ship). OR24 waits until OR23 is confirmed,
  so tracking precedes the shipment in every call history; both are sent at once and retried.
* A return (``record_return``) is one outbox item keyed by the host's return id: exactly one
  OR28 refund per return event, even across crashes and retries (after an ambiguous failure the
  order's refunds are re-read before sending again). Taxes are refunded in proportion when the
  order line has taxes (Mirakl requires them then).
* A cancellation (``record_cancellation``) is OR29 for the whole order or OR30 for some lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, runtime_checkable

import attrs

from mirakl_sync.core.models import FulfilmentEvent, OrderId, OrderLineId, ReturnEvent
from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.engine.outbox import DependencyPending, OutboxExecutor, Verdict
from mirakl_sync.engine.runtime import (
    REFUND_KIND,
    SHIP_KIND,
    SHIPMENT_KIND,
    TRACKING_KIND,
    ShopRuntime,
)
from mirakl_sync.errors import APIError, BadRequestError, ConfigurationError, NotFoundError
from mirakl_sync.mirakl.models import (
    AmountCode,
    CancelationRequest,
    RefundRequest,
    ShipmentCreate,
    ShipmentLineCreate,
    ShipmentTrackingCreate,
)
from mirakl_sync.storage.records import LedgerEvent, OutboxItem, OutboxStatus

__all__ = [
    "CANCEL",
    "CANCEL_LINES",
    "REFUND",
    "SHIP",
    "TRACKING",
    "FulfilmentSource",
    "HostFulfilment",
    "ReturnLine",
    "dispatch",
    "fulfilments",
    "handlers",
    "plan_cancellation",
    "plan_return",
    "plan_shipment",
    "returns",
]

TRACKING = TRACKING_KIND  # "OR23" (the kinds the ledger view reads are defined with it)
SHIP = SHIP_KIND  # "OR24"
SHIPMENT = SHIPMENT_KIND  # "ST01"
REFUND = REFUND_KIND  # "OR28"
CANCEL = "OR29"
CANCEL_LINES = "OR30"
KINDS = frozenset({TRACKING, SHIP, SHIPMENT, REFUND, CANCEL, CANCEL_LINES})
CENT = Decimal("0.01")
#: Tolerance between our clock and Mirakl's when matching a refund to the return that asked it.
CLOCK_SKEW = timedelta(minutes=5)

_SHIPPED = frozenset({"SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED"})


@attrs.frozen(kw_only=True)
class ReturnLine:
    """One line of a host return: the amounts to refund (taxes are added by the engine)."""

    order_line_id: str
    amount: Decimal
    shipping_amount: Decimal = Decimal("0")
    quantity: int = 0


@attrs.frozen(kw_only=True)
class HostFulfilment:
    """A fulfilment as a :class:`FulfilmentSource` reports it."""

    event_id: str
    order_id: str
    line_ids: tuple[str, ...] = ()
    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_url: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None


@runtime_checkable
class FulfilmentSource(Protocol):
    """The host's warehouse, polled by the ``dispatch`` job for new fulfilments."""

    def fulfilments(self, shop: str, since: datetime | None) -> Iterable[HostFulfilment]:
        """Fulfilments created since ``since`` (``None``: all that are still relevant)."""
        ...


def _order_id(item: OutboxItem) -> str:
    payload = item.payload
    assert isinstance(payload, dict)
    return str(payload["order_id"])


def _event(
    runtime: ShopRuntime, event_id: str, order_id: str, kind: str, payload: Mapping[str, Any]
) -> bool:
    return runtime.storage.record_event(
        LedgerEvent(
            shop=runtime.shop,
            event_id=event_id,
            order_id=order_id,
            kind=kind,
            payload=dict(payload),
            recorded_at=runtime.now(),
        )
    )


def _require_order(runtime: ShopRuntime, order_id: str) -> None:
    if runtime.storage.get_order(runtime.shop, order_id) is None:
        raise ConfigurationError(
            f"order {order_id!r} is not in the ledger of shop {runtime.shop!r} (pull it first)"
        )


def _record_fulfilment(runtime: ShopRuntime, fulfilment: HostFulfilment) -> bool:
    """The fulfilment as a ledger event (``False`` when its id was already recorded)."""
    return _event(
        runtime,
        fulfilment.event_id,
        fulfilment.order_id,
        "fulfilment",
        {
            "line_ids": list(fulfilment.line_ids),
            "carrier_code": fulfilment.carrier_code,
            "carrier_name": fulfilment.carrier_name,
            "carrier_url": fulfilment.carrier_url,
            "tracking_number": fulfilment.tracking_number,
            "at": (fulfilment.shipped_at or runtime.now()).isoformat(),
        },
    )


def _multi_shipment(runtime: ShopRuntime) -> bool:
    """Whether the operator enables ST01 multi-shipment (PC01, cached for the day)."""
    try:
        features = runtime.mirakl.platform.configuration().features
    except APIError:
        return False
    return bool(features and features.shipment and features.shipment.multi_shipment)


def _active_lines(runtime: ShopRuntime, order_id: str) -> dict[str, int]:
    return {
        line.line_id: line.quantity
        for line in runtime.storage.get_lines(runtime.shop, order_id)
        if line.mirakl_state not in ("REFUSED", "CANCELED")
    }


def _fulfilled_lines(runtime: ShopRuntime, order_id: str) -> set[str]:
    fulfilled: set[str] = set()
    for event in runtime.storage.list_events(runtime.shop, order_id=order_id):
        if event.kind == "fulfilment" and isinstance(event.payload, dict):
            fulfilled.update(str(x) for x in event.payload.get("line_ids", []))
    return fulfilled


def plan_shipment(runtime: ShopRuntime, fulfilment: HostFulfilment) -> list[str]:
    """Record a fulfilment and plan what Mirakl needs; returns the outbox keys, in order.

    * the whole order (or its last lines): OR23 (when tracking is given) then OR24;
    * some lines only, where the operator enables multi-shipment: one ST01 shipment of those
      lines with their tracking, shipped at once;
    * some lines only, without multi-shipment: recorded, and OR23 + OR24 are planned once every
      line has been fulfilled (Mirakl can only ship a whole order then).
    """
    storage = runtime.storage
    _require_order(runtime, fulfilment.order_id)
    tracked = bool(
        fulfilment.tracking_number or (fulfilment.carrier_url and fulfilment.carrier_name)
    )
    if tracked and not (fulfilment.carrier_code or fulfilment.carrier_name):
        raise ValueError("tracking needs carrier_code (registered carrier) or carrier_name")
    active = _active_lines(runtime, fulfilment.order_id)
    unknown = set(fulfilment.line_ids) - set(active)
    if unknown:
        raise ValueError(f"order {fulfilment.order_id} has no active line {sorted(unknown)}")
    already = _fulfilled_lines(runtime, fulfilment.order_id)
    partial = bool(fulfilment.line_ids) and not set(active) <= set(fulfilment.line_ids) | already
    if fulfilment.line_ids and _multi_shipment(runtime) and (partial or already):
        return _plan_st01(runtime, fulfilment, active)
    keys: list[str] = []
    with storage.transaction():
        fresh = _record_fulfilment(runtime, fulfilment)
        if partial:  # without multi-shipment: wait for the other lines
            return []
        tracking_key = f"{TRACKING}:{fulfilment.order_id}:{fulfilment.event_id}"
        if tracked:
            storage.enqueue(
                runtime.shop,
                tracking_key,
                kind=TRACKING,
                payload={
                    "order_id": fulfilment.order_id,
                    "carrier_code": fulfilment.carrier_code,
                    "carrier_name": fulfilment.carrier_name,
                    "carrier_url": fulfilment.carrier_url,
                    "tracking_number": fulfilment.tracking_number,
                },
                now=runtime.now(),
            )
            keys.append(tracking_key)
        ship_key = f"{SHIP}:{fulfilment.order_id}"
        storage.enqueue(
            runtime.shop,
            ship_key,
            kind=SHIP,
            payload={
                "order_id": fulfilment.order_id,
                "after": tracking_key if tracked else None,
            },
            now=runtime.now(),
        )
        keys.append(ship_key)
    if fresh:
        crash_point("outbox.after_enqueue")
    return keys


def _plan_st01(
    runtime: ShopRuntime, fulfilment: HostFulfilment, active: Mapping[str, int]
) -> list[str]:
    key = f"{SHIPMENT}:{fulfilment.order_id}:{fulfilment.event_id}"
    payload: dict[str, Any] = {
        "order_id": fulfilment.order_id,
        "lines": [[line_id, active[line_id]] for line_id in sorted(fulfilment.line_ids)],
        "carrier_code": fulfilment.carrier_code,
        "carrier_name": fulfilment.carrier_name,
        "carrier_url": fulfilment.carrier_url,
        "tracking_number": fulfilment.tracking_number,
    }
    with runtime.storage.transaction():
        fresh = _record_fulfilment(runtime, fulfilment)
        runtime.storage.enqueue(
            runtime.shop, key, kind=SHIPMENT, payload=payload, now=runtime.now()
        )
    if fresh:
        crash_point("outbox.after_enqueue")
    return [key]


@attrs.define
class ShipmentHandler:
    """ST01: one shipment of some lines, with its tracking, shipped at once. Verified with ST11
    (a shipment of the order holding these lines)."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        p = item.payload
        assert isinstance(p, dict)
        tracking = None
        if p.get("carrier_code") or p.get("carrier_name"):
            tracking = ShipmentTrackingCreate(
                carrier_code=p.get("carrier_code"),
                carrier_name=p.get("carrier_name"),
                tracking_number=p.get("tracking_number"),
                tracking_url=p.get("carrier_url"),
            )
        shipment = ShipmentCreate(
            order_id=str(p["order_id"]),
            shipment_lines=tuple(
                ShipmentLineCreate(order_line_id=str(line_id), quantity=int(quantity))
                for line_id, quantity in p["lines"]
            ),
            tracking=tracking,
            shipped=True,
        )
        result = self.runtime.mirakl.shipments.create([shipment])
        if result.shipment_errors:
            message = "; ".join(str(e.message) for e in result.shipment_errors)
            raise BadRequestError(
                f"ST01 refused the shipment: {message}", status_code=400, operation="ST01"
            )
        return {"shipment_ids": [str(s.id) for s in result.shipment_success if s.id]}

    def verify(self, item: OutboxItem) -> Verdict:
        p = item.payload
        assert isinstance(p, dict)
        wanted = {str(line_id) for line_id, _ in p["lines"]}
        for shipment in self.runtime.mirakl.shipments.list(order_ids=[str(p["order_id"])]):
            lines = {str(line.order_line_id) for line in shipment.shipment_lines}
            tracking = shipment.tracking.tracking_number if shipment.tracking else None
            if wanted <= lines and tracking == p.get("tracking_number"):
                return Verdict.APPLIED
        return Verdict.NOT_APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        return None

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


def _line_map(order: Any) -> dict[str, Any]:
    return {line.order_line_id: line for line in order.order_lines}


def _proportional_taxes(
    taxes: Sequence[Any], part: Decimal, whole: Decimal | None
) -> tuple[AmountCode, ...] | None:
    if not taxes or not whole:
        return None
    ratio = part / whole
    return (
        tuple(
            AmountCode(code=str(t.code), amount=(t.amount * ratio).quantize(CENT, ROUND_HALF_UP))
            for t in taxes
            if t.code and t.amount is not None
        )
        or None
    )


def plan_return(
    runtime: ShopRuntime,
    order_id: str,
    lines: Sequence[ReturnLine],
    *,
    return_id: str,
    reason_code: str,
    currency: str | None = None,
) -> str:
    """Record a host return and plan its OR28 refund (key ``OR28:<return id>``)."""
    if not lines:
        raise ValueError("a return needs at least one line")
    _require_order(runtime, order_id)
    key = f"{REFUND}:{return_id}"
    payload: dict[str, Any] = {
        "order_id": order_id,
        "return_id": return_id,
        "reason_code": reason_code,
        "currency": currency,
        "lines": [
            {
                "order_line_id": line.order_line_id,
                "amount": str(line.amount),
                "shipping_amount": str(line.shipping_amount),
                "quantity": line.quantity,
            }
            for line in lines
        ],
    }
    with runtime.storage.transaction():
        fresh = _event(runtime, f"return:{return_id}", order_id, "return", payload)
        runtime.storage.enqueue(runtime.shop, key, kind=REFUND, payload=payload, now=runtime.now())
    if fresh:
        crash_point("outbox.after_enqueue")
    return key


def plan_cancellation(
    runtime: ShopRuntime,
    order_id: str,
    *,
    lines: Sequence[str] | None,
    reason_code: str | None,
    cancel_id: str | None,
) -> str:
    """Plan OR29 (whole order) or OR30 (these lines, full amounts)."""
    _require_order(runtime, order_id)
    if lines:
        if not reason_code:
            raise ValueError("cancelling lines (OR30) needs a reason_code (RE01 CANCELATION)")
        ident = (
            cancel_id
            or hashlib.sha256(json.dumps([order_id, sorted(lines)]).encode()).hexdigest()[:16]
        )
        key = f"{CANCEL_LINES}:{order_id}:{ident}"
        kind = CANCEL_LINES
        payload: dict[str, Any] = {
            "order_id": order_id,
            "lines": sorted(lines),
            "reason_code": reason_code,
        }
    else:
        key, kind, payload = f"{CANCEL}:{order_id}", CANCEL, {"order_id": order_id}
    with runtime.storage.transaction():
        _event(runtime, f"cancel:{key}", order_id, "cancellation", payload)
        runtime.storage.enqueue(runtime.shop, key, kind=kind, payload=payload, now=runtime.now())
    return key


# -- handlers ------------------------------------------------------------------------------


@attrs.define
class TrackingHandler:
    """OR23; verified by reading the order's tracking number."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        p = item.payload
        assert isinstance(p, dict)
        self.runtime.mirakl.orders.update_tracking(
            str(p["order_id"]),
            carrier_code=p.get("carrier_code"),
            carrier_name=p.get("carrier_name"),
            carrier_url=p.get("carrier_url"),
            tracking_number=p.get("tracking_number"),
        )
        return None

    def verify(self, item: OutboxItem) -> Verdict:
        p = item.payload
        assert isinstance(p, dict)
        try:
            order = self.runtime.mirakl.orders.get(str(p["order_id"]))
        except NotFoundError:
            return Verdict.UNKNOWN
        if p.get("tracking_number") and order.shipping_tracking == p.get("tracking_number"):
            return Verdict.APPLIED
        if str(order.order_state) in ("CANCELED", "REFUSED"):
            return Verdict.REFUSED
        return Verdict.NOT_APPLIED  # setting the same tracking again is harmless

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        return None

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


@attrs.define
class ShipHandler:
    """OR24 once its OR23 (if any) is confirmed; verified by the order state."""

    runtime: ShopRuntime

    def ready(self, item: OutboxItem) -> bool:
        """Tracking first: OR24 waits until its OR23 is confirmed."""
        p = item.payload
        assert isinstance(p, dict)
        after = p.get("after")
        if not after:
            return True
        tracking = self.runtime.storage.get_item(self.runtime.shop, str(after))
        return tracking is not None and tracking.status == OutboxStatus.CONFIRMED

    def send(self, item: OutboxItem) -> Any:
        if not self.ready(item):
            raise DependencyPending("tracking (OR23) is not confirmed yet")
        self.runtime.mirakl.orders.ship(_order_id(item))
        return None

    def verify(self, item: OutboxItem) -> Verdict:
        try:
            order = self.runtime.mirakl.orders.get(_order_id(item))
        except NotFoundError:
            return Verdict.UNKNOWN
        state = str(order.order_state)
        if state in _SHIPPED:
            return Verdict.APPLIED
        if state in ("CANCELED", "REFUSED"):
            return Verdict.REFUSED
        return Verdict.NOT_APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        return None

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


def _recorded_refund_ids(runtime: ShopRuntime, order_id: str) -> set[str]:
    ids: set[str] = set()
    for event in runtime.storage.list_events(runtime.shop, order_id=order_id):
        if event.kind == "refund_done" and isinstance(event.payload, dict):
            ids.update(str(i) for i in event.payload.get("refund_ids", []))
    return ids


@attrs.define
class RefundHandler:
    """OR28 for one return event. Verification: a refund on each line with the same amounts,
    not already attributed to another return event, means it was applied."""

    runtime: ShopRuntime

    def _requests(self, item: OutboxItem) -> list[RefundRequest]:
        p = item.payload
        assert isinstance(p, dict)
        order = self.runtime.mirakl.orders.get(str(p["order_id"]))
        lines = _line_map(order)
        requests = []
        for line in p["lines"]:
            amount = Decimal(line["amount"])
            shipping = Decimal(line["shipping_amount"])
            wire = lines.get(line["order_line_id"])
            taxes = _proportional_taxes(wire.taxes, amount, wire.price) if wire else None
            shipping_taxes = (
                _proportional_taxes(wire.shipping_taxes, shipping, wire.shipping_price)
                if wire and shipping
                else None
            )
            requests.append(
                RefundRequest(
                    order_line_id=str(line["order_line_id"]),
                    amount=amount,
                    shipping_amount=shipping,
                    reason_code=str(p["reason_code"]),
                    quantity=int(line.get("quantity") or 0) or None,
                    currency_iso_code=p.get("currency") or order.currency_iso_code,
                    taxes=taxes,
                    shipping_taxes=shipping_taxes,
                )
            )
        return requests

    def send(self, item: OutboxItem) -> Any:
        result = self.runtime.mirakl.orders.refund(self._requests(item))
        return {"refund_ids": [str(r.refund_id) for r in result.refunds]}

    def verify(self, item: OutboxItem) -> Verdict:
        p = item.payload
        assert isinstance(p, dict)
        try:
            order = self.runtime.mirakl.orders.get(str(p["order_id"]))
        except NotFoundError:
            return Verdict.UNKNOWN
        taken = _recorded_refund_ids(self.runtime, str(p["order_id"]))
        lines = _line_map(order)
        # Mirakl stamps refunds with its own clock, to the millisecond: allow for skew.
        not_before = item.created_at - CLOCK_SKEW
        for line in p["lines"]:
            wire = lines.get(line["order_line_id"])
            if wire is None:
                return Verdict.UNKNOWN
            amount, shipping = Decimal(line["amount"]), Decimal(line["shipping_amount"])
            match = [
                r
                for r in wire.refunds
                if str(r.id) not in taken
                and r.amount == amount
                and (r.shipping_amount or Decimal(0)) == shipping
                and (r.created_date is None or r.created_date >= not_before)
            ]
            if not match:
                return Verdict.NOT_APPLIED
        return Verdict.APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        p = item.payload
        assert isinstance(p, dict)
        ids = result.get("refund_ids", []) if isinstance(result, dict) else []
        _event(
            self.runtime,
            f"refund_done:{p['return_id']}",
            str(p["order_id"]),
            "refund_done",
            {"return_id": p["return_id"], "refund_ids": ids},
        )

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


@attrs.define
class CancelHandler:
    """OR29 (whole order) / OR30 (lines); verified by the order or line states."""

    runtime: ShopRuntime

    def send(self, item: OutboxItem) -> Any:
        p = item.payload
        assert isinstance(p, dict)
        order_id = str(p["order_id"])
        if item.kind == CANCEL:
            self.runtime.mirakl.orders.cancel(order_id)
            return None
        order = self.runtime.mirakl.orders.get(order_id)
        lines = _line_map(order)
        cancelations = []
        for line_id in p["lines"]:
            wire = lines[line_id]
            cancelations.append(
                CancelationRequest(
                    order_line_id=line_id,
                    quantity=wire.quantity or 0,
                    amount=wire.price or Decimal(0),
                    shipping_amount=wire.shipping_price or Decimal(0),
                    reason_code=str(p["reason_code"]),
                    currency_iso_code=order.currency_iso_code,
                    taxes=_proportional_taxes(wire.taxes, wire.price or Decimal(0), wire.price),
                    shipping_taxes=_proportional_taxes(
                        wire.shipping_taxes, wire.shipping_price or Decimal(0), wire.shipping_price
                    ),
                )
            )
        self.runtime.mirakl.orders.cancel_lines(cancelations)
        return None

    def verify(self, item: OutboxItem) -> Verdict:
        p = item.payload
        assert isinstance(p, dict)
        try:
            order = self.runtime.mirakl.orders.get(str(p["order_id"]))
        except NotFoundError:
            return Verdict.UNKNOWN
        if item.kind == CANCEL:
            return Verdict.APPLIED if str(order.order_state) == "CANCELED" else Verdict.NOT_APPLIED
        lines = _line_map(order)
        done = all(
            line_id in lines
            and (str(lines[line_id].order_line_state) == "CANCELED" or lines[line_id].cancelations)
            for line_id in p["lines"]
        )
        return Verdict.APPLIED if done else Verdict.NOT_APPLIED

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        return None

    def failed(self, item: OutboxItem, reason: str) -> None:
        return None


def handlers(runtime: ShopRuntime) -> dict[str, Any]:
    cancel = CancelHandler(runtime)
    return {
        TRACKING: TrackingHandler(runtime),
        SHIP: ShipHandler(runtime),
        SHIPMENT: ShipmentHandler(runtime),
        REFUND: RefundHandler(runtime),
        CANCEL: cancel,
        CANCEL_LINES: cancel,
    }


def executor(runtime: ShopRuntime) -> OutboxExecutor:
    return OutboxExecutor(
        storage=runtime.storage,
        shop=runtime.shop,
        worker=runtime.worker,
        now=runtime.now,
        handlers=handlers(runtime),
    )


def send_now(runtime: ShopRuntime, keys: Iterable[str]) -> dict[str, str | None]:
    """Send planned items right away, in order (OR23 before OR24)."""
    run = executor(runtime)
    return {key: run.run_one(key) for key in keys}


def dispatch(runtime: ShopRuntime, source: FulfilmentSource | None = None) -> Counter[str]:
    """Job "dispatch": new fulfilments from the source, then every due OR23/OR24/OR28/OR29/OR30
    item (retries of earlier failures included)."""
    counts: Counter[str] = Counter()
    if source is not None:
        checkpoint = runtime.storage.get_checkpoint(runtime.shop, "fulfilments")
        since = (
            datetime.fromisoformat(str(checkpoint.cursor["since"]))
            if checkpoint is not None and isinstance(checkpoint.cursor, dict)
            else None
        )
        started = runtime.now()
        for fulfilment in source.fulfilments(runtime.shop, since):
            if runtime.storage.get_order(runtime.shop, fulfilment.order_id) is None:
                counts["fulfilments_unknown_order"] += 1
                continue
            plan_shipment(runtime, fulfilment)
            counts["fulfilments"] += 1
        runtime.storage.set_checkpoint(
            runtime.shop, "fulfilments", {"since": started.isoformat()}, now=started
        )
    for outcome, n in executor(runtime).run(kinds=set(KINDS)).items():
        counts[f"sent_{outcome}"] += n
    return counts


def fulfilments(runtime: ShopRuntime) -> tuple[FulfilmentEvent, ...]:
    """The host fulfilments in the ledger, as the core's events (for the detectors)."""
    out = []
    for event in runtime.storage.list_events(runtime.shop):
        if event.kind != "fulfilment" or not isinstance(event.payload, dict):
            continue
        p = event.payload
        out.append(
            FulfilmentEvent(
                event_id=event.event_id,
                order_id=OrderId(event.order_id),
                at=datetime.fromisoformat(str(p["at"])),
                line_ids=tuple(OrderLineId(x) for x in p.get("line_ids", [])),
                carrier_code=p.get("carrier_code"),
                carrier_name=p.get("carrier_name"),
                tracking_number=p.get("tracking_number"),
                tracking_url=p.get("carrier_url"),
            )
        )
    return tuple(out)


def returns(runtime: ShopRuntime) -> tuple[ReturnEvent, ...]:
    """The host returns in the ledger, one core event per returned line."""
    out = []
    for event in runtime.storage.list_events(runtime.shop):
        if event.kind != "return" or not isinstance(event.payload, dict):
            continue
        p = event.payload
        for line in p.get("lines", []):
            out.append(
                ReturnEvent(
                    return_id=str(p["return_id"]),
                    order_id=OrderId(event.order_id),
                    line_id=OrderLineId(line["order_line_id"]),
                    at=event.recorded_at,
                    amount=Decimal(line["amount"]),
                    shipping_amount=Decimal(line["shipping_amount"]),
                    quantity=int(line.get("quantity") or 0),
                    reason_code=p.get("reason_code"),
                )
            )
    return tuple(out)
