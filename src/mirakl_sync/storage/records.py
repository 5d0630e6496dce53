"""The records storage reads and writes.

Every record is a frozen attrs class: storage stores them, it does not decide anything about them.
Conventions shared by every backend:

* timestamps are timezone-aware UTC ``datetime`` objects (a naive datetime is refused, another
  timezone is converted to UTC);
* money is ``Decimal`` and comes back exactly as written (``Decimal("12.50")`` stays ``12.50``);
* payloads (``payload``, ``data``, ``details``, ``counts``...) are JSON values: ``None``, ``bool``,
  ``int``, ``str``, ``Decimal``, lists and string-keyed dicts. A ``float`` is accepted but comes
  back as a ``Decimal`` with the same decimal digits; tuples come back as lists;
* identifiers (shop keys, order ids, SKUs, outbox keys...) are strings of at most
  :data:`MAX_ID_LENGTH` characters (:data:`MAX_SHOP_LENGTH` for shop keys) with no NUL character;
  free text (cursors, error messages, payloads) has no limit and round-trips exactly;
* everything is scoped by a ``shop`` key, so one database serves many shops.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import attrs

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_SHOP_LENGTH",
    "AlertDelivery",
    "Checkpoint",
    "DiscrepancyRecord",
    "DiscrepancyStatus",
    "JSONValue",
    "JobLease",
    "LedgerEvent",
    "LedgerLine",
    "LedgerOrder",
    "MappingRecord",
    "OutboxItem",
    "OutboxStatus",
    "PendingImport",
    "PublishedStock",
    "RunRecord",
]

#: Longest identifier (order id, SKU, outbox key, flow, job, worker...), in characters.
MAX_ID_LENGTH = 255
#: Longest shop key, in characters.
MAX_SHOP_LENGTH = 128

JSONValue: TypeAlias = (
    "bool | int | float | Decimal | str | Sequence[JSONValue] | Mapping[str, JSONValue] | None"
)
"""A JSON-compatible value. Floats are read back as ``Decimal``; sequences as lists."""


class OutboxStatus(enum.StrEnum):
    """Where an outbox item is in its life.

    ``PLANNED -> SENT -> CONFIRMED | FAILED | PARKED``; a PLANNED item may also go straight to
    FAILED or PARKED (it failed before anything left the process); FAILED and PARKED items can be
    re-planned with a next attempt time.
    """

    PLANNED = "PLANNED"
    SENT = "SENT"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    PARKED = "PARKED"


class DiscrepancyStatus(enum.StrEnum):
    """Whether a discrepancy is still observed."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


@attrs.frozen(kw_only=True)
class Checkpoint:
    """The cursor of one flow for one shop (e.g. the OR11 watermark or completed slices)."""

    shop: str
    flow: str
    cursor: JSONValue
    updated_at: datetime


@attrs.frozen(kw_only=True)
class LedgerOrder:
    """One Mirakl order as the ledger knows it.

    Attributes:
        mirakl_state: the Mirakl order state last seen (``WAITING_ACCEPTANCE``...).
        mirakl_updated_at: Mirakl's ``last_updated_date`` of the version last processed; with
            ``order_id`` it is the natural key that makes reprocessing a version a no-op.
        ledger_state: the engine's own state for the order (free string, the engine decides).
        sales_order_ref: the host inventory system's sales order reference, once created.
        total_price, commission: money as ``Decimal``.
        data: any extra JSON the engine keeps (customer country, currency, deadline...).
    """

    shop: str
    order_id: str
    mirakl_state: str
    ledger_state: str
    mirakl_updated_at: datetime | None = None
    sales_order_ref: str | None = None
    total_price: Decimal | None = None
    commission: Decimal | None = None
    data: JSONValue = None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class LedgerLine:
    """One order line in the ledger.

    Attributes:
        reserved_quantity: the soft reservation this line holds against ``offer_sku`` (stock the
            inventory system has not deducted yet).
        feed_status: where the line is in the Inventory Planner sales feed (``None`` when not
            yet due; the engine decides the values, e.g. ``PENDING``/``EXPORTED``).
    """

    shop: str
    order_id: str
    line_id: str
    offer_sku: str
    quantity: int
    mirakl_state: str
    ledger_state: str
    price: Decimal | None = None
    reserved_quantity: int = 0
    feed_status: str | None = None
    data: JSONValue = None
    updated_at: datetime


@attrs.frozen(kw_only=True)
class LedgerEvent:
    """An event from the host application about an order (a shipment, a refund...).

    ``event_id`` is the host's idempotency key: recording the same event twice is a no-op.
    """

    shop: str
    event_id: str
    order_id: str
    kind: str
    payload: JSONValue = None
    recorded_at: datetime


@attrs.frozen(kw_only=True)
class OutboxItem:
    """An intended side effect (a remote write) with a deterministic ``key``, unique per shop.

    Attributes:
        id: a backend-assigned increasing number (claim order tie-breaker).
        kind: what the effect is (``accept``, ``stock``, ``tracking``...).
        attempts: how many times the item was claimed.
        next_attempt_at: the item is not claimable before this time (``None``: not scheduled,
            for FAILED and PARKED items).
        lease_owner, lease_expires_at: the worker holding the item, and until when.
    """

    id: int
    shop: str
    key: str
    kind: str
    payload: JSONValue = None
    status: OutboxStatus = OutboxStatus.PLANNED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class PublishedStock:
    """The last quantity confirmed on Mirakl for one offer (and warehouse; ``""`` for none)."""

    shop: str
    offer_sku: str
    warehouse: str = ""
    quantity: int
    content_hash: str
    confirmed_at: datetime


@attrs.frozen(kw_only=True)
class PendingImport:
    """A submitted stock/offer import (STO01/OF01) awaiting its report.

    ``lines`` holds what was pushed (e.g. ``{"SKU-1": 4}``) so lines can be confirmed one by one
    when the report arrives; ``status`` is the engine's view (free string).
    """

    shop: str
    import_id: str
    kind: str
    status: str
    lines: JSONValue = None
    error: str | None = None
    submitted_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class MappingRecord:
    """An explicit offer -> inventory item mapping.

    ``components`` is a tuple of ``(item_sku, quantity)`` pairs: one pair with quantity 1 for a
    plain mapping, one pair with quantity k for a k-pack, several pairs for a bundle.
    """

    shop: str
    offer_sku: str
    components: tuple[tuple[str, int], ...]
    source: str = "manual"
    updated_at: datetime


@attrs.frozen(kw_only=True)
class DiscrepancyRecord:
    """A discrepancy, deduplicated by its stable ``key`` within a shop."""

    shop: str
    key: str
    kind: str
    severity: str
    status: DiscrepancyStatus = DiscrepancyStatus.OPEN
    details: JSONValue = None
    first_seen: datetime
    last_seen: datetime
    occurrences: int = 1
    resolved_at: datetime | None = None


@attrs.frozen(kw_only=True)
class AlertDelivery:
    """Delivery state of the alert for one discrepancy through one sink."""

    shop: str
    discrepancy_key: str
    sink: str
    status: str
    attempts: int = 0
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


@attrs.frozen(kw_only=True)
class RunRecord:
    """One run of one job for one shop, for the health report.

    ``outcome`` is ``None`` while running, then a free string (``success``, ``failed``...);
    ``counts`` maps counter names to integers.
    """

    shop: str
    run_id: str
    job: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str | None = None
    counts: Mapping[str, int] = attrs.field(factory=dict)
    error: str | None = None


@attrs.frozen(kw_only=True)
class JobLease:
    """Who runs a per-shop job, and until when."""

    shop: str
    job: str
    owner: str
    acquired_at: datetime
    expires_at: datetime
