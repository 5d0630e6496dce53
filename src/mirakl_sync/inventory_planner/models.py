"""Typed Inventory Planner (IP) models: variants with per-warehouse blocks, warehouses, vendors,
purchase orders and their items, webhooks, and the request objects for writes.

All models are frozen attrs classes without serialisation logic (the wire rules live in
``_converter.py``). They are tolerant: unknown JSON fields are ignored (a :class:`Variant` keeps
them in ``extra``, since ``fields=`` can ask for any of IP's 200+ metrics), ``null`` means
"absent", and unknown purchase-order statuses stay plain strings.

**Quantities.** IP serialises stock and planning quantities as JSON numbers that may be floats
(``"in_stock": 12.0``, ``"forecasted_stock": -0.05``), and stock can legitimately be fractional
(units sold by weight) or negative (the Advanced connector's ``IN_STOCK`` is a FLOAT of
*available* stock). They are therefore read as exact :class:`~decimal.Decimal` values, never
binary floats and never silently truncated; :func:`whole_units` turns one into an ``int`` with an
explicit rounding rule (floor by default, so stock is never overstated). Quantities *written* to
IP (purchase-order lines, received quantities) are whole ``int`` units and validated as such.

**Ids** are strings (IP answers ``"id": "1234"`` and hexadecimal purchase-order ids); numeric ids
from a server are accepted and turned into strings.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, NewType

import attrs

__all__ = [
    "Meta",
    "NewPurchaseOrderLine",
    "PurchaseOrder",
    "PurchaseOrderCreate",
    "PurchaseOrderId",
    "PurchaseOrderItem",
    "PurchaseOrderStatus",
    "PurchaseOrderUpdate",
    "ReplenishmentSuggestion",
    "Variant",
    "VariantConnection",
    "VariantId",
    "VariantUpdate",
    "VariantVendor",
    "Vendor",
    "VendorCost",
    "Warehouse",
    "WarehouseBlock",
    "Webhook",
    "WebhookCreate",
    "status_matches",
    "whole_units",
]

VariantId = NewType("VariantId", str)
"""An Inventory Planner variant id (not a Mirakl offer SKU)."""
PurchaseOrderId = NewType("PurchaseOrderId", str)
"""An Inventory Planner purchase-order (stock order) id."""

Rounding = Literal["floor", "ceil", "nearest"]
_ROUNDING = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}


def whole_units(quantity: Decimal | int | float | None, rounding: Rounding = "floor") -> int:
    """An IP quantity as whole units.

    ``floor`` (default) never overstates stock (``2.7 -> 2``, ``-0.5 -> -1``); ``ceil`` never
    understates a need (replenishment); ``nearest`` rounds half to even. ``None`` is 0.
    """
    if quantity is None:
        return 0
    if isinstance(quantity, bool):
        raise TypeError("a quantity cannot be a boolean")
    if isinstance(quantity, float):
        if not math.isfinite(quantity):
            raise ValueError(f"not a finite quantity: {quantity!r}")
        quantity = Decimal(str(quantity))
    value = Decimal(quantity)
    return int(value.to_integral_value(rounding=_ROUNDING[rounding]))


class PurchaseOrderStatus(enum.StrEnum):
    """IP's five default stock-order statuses, in the lower-case form IP returns.

    IP answers ``open`` but accepts ``OPEN``; the Starter CSV writes ``partially_received`` and
    the UI ``PARTIALLY RECEIVED``. Lookup is case-insensitive and treats spaces, hyphens and
    underscores alike (``PurchaseOrderStatus("PARTIALLY RECEIVED")`` works). Accounts can add
    custom statuses: those stay plain strings in :attr:`PurchaseOrder.status`.
    """

    OPEN = "open"
    DRAFT = "draft"
    PARTIALLY_RECEIVED = "partially_received"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @classmethod
    def _missing_(cls, value: object) -> PurchaseOrderStatus | None:
        if isinstance(value, str):
            key = _status_key(value)
            for member in cls:
                if member.value == key:
                    return member
        return None


def _status_key(value: str) -> str:
    key = "_".join(value.strip().lower().replace("-", " ").replace("_", " ").split())
    return "cancelled" if key == "canceled" else key


def status_matches(
    status: PurchaseOrderStatus | str | None, *wanted: PurchaseOrderStatus | str
) -> bool:
    """Case-insensitive status comparison (``"OPEN"``, ``"open"`` and ``OPEN`` are equal)."""
    if status is None:
        return False
    key = _status_key(str(status))
    return any(key == _status_key(str(w)) for w in wanted)


@attrs.frozen(kw_only=True)
class Meta:
    """The ``meta`` envelope of a list response (``page`` is 0-based)."""

    name: str | None = None
    display_name: str | None = None
    total: int | None = None
    count: int | None = None
    limit: int | None = None
    page: int | None = None
    start: int | None = None
    end: int | None = None


# --------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class WarehouseBlock:
    """A variant's planning data in one warehouse (an item of the variant's ``warehouse`` list).

    ``warehouse`` is the warehouse id (a :attr:`Warehouse.name`). The per-block stock field is
    read from ``in_stock`` (IP's name everywhere else; not confirmed for blocks by any public
    source, see the reference section 10).
    """

    warehouse: str
    in_stock: Decimal | None = None
    replenishment: Decimal | None = None
    purchase_orders_qty: Decimal | None = None
    lead_time: Decimal | None = None
    avg_lead_time: Decimal | None = None
    review_period: Decimal | None = None
    minimum_stock: Decimal | None = None
    oos: Decimal | None = None
    replenishment_notes: str | None = None


@attrs.frozen(kw_only=True)
class VendorCost:
    """A vendor of a variant's listing (``connections[].vendors[]``)."""

    vendor: str | None = None
    cost_price: Decimal | None = None
    currency: str | None = None


@attrs.frozen(kw_only=True)
class VariantConnection:
    """One source-platform listing of a variant (``connections[]``)."""

    sku: str | None = None
    linked_by: str | None = None
    connection_main: bool | None = None
    vendors: tuple[VendorCost, ...] = ()


@attrs.frozen(kw_only=True)
class Variant:
    """An IP variant (``GET /api/v1/variants``). Only the fields asked with ``fields=`` are
    filled; anything not modelled here is kept, raw, in ``extra``.

    Attributes:
        in_stock: stock over the variant's warehouses.
        replenishment: IP's suggested order quantity.
        purchase_orders_qty: quantity on open purchase orders.
        oos: forecast days until the variant sells out.
        under_value: forecast lost revenue.
        warehouse: per-warehouse blocks (:class:`WarehouseBlock`).
    """

    id: VariantId
    sku: str | None = None
    title: str | None = None
    product_id: str | None = None
    product_title: str | None = None
    barcode: str | None = None
    price: Decimal | None = None
    cost_price: Decimal | None = None
    in_stock: Decimal | None = None
    replenishment: Decimal | None = None
    purchase_orders_qty: Decimal | None = None
    lead_time: Decimal | None = None
    review_period: Decimal | None = None
    minimum_stock: Decimal | None = None
    oos: Decimal | None = None
    under_value: Decimal | None = None
    total_sales: Decimal | None = None
    removed: bool | None = None
    replenishment_notes: str | None = None
    connections: tuple[VariantConnection, ...] = ()
    warehouse: tuple[WarehouseBlock, ...] = ()
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False, hash=False)

    def block(self, warehouse: str) -> WarehouseBlock | None:
        """The per-warehouse block of ``warehouse`` (its id), if the variant has one."""
        return next((b for b in self.warehouse if b.warehouse == warehouse), None)

    @property
    def vendor(self) -> str | None:
        """The main listing's first vendor name (``connections[0].vendors[0].vendor``)."""
        for connection in self.connections:
            for vendor in connection.vendors:
                if vendor.vendor:
                    return vendor.vendor
        return None


@attrs.frozen(kw_only=True)
class VariantVendor:
    """A vendor of a variant (``GET /api/v1/variants/{id}/vendors``); ``id`` is the vendor name
    in lower case."""

    id: str
    vendor_name: str | None = None
    vendor_reference: str | None = None
    cost_price: Decimal | None = None
    landing_cost_price: Decimal | None = None
    vendor_packaging: Decimal | None = None
    uom_ordering: Decimal | None = None


@attrs.frozen(kw_only=True)
class VariantUpdate:
    """Writable planning fields of a variant (``PATCH /api/v1/variants/{id}``). ``None`` fields
    are not sent."""

    lead_time: int | None = None
    review_period: int | None = None
    minimum_stock: int | None = None
    replenishment_notes: str | None = None


@attrs.frozen(kw_only=True)
class ReplenishmentSuggestion:
    """One replenishment suggestion: order ``quantity`` of a variant (for one warehouse when
    ``warehouse`` is set, else over all warehouses)."""

    variant_id: VariantId
    sku: str | None
    quantity: Decimal
    warehouse: str | None = None
    oos: Decimal | None = None
    under_value: Decimal | None = None
    lead_time: Decimal | None = None
    vendor: str | None = None

    @property
    def units(self) -> int:
        """The suggested quantity in whole units, rounded up (never under-order)."""
        return whole_units(self.quantity, "ceil")


# --------------------------------------------------------------------------------------------
# Warehouses, vendors
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Warehouse:
    """An IP warehouse (``GET /api/v1/warehouses``). ``name`` is the warehouse **id**
    (``c955_...``), ``display_name`` the human name. Each Starter CSV connection is one."""

    name: str
    display_name: str | None = None
    type: str | None = None
    disabled: bool | None = None
    connection: str | None = None
    currency: str | None = None

    @property
    def id(self) -> str:
        return self.name


@attrs.frozen(kw_only=True)
class Vendor:
    """An IP vendor (``GET /api/v1/vendors``); vendor ids are names."""

    id: str
    name: str | None = None
    display_name: str | None = None
    currency: str | None = None


# --------------------------------------------------------------------------------------------
# Purchase orders
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PurchaseOrderItem:
    """A purchase-order line. ``replenishment`` is the ordered quantity, ``received`` the
    cumulative received quantity."""

    id: str
    sku: str | None = None
    title: str | None = None
    variant: str | None = None
    product_id: str | None = None
    barcode: str | None = None
    vendor_reference: str | None = None
    replenishment: Decimal | None = None
    received: Decimal | None = None
    remaining: Decimal | None = None
    cost_price: Decimal | None = None
    total: Decimal | None = None

    @property
    def ordered(self) -> Decimal:
        """The ordered quantity (``replenishment``), 0 when absent."""
        return self.replenishment if self.replenishment is not None else Decimal(0)


@attrs.frozen(kw_only=True)
class PurchaseOrder:
    """An IP stock order: a purchase order (``type`` ``po`` or empty), a transfer or an assembly.

    ``status`` is a :class:`PurchaseOrderStatus` for IP's default statuses (whatever their
    casing) and the raw string for an account's custom statuses; compare with
    :meth:`has_status`.
    """

    id: PurchaseOrderId
    reference: str | None = None
    status: PurchaseOrderStatus | str | None = None
    type: str | None = None
    vendor: str | None = None
    warehouse: str | None = None
    source_warehouse: str | None = None
    currency: str | None = None
    notes: str | None = None
    created_date: dt.date | None = None
    expected_date: dt.date | None = None
    received_date: dt.date | None = None
    readonly: bool | None = None
    items: tuple[PurchaseOrderItem, ...] = ()
    total: Decimal | None = None
    total_ordered: Decimal | None = None
    total_received: Decimal | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    last_modified: dt.datetime | None = None

    def has_status(self, *statuses: PurchaseOrderStatus | str) -> bool:
        """Case-insensitive status test: ``po.has_status("OPEN", "partially received")``."""
        return status_matches(self.status, *statuses)


@attrs.frozen(kw_only=True)
class NewPurchaseOrderLine:
    """A line of a purchase order to create: ``quantity`` whole units of variant
    ``variant_id`` (sent as ``{"id": ..., "replenishment": ...}``)."""

    variant_id: str
    quantity: int
    cost_price: Decimal | None = None


@attrs.frozen(kw_only=True)
class PurchaseOrderCreate:
    """A purchase order to create (``POST /api/v1/purchase-orders``).

    ``warehouse`` (the receiving warehouse id) is required by IP. Give either ``lines`` or a
    ``variants_filter`` (the resource methods build it from typed filters) that lets IP fill the
    lines from its replenishment suggestions.
    """

    warehouse: str
    vendor: str | None = None
    status: PurchaseOrderStatus | str | None = None
    reference: str | None = None
    expected_date: dt.date | None = None
    currency: str | None = None
    notes: str | None = None
    lines: tuple[NewPurchaseOrderLine, ...] = ()
    variants_filter: Mapping[str, str | int | Decimal | bool] | None = None
    skip_background_jobs: bool | None = None


@attrs.frozen(kw_only=True)
class PurchaseOrderUpdate:
    """Header changes of a purchase order (``PUT``/``PATCH /api/v1/purchase-orders/{id}``);
    ``None`` fields are not sent."""

    status: PurchaseOrderStatus | str | None = None
    reference: str | None = None
    expected_date: dt.date | None = None
    notes: str | None = None


# --------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Webhook:
    """A webhook subscription. The only topic IP documents is
    ``purchase-orders/connection-save``; ``fields`` is a dot-notation allowlist."""

    id: str
    address: str | None = None
    topic: str | None = None
    fields: str | None = None


def _field_names(value: str | Iterable[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(n.strip() for n in items if n.strip())


@attrs.frozen(kw_only=True)
class WebhookCreate:
    """A webhook to create or the new values of one. ``fields`` is the dot-notation allowlist
    of the payload (a sequence of names or a comma-separated string)."""

    address: str
    topic: str = "purchase-orders/connection-save"
    fields: tuple[str, ...] = attrs.field(default=(), converter=_field_names)
