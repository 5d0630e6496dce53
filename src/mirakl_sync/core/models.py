"""Wire-independent domain types shared by the core modules.

These are *not* the Mirakl API models: they carry only what the core needs to decide, so a
notebook user can build them from a spreadsheet as easily as the engine builds them from API
responses. Money is :class:`~decimal.Decimal`, quantities are ``int`` and timestamps are aware UTC
``datetime`` values passed in by the caller (the core never reads the clock).

Order and line states are plain strings holding Mirakl's wire values; any other string is treated
as unknown (alert, never act).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Final, NewType

import attrs

__all__ = [
    "ACTIVE_LINE_STATES",
    "GLOBAL_WAREHOUSE",
    "LINE_STATES",
    "ORDER_STATES",
    "PENDING_PAYMENT_STATES",
    "SHIPPED_STATES",
    "TERMINAL_STATES",
    "ZERO",
    "FulfilmentEvent",
    "ItemSku",
    "Marketplace",
    "OfferSku",
    "Order",
    "OrderId",
    "OrderLedger",
    "OrderLine",
    "OrderLineId",
    "OrderState",
    "Refund",
    "ReturnEvent",
    "ShopId",
    "WarehouseCode",
    "is_known_line_state",
    "is_known_order_state",
]

OfferSku = NewType("OfferSku", str)
"""The seller's SKU of a Mirakl offer (``shop_sku`` / ``offer_sku``)."""
ItemSku = NewType("ItemSku", str)
"""The inventory system's item (Inventory Planner variant) SKU."""
OrderId = NewType("OrderId", str)
OrderLineId = NewType("OrderLineId", str)
WarehouseCode = NewType("WarehouseCode", str)
"""A Mirakl warehouse code. :data:`GLOBAL_WAREHOUSE` (the empty string) is the offer's global
quantity, exactly as an STO01 line without ``warehouse-code``."""
ShopId = NewType("ShopId", str)
Marketplace = NewType("Marketplace", str)
"""The operator / marketplace code used to pick per-marketplace settings (prefixes, buffers,
acceptance windows)."""

GLOBAL_WAREHOUSE: Final = WarehouseCode("")
ZERO: Final = Decimal("0.00")


class OrderState:
    """Mirakl order and order-line state wire values (plain strings)."""

    STAGING: Final = "STAGING"
    WAITING_ACCEPTANCE: Final = "WAITING_ACCEPTANCE"
    WAITING_DEBIT: Final = "WAITING_DEBIT"
    WAITING_DEBIT_PAYMENT: Final = "WAITING_DEBIT_PAYMENT"
    SHIPPING: Final = "SHIPPING"
    SHIPPED: Final = "SHIPPED"
    TO_COLLECT: Final = "TO_COLLECT"
    RECEIVED: Final = "RECEIVED"
    CLOSED: Final = "CLOSED"
    REFUSED: Final = "REFUSED"
    CANCELED: Final = "CANCELED"
    # line-only states
    INCIDENT_OPEN: Final = "INCIDENT_OPEN"
    REFUNDED: Final = "REFUNDED"


ORDER_STATES: Final = frozenset(
    {
        OrderState.STAGING,
        OrderState.WAITING_ACCEPTANCE,
        OrderState.WAITING_DEBIT,
        OrderState.WAITING_DEBIT_PAYMENT,
        OrderState.SHIPPING,
        OrderState.SHIPPED,
        OrderState.TO_COLLECT,
        OrderState.RECEIVED,
        OrderState.CLOSED,
        OrderState.REFUSED,
        OrderState.CANCELED,
    }
)
LINE_STATES: Final = ORDER_STATES | {OrderState.INCIDENT_OPEN, OrderState.REFUNDED}
PENDING_PAYMENT_STATES: Final = frozenset(
    {OrderState.WAITING_DEBIT, OrderState.WAITING_DEBIT_PAYMENT}
)
SHIPPED_STATES: Final = frozenset(
    {OrderState.SHIPPED, OrderState.TO_COLLECT, OrderState.RECEIVED, OrderState.CLOSED}
)
TERMINAL_STATES: Final = frozenset({OrderState.CLOSED, OrderState.REFUSED, OrderState.CANCELED})
# Line states whose quantity is still owed to (or was delivered to) the customer.
ACTIVE_LINE_STATES: Final = LINE_STATES - {OrderState.REFUSED, OrderState.CANCELED}


def is_known_order_state(state: str) -> bool:
    """Whether ``state`` is one of Mirakl's documented order states."""
    return state in ORDER_STATES


def is_known_line_state(state: str) -> bool:
    """Whether ``state`` is one of Mirakl's documented order-line states."""
    return state in LINE_STATES


@attrs.frozen(kw_only=True)
class Refund:
    """A refund recorded by Mirakl on an order line (OR11 ``order_lines[].refunds[]``).

    ``amount`` is the offer part, ``shipping_amount`` the shipping part, ``taxes`` the total tax
    refunded with them, ``commission`` the commission Mirakl gives back (fee + tax).
    """

    refund_id: str
    amount: Decimal
    shipping_amount: Decimal = ZERO
    taxes: Decimal = ZERO
    commission: Decimal = ZERO
    state: str = OrderState.REFUNDED
    created_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        """What the customer gets back: amount + shipping + taxes."""
        return self.amount + self.shipping_amount + self.taxes


@attrs.frozen(kw_only=True)
class OrderLine:
    """One order line. ``price`` is unit price x quantity (shipping excluded); ``taxes`` is the tax
    the shop collects on the line (product + shipping); ``commission`` is Mirakl's
    ``total_commission`` (fee + commission tax)."""

    line_id: OrderLineId
    offer_sku: OfferSku
    quantity: int
    state: str
    price: Decimal = ZERO
    shipping_price: Decimal = ZERO
    taxes: Decimal = ZERO
    commission: Decimal = ZERO
    refunds: tuple[Refund, ...] = ()
    warehouse: WarehouseCode = GLOBAL_WAREHOUSE

    @property
    def value(self) -> Decimal:
        """price + shipping_price + taxes."""
        return self.price + self.shipping_price + self.taxes

    @property
    def is_active(self) -> bool:
        """Not refused nor cancelled (unknown states count as active: never drop a line)."""
        return self.state not in (OrderState.REFUSED, OrderState.CANCELED)


@attrs.frozen(kw_only=True)
class Order:
    """A Mirakl order as the core sees it (a snapshot taken at some point)."""

    order_id: OrderId
    state: str
    created_at: datetime
    lines: tuple[OrderLine, ...]
    shop: ShopId = ShopId("")
    marketplace: Marketplace = Marketplace("")
    currency: str = "EUR"
    last_updated_at: datetime | None = None
    acceptance_decision_at: datetime | None = None
    shipping_deadline: datetime | None = None
    shipping_tracking: str | None = None
    shipped_at: datetime | None = None

    @property
    def is_known_state(self) -> bool:
        return self.state in ORDER_STATES


@attrs.frozen(kw_only=True)
class FulfilmentEvent:
    """The host/warehouse says (some lines of) an order left the warehouse."""

    event_id: str
    order_id: OrderId
    at: datetime
    line_ids: tuple[OrderLineId, ...] = ()
    """Empty means the whole order."""
    carrier_code: str | None = None
    carrier_name: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None

    @property
    def has_tracking(self) -> bool:
        return bool(self.tracking_number or self.tracking_url)


@attrs.frozen(kw_only=True)
class ReturnEvent:
    """The host accepted a return (or a goodwill refund) that must be refunded on Mirakl (OR28)."""

    return_id: str
    order_id: OrderId
    line_id: OrderLineId
    at: datetime
    amount: Decimal
    shipping_amount: Decimal = ZERO
    quantity: int = 0
    reason_code: str | None = None


@attrs.frozen(kw_only=True)
class OrderLedger:
    """What the engine has recorded (and confirmed) for one order in its ledger."""

    order_id: OrderId
    first_seen_at: datetime | None = None
    acceptance_sent: bool = False
    acceptance_failed: bool = False
    sales_order_created: bool = False
    sales_order_cancelled: bool = False
    reservation_held: bool = False
    tracking_sent: bool = False
    ship_sent: bool = False
    refunded_return_ids: frozenset[str] = frozenset()
    forecast_exported_line_ids: frozenset[OrderLineId] = frozenset()
