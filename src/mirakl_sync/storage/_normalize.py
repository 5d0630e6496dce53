"""Validate and normalise records before a backend stores them (internal).

Every backend calls these, so every backend accepts and refuses the same values, and timestamps
are always stored in UTC.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from mirakl_sync.storage._codec import (
    check_components,
    check_count,
    check_decimal,
    check_id,
    check_optional_id,
    check_shop,
    check_text,
    dumps,
    optional_utc,
    utc,
)
from mirakl_sync.storage.errors import InvalidValueError
from mirakl_sync.storage.records import (
    AlertDelivery,
    DiscrepancyStatus,
    JSONValue,
    LedgerEvent,
    LedgerLine,
    LedgerOrder,
    MappingRecord,
    OutboxStatus,
    PendingImport,
    PublishedStock,
)

__all__ = [
    "check_discrepancy_status",
    "check_json",
    "check_limit",
    "check_statuses",
    "norm_counts",
    "norm_delivery",
    "norm_event",
    "norm_line",
    "norm_mapping",
    "norm_order",
    "norm_pending",
    "norm_published",
    "published_values",
    "str_filter",
]


def check_json(value: JSONValue) -> str:
    """Encode a JSON value (raises :class:`InvalidValueError` when it is not one)."""
    return dumps(value)


def check_limit(limit: int | None) -> int | None:
    """Validate an optional row limit (a positive int)."""
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise InvalidValueError(f"limit must be a positive int, got {limit!r}")
    return limit


def str_filter(field: str, values: Collection[str] | None) -> list[str] | None:
    """Validate an optional collection of identifiers used as a filter (sorted copy)."""
    if values is None:
        return None
    if isinstance(values, str):
        raise InvalidValueError(f"{field} must be a collection of str, not a str")
    return sorted({check_id(field, v, allow_empty=True) for v in values})


def check_statuses(values: Collection[OutboxStatus] | None) -> list[OutboxStatus] | None:
    """Validate an optional collection of outbox statuses."""
    if values is None:
        return None
    if isinstance(values, str) and not isinstance(values, OutboxStatus):
        raise InvalidValueError("statuses must be a collection of OutboxStatus")
    if isinstance(values, OutboxStatus):
        values = [values]
    try:
        return sorted({OutboxStatus(v) for v in values})
    except ValueError as exc:
        raise InvalidValueError(str(exc)) from exc


def check_discrepancy_status(value: DiscrepancyStatus | None) -> DiscrepancyStatus | None:
    """Validate an optional discrepancy status."""
    if value is None:
        return None
    try:
        return DiscrepancyStatus(value)
    except ValueError as exc:
        raise InvalidValueError(str(exc)) from exc


def norm_counts(counts: Mapping[str, int] | None) -> dict[str, int]:
    """Validate run counters: identifier names, int values."""
    if counts is None:
        return {}
    if not isinstance(counts, Mapping):
        raise InvalidValueError("counts must be a mapping of str to int")
    return {
        check_id("counter name", k): check_count(f"counts[{k!r}]", v, minimum=None)
        for k, v in counts.items()
    }


def norm_order(order: LedgerOrder) -> LedgerOrder:
    """Validate a ledger order; timestamps in UTC."""
    if not isinstance(order, LedgerOrder):
        raise InvalidValueError(f"expected a LedgerOrder, not {type(order).__name__}")
    check_json(order.data)
    return LedgerOrder(
        shop=check_shop(order.shop),
        order_id=check_id("order_id", order.order_id),
        mirakl_state=check_id("mirakl_state", order.mirakl_state, allow_empty=True),
        ledger_state=check_id("ledger_state", order.ledger_state, allow_empty=True),
        mirakl_updated_at=optional_utc(order.mirakl_updated_at, "mirakl_updated_at"),
        sales_order_ref=check_optional_id("sales_order_ref", order.sales_order_ref),
        total_price=check_decimal("total_price", order.total_price),
        commission=check_decimal("commission", order.commission),
        data=order.data,
        created_at=utc(order.created_at, "created_at"),
        updated_at=utc(order.updated_at, "updated_at"),
    )


def norm_line(line: LedgerLine) -> LedgerLine:
    """Validate a ledger line; timestamps in UTC."""
    if not isinstance(line, LedgerLine):
        raise InvalidValueError(f"expected a LedgerLine, not {type(line).__name__}")
    check_json(line.data)
    return LedgerLine(
        shop=check_shop(line.shop),
        order_id=check_id("order_id", line.order_id),
        line_id=check_id("line_id", line.line_id),
        offer_sku=check_id("offer_sku", line.offer_sku),
        quantity=check_count("quantity", line.quantity),
        mirakl_state=check_id("mirakl_state", line.mirakl_state, allow_empty=True),
        ledger_state=check_id("ledger_state", line.ledger_state, allow_empty=True),
        price=check_decimal("price", line.price),
        reserved_quantity=check_count("reserved_quantity", line.reserved_quantity),
        feed_status=check_optional_id("feed_status", line.feed_status),
        data=line.data,
        updated_at=utc(line.updated_at, "updated_at"),
    )


def norm_event(event: LedgerEvent) -> LedgerEvent:
    """Validate a ledger event; timestamps in UTC."""
    if not isinstance(event, LedgerEvent):
        raise InvalidValueError(f"expected a LedgerEvent, not {type(event).__name__}")
    check_json(event.payload)
    return LedgerEvent(
        shop=check_shop(event.shop),
        event_id=check_id("event_id", event.event_id),
        order_id=check_id("order_id", event.order_id),
        kind=check_id("kind", event.kind),
        payload=event.payload,
        recorded_at=utc(event.recorded_at, "recorded_at"),
    )


def norm_published(record: PublishedStock) -> PublishedStock:
    """Validate a published stock row; timestamps in UTC."""
    if not isinstance(record, PublishedStock):
        raise InvalidValueError(f"expected a PublishedStock, not {type(record).__name__}")
    return PublishedStock(
        shop=check_shop(record.shop),
        offer_sku=check_id("offer_sku", record.offer_sku),
        warehouse=check_id("warehouse", record.warehouse, allow_empty=True),
        quantity=check_count("quantity", record.quantity),
        content_hash=check_id("content_hash", record.content_hash, allow_empty=True),
        confirmed_at=utc(record.confirmed_at, "confirmed_at"),
    )


def published_values(record: PublishedStock) -> tuple[str, str, str, int, str, datetime]:
    """Validate a published stock row and return its values (fast path for bulk writes; the
    timestamp is returned as given: the caller converts it with :func:`utc`)."""
    if not isinstance(record, PublishedStock):
        raise InvalidValueError(f"expected a PublishedStock, not {type(record).__name__}")
    return (
        check_shop(record.shop),
        check_id("offer_sku", record.offer_sku),
        check_id("warehouse", record.warehouse, allow_empty=True),
        check_count("quantity", record.quantity),
        check_id("content_hash", record.content_hash, allow_empty=True),
        record.confirmed_at,
    )


def norm_pending(pending: PendingImport) -> PendingImport:
    """Validate a pending import; timestamps in UTC."""
    if not isinstance(pending, PendingImport):
        raise InvalidValueError(f"expected a PendingImport, not {type(pending).__name__}")
    check_json(pending.lines)
    return PendingImport(
        shop=check_shop(pending.shop),
        import_id=check_id("import_id", pending.import_id),
        kind=check_id("kind", pending.kind),
        status=check_id("status", pending.status),
        lines=pending.lines,
        error=check_text("error", pending.error),
        submitted_at=utc(pending.submitted_at, "submitted_at"),
        updated_at=utc(pending.updated_at, "updated_at"),
    )


def norm_mapping(mapping: MappingRecord) -> MappingRecord:
    """Validate a mapping; timestamps in UTC."""
    if not isinstance(mapping, MappingRecord):
        raise InvalidValueError(f"expected a MappingRecord, not {type(mapping).__name__}")
    return MappingRecord(
        shop=check_shop(mapping.shop),
        offer_sku=check_id("offer_sku", mapping.offer_sku),
        components=check_components(mapping.components),
        source=check_id("source", mapping.source, allow_empty=True),
        updated_at=utc(mapping.updated_at, "updated_at"),
    )


def norm_delivery(delivery: AlertDelivery) -> AlertDelivery:
    """Validate an alert delivery state; timestamps in UTC."""
    if not isinstance(delivery, AlertDelivery):
        raise InvalidValueError(f"expected an AlertDelivery, not {type(delivery).__name__}")
    return AlertDelivery(
        shop=check_shop(delivery.shop),
        discrepancy_key=check_id("discrepancy_key", delivery.discrepancy_key),
        sink=check_id("sink", delivery.sink),
        status=check_id("status", delivery.status),
        attempts=check_count("attempts", delivery.attempts),
        last_attempt_at=optional_utc(delivery.last_attempt_at, "last_attempt_at"),
        delivered_at=optional_utc(delivery.delivered_at, "delivered_at"),
        last_error=check_text("last_error", delivery.last_error),
    )
