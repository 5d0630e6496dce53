"""Plain, wire-independent input records for the feed writers.

The engine adapts its ledger rows (Mirakl orders, stock snapshots) to these records; the writers
take *iterables* of them, so a ledger cursor streams straight into a file without the history
ever being held in memory.

Conventions: money is ``Decimal``; timestamps are timezone-aware (naive ones are refused);
quantities are whole ``int`` units except stock levels, which IP reads as FLOAT and may be
fractional or negative (``Decimal`` accepted).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

__all__ = [
    "FeedPurchaseOrderLine",
    "FeedWarehouse",
    "Product",
    "SalesLine",
    "StockLevel",
]


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{attribute.name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


@attrs.frozen(kw_only=True)
class SalesLine:
    """One marketplace order line, as the ledger knows it.

    Attributes:
        order_id: the Mirakl order id (Advanced ``ID``, Starter ``order_number``).
        order_line_id: the Mirakl order-line id (Advanced ``ORDER_ID``; unique per line).
        sku: the inventory SKU (already mapped from the offer SKU).
        product_id: IP product id (Starter ``product_id``); defaults to ``sku``.
        variant_id: the Advanced ``VARIANT_ID`` of the variant file; defaults to ``sku``.
        created_at: when the order was created (the sale date).
        updated_at: last change of the line in the ledger (defaults to ``created_at``); the
            Advanced writer's ``since`` filter and ``UPDATED_AT`` use it.
        unit_price: price of one unit, in ``currency``.
        quantity: ordered units (> 0).
        canceled: the line was refused or cancelled on Mirakl.
        returned_quantity: units returned/refunded so far (cumulative, 0..quantity). The
            Advanced feed writes them as one extra row with a negative ``QUANTITY``.
        warehouse: the IP warehouse id that sold it (Advanced ``WAREHOUSE``); ``None`` uses
            the writer's default.
    """

    order_id: str = attrs.field(validator=_non_empty)
    order_line_id: str = attrs.field(validator=_non_empty)
    sku: str = attrs.field(validator=_non_empty)
    created_at: dt.datetime = attrs.field(validator=_aware)
    unit_price: Decimal
    quantity: int
    currency: str = attrs.field(validator=_non_empty)
    canceled: bool = False
    returned_quantity: int = 0
    updated_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    product_id: str | None = None
    variant_id: str | None = None
    warehouse: str | None = None

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.quantity, bool)
            or not isinstance(self.quantity, int)
            or self.quantity <= 0
        ):
            raise ValueError(f"order line {self.order_line_id}: quantity must be an int > 0")
        returned = self.returned_quantity
        if isinstance(returned, bool) or not isinstance(returned, int) or returned < 0:
            raise ValueError(f"order line {self.order_line_id}: returned_quantity must be >= 0")
        if returned > self.quantity:
            raise ValueError(f"order line {self.order_line_id}: more returned than ordered")
        price: object = self.unit_price
        if not isinstance(price, Decimal | int) or isinstance(price, bool):
            raise TypeError(f"order line {self.order_line_id}: unit_price must be a Decimal")

    @property
    def last_change(self) -> dt.datetime:
        return self.updated_at or self.created_at


@attrs.frozen(kw_only=True)
class StockLevel:
    """Available stock of one SKU in one IP warehouse (Advanced ``IN_STOCK``: total minus what
    is allocated to orders; negative allowed)."""

    sku: str = attrs.field(validator=_non_empty)
    warehouse: str = attrs.field(validator=_non_empty)
    quantity: Decimal | int
    variant_id: str | None = None
    updated_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    removed: bool = False


@attrs.frozen(kw_only=True)
class Product:
    """A sellable item (Starter products file, Advanced variant file)."""

    sku: str = attrs.field(validator=_non_empty)
    title: str
    price: Decimal
    created_at: dt.datetime = attrs.field(validator=_aware)
    product_id: str | None = None
    variant_id: str | None = None
    barcode: str = ""
    cost_price: Decimal | None = None
    vendor: str | None = None
    updated_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    removed: bool = False


@attrs.frozen(kw_only=True)
class FeedWarehouse:
    """An IP warehouse declared by the Advanced connector (one per Mirakl shop/channel or
    physical location)."""

    warehouse_id: str = attrs.field(validator=_non_empty)
    display_name: str
    currency: str | None = None
    updated_at: dt.datetime | None = attrs.field(default=None, validator=_aware)
    removed: bool = False


@attrs.frozen(kw_only=True)
class FeedPurchaseOrderLine:
    """A purchase-order line for the Starter connector's optional purchase-orders file."""

    po_id: str = attrs.field(validator=_non_empty)
    sku: str = attrs.field(validator=_non_empty)
    ordered: int
    date: dt.date
    status: str = "open"
    received: int = 0
    po_name: str | None = None
    vendor: str | None = None
    expected_date: dt.date | None = None
    receive_date: dt.date | None = None
    product_id: str | None = None
    cost_price: Decimal | None = None
    currency: str | None = None
