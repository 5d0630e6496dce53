"""The simulated Mirakl marketplace: shops, offers, orders and their lifecycle, imports, exports
and the seller transaction log. Pure domain state with no HTTP in it (``app.py`` maps requests
onto these methods; ``render.py`` turns the objects into Mirakl's JSON).

Order lifecycle (Mirakl's states, PAY_ON_ACCEPTANCE workflow)::

    STAGING -validate-> WAITING_ACCEPTANCE -OR21 accept-> WAITING_DEBIT -request_debit->
    WAITING_DEBIT_PAYMENT -confirm_payment-> SHIPPING -OR24-> SHIPPED -receive-> RECEIVED
    -close-> CLOSED
    WAITING_ACCEPTANCE -OR21 refuse all / acceptance window expires-> REFUSED
    WAITING_DEBIT(_PAYMENT) -refuse_payment-> CANCELED;  SHIPPING -OR29 / OR30 all-> CANCELED
    SHIPPING -ST01 shipments (partial quantities) covering every unit, all shipped-> SHIPPED

Writes the seller may not make in the current state raise :class:`MiraklError` with status 400
and ``ORDER_INVALID_STATE`` (or ``ORDER_LINE_INVALID_STATE`` for line-level writes), as Mirakl
does. Time-driven transitions (auto-refusal at the acceptance deadline, automatic payment
confirmation, import and export completion, refund payment) are queued events fired in due-time
order by :meth:`MiraklState.advance`, stamped with their due time, never with the wall clock.
"""

from __future__ import annotations

import csv
import heapq
import io
import random
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "ACTIVE_LINE_STATES",
    "FINAL_ORDER_STATES",
    "ORDER_STATES",
    "Cancelation",
    "Export",
    "MiraklError",
    "MiraklState",
    "Offer",
    "OfferImport",
    "Order",
    "OrderLine",
    "Refund",
    "Shipment",
    "ShipmentLine",
    "Shop",
    "StockImport",
    "Transaction",
    "money",
]

JSON = Any

ORDER_STATES = (
    "STAGING",
    "WAITING_ACCEPTANCE",
    "WAITING_DEBIT",
    "WAITING_DEBIT_PAYMENT",
    "SHIPPING",
    "SHIPPED",
    "TO_COLLECT",
    "RECEIVED",
    "CLOSED",
    "REFUSED",
    "CANCELED",
)
FINAL_ORDER_STATES = frozenset({"CLOSED", "REFUSED", "CANCELED"})
#: line states that follow the order's state (others are terminal for the line)
ACTIVE_LINE_STATES = frozenset(ORDER_STATES) - {"REFUSED", "CANCELED", "CLOSED"}
REFUNDABLE_LINE_STATES = frozenset({"SHIPPED", "RECEIVED", "INCIDENT_OPEN"})

CENT = Decimal("0.01")


def money(value: Decimal | int | float | str) -> Decimal:
    """A Decimal rounded to cents (half up)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class MiraklError(Exception):
    """A request Mirakl would refuse: rendered as ``{"message", "status"}`` (plus ``code``)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _invalid_state(order: Order, expected: str) -> MiraklError:
    return MiraklError(
        400,
        f"ORDER_INVALID_STATE: order {order.order_id} is in state {order.state}, "
        f"expected {expected}",
        "ORDER_INVALID_STATE",
    )


@dataclass
class Shop:
    shop_id: int
    name: str
    api_key: str
    suffix: str
    currency: str = "EUR"
    warehouses: list[str] = field(default_factory=list)


@dataclass
class Offer:
    offer_id: int
    shop_id: int
    shop_sku: str
    product_sku: str
    title: str
    price: Decimal
    quantity: int
    date_created: datetime
    last_updated: datetime
    warehouses: dict[str, int] = field(default_factory=dict)
    category_code: str = "CAT-GENERAL"
    category_label: str = "General"
    state_code: str = "11"
    active: bool = True
    deleted: bool = False
    ean: str = ""
    leadtime_to_ship: int = 2
    currency: str = "EUR"

    @property
    def available(self) -> int:
        """Total quantity (sum over warehouses when the offer has per-warehouse stock)."""
        return sum(self.warehouses.values()) if self.warehouses else self.quantity

    def take(self, quantity: int) -> str | None:
        """Decrement stock for an order line; returns the warehouse it came from."""
        if not self.warehouses:
            self.quantity = max(0, self.quantity - quantity)
            return None
        remaining = quantity
        first = None
        for code in sorted(self.warehouses):
            taken = min(self.warehouses[code], remaining)
            if taken and first is None:
                first = code
            self.warehouses[code] -= taken
            remaining -= taken
        return first or sorted(self.warehouses)[0]

    def give_back(self, quantity: int, warehouse: str | None) -> None:
        if warehouse and warehouse in self.warehouses:
            self.warehouses[warehouse] += quantity
        elif self.warehouses:
            first = sorted(self.warehouses)[0]
            self.warehouses[first] += quantity
        else:
            self.quantity += quantity


@dataclass
class Refund:
    id: str
    order_refund_id: str
    amount: Decimal
    shipping_amount: Decimal
    quantity: int
    reason_code: str
    created_date: datetime
    commission_amount: Decimal
    commission_tax_amount: Decimal
    state: str = "WAITING_REFUND"
    transaction_date: datetime | None = None
    transaction_number: str | None = None
    excluded_from_shipment: bool = False


@dataclass
class Cancelation:
    id: str
    amount: Decimal
    shipping_amount: Decimal
    quantity: int
    reason_code: str
    created_date: datetime
    commission_amount: Decimal
    commission_tax_amount: Decimal


@dataclass
class OrderLine:
    order_line_id: str
    index: int
    offer_id: int
    offer_sku: str
    product_sku: str
    product_title: str
    category_code: str
    category_label: str
    quantity: int
    price_unit: Decimal
    shipping_price: Decimal
    commission_rate: Decimal
    vat_rate: Decimal
    state: str
    created_date: datetime
    last_updated_date: datetime
    warehouse: str | None = None
    state_reason_code: str | None = None
    state_reason_label: str | None = None
    debited_date: datetime | None = None
    shipped_date: datetime | None = None
    received_date: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    cancelations: list[Cancelation] = field(default_factory=list)
    state_before_incident: str | None = None

    @property
    def price(self) -> Decimal:
        return money(self.price_unit * self.quantity)

    @property
    def total_price(self) -> Decimal:
        return self.price + self.shipping_price

    @property
    def commission_fee(self) -> Decimal:
        return money(self.commission_rate * self.total_price)

    @property
    def commission_vat(self) -> Decimal:
        return money(self.commission_fee * self.vat_rate)

    @property
    def total_commission(self) -> Decimal:
        return self.commission_fee + self.commission_vat

    @property
    def refunded_amount(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))

    @property
    def refunded_shipping(self) -> Decimal:
        return sum((r.shipping_amount for r in self.refunds), Decimal("0.00"))

    @property
    def canceled_amount(self) -> Decimal:
        return sum((c.amount for c in self.cancelations), Decimal("0.00"))

    @property
    def canceled_shipping(self) -> Decimal:
        return sum((c.shipping_amount for c in self.cancelations), Decimal("0.00"))

    @property
    def canceled_quantity(self) -> int:
        return sum(c.quantity for c in self.cancelations)

    @property
    def remaining_amount(self) -> Decimal:
        return self.price - self.refunded_amount - self.canceled_amount

    @property
    def remaining_shipping(self) -> Decimal:
        return self.shipping_price - self.refunded_shipping - self.canceled_shipping

    @property
    def can_refund(self) -> bool:
        return self.state in REFUNDABLE_LINE_STATES and self.remaining_amount > 0


@dataclass
class Order:
    order_id: str
    commercial_id: str
    shop_id: int
    state: str
    created_date: datetime
    last_updated_date: datetime
    acceptance_deadline: datetime
    lines: list[OrderLine]
    customer: dict[str, JSON]
    channel_code: str | None = None
    payment_workflow: str = "PAY_ON_ACCEPTANCE"
    currency: str = "EUR"
    acceptance_decision_date: datetime | None = None
    customer_debited_date: datetime | None = None
    shipping_deadline: datetime | None = None
    state_reason_code: str | None = None
    state_reason_label: str | None = None
    reference_for_seller: str | None = None
    reference_for_customer: str | None = None
    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    carrier_url: str | None = None
    tracking_number: str | None = None
    transaction_number: str | None = None
    fulfillment_center: str = "DEFAULT"
    leadtime_to_ship: int = 2

    def line(self, line_id: str) -> OrderLine | None:
        return next((ln for ln in self.lines if ln.order_line_id == line_id), None)

    @property
    def price(self) -> Decimal:
        return sum((ln.price for ln in self.lines), Decimal("0.00"))

    @property
    def shipping_price(self) -> Decimal:
        return sum((ln.shipping_price for ln in self.lines), Decimal("0.00"))

    @property
    def total_commission(self) -> Decimal:
        return sum((ln.total_commission for ln in self.lines), Decimal("0.00"))

    @property
    def has_incident(self) -> bool:
        return any(ln.state == "INCIDENT_OPEN" for ln in self.lines)

    @property
    def can_cancel(self) -> bool:
        return self.state == "SHIPPING"

    @property
    def fully_refunded(self) -> bool:
        refunded = [ln for ln in self.lines if ln.refunds]
        return bool(refunded) and all(
            ln.state == "REFUNDED" for ln in self.lines if ln.state not in ("REFUSED", "CANCELED")
        )


@dataclass
class StockImport:
    """An STO01 stock import (status read by STO02, errors by STO03)."""

    import_id: str
    shop_id: int
    date_created: datetime
    content: bytes
    status: str = "WAITING"
    lines_in_success: int = 0
    lines_in_error: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class OfferImport:
    """An OF01 offer file import (status read by OF02, errors by OF03)."""

    import_id: int
    shop_id: int
    date_created: datetime
    content: bytes
    mode: str
    status: str = "WAITING"
    lines_read: int = 0
    lines_in_success: int = 0
    lines_in_error: int = 0
    offer_inserted: int = 0
    offer_updated: int = 0
    offer_deleted: int = 0
    reason_status: str | None = None
    error_report: str = ""


@dataclass
class Export:
    """An asynchronous export (OR13 orders, OF52 offers)."""

    tracking_id: str
    kind: str
    shop_id: int
    created: datetime
    params: dict[str, JSON]
    status: str = "PENDING"
    last_updated: datetime | None = None
    chunks: list[JSON] = field(default_factory=list)


@dataclass
class Transaction:
    """One TL02 transaction line."""

    id: str
    shop_id: int
    type: str
    amount: Decimal
    balance: Decimal
    currency: str
    date_created: datetime
    last_updated: datetime
    payment_state: str
    order_id: str | None = None
    commercial_id: str | None = None
    order_created: datetime | None = None
    order_line_id: str | None = None
    refund_id: str | None = None
    channel_code: str | None = None
    seq: int = 0


@dataclass
class ShipmentLine:
    """``quantity`` units of an order line in a shipment (ST01/ST11 ``shipment_lines[]``)."""

    order_line_id: str
    offer_sku: str
    quantity: int
    package_reference: str | None = None


@dataclass
class Shipment:
    """An ST01 shipment (several per order with multi-shipment), listed by ST11."""

    id: str
    shop_id: int
    order_id: str
    lines: list[ShipmentLine]
    created_date: datetime
    last_updated_date: datetime
    status: str = "SHIPPING"
    status_customer_debit: str = "NO_DEBIT"
    shipped_date: datetime | None = None
    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    invoice_reference: str | None = None
    warehouse: str | None = None
    additional_information: list[dict[str, JSON]] = field(default_factory=list)
    seq: int = 0


#: ST01 accepts 1 to 1000 shipments per call.
MAX_SHIPMENTS_PER_CALL = 1000
_INVOICE_REFERENCE = re.compile(r"[0-9a-zA-Z_-]{0,255}")


def _validation(message: str) -> MiraklError:
    return MiraklError(400, f"VALIDATION_ERROR: {message}", "VALIDATION_ERROR")


_FIRST_NAMES = ("Alice", "Bruno", "Chloe", "David", "Emma", "Farid", "Gaelle", "Hugo", "Ines")
_LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand")
_CITIES = (("Paris", "75011"), ("Lyon", "69003"), ("Lille", "59000"), ("Nantes", "44000"))


class MiraklState:
    """All simulated data of one Mirakl instance, with its lifecycle rules.

    Args:
        acceptance_window: time a shop has to accept an order (from its creation) before the
            operator refuses it automatically.
        payment_delay: when set, accepted orders are debited (-> SHIPPING) automatically this
            long after acceptance; ``None`` leaves it to :meth:`confirm_payment`.
        import_delay: time an STO01/OF01 import takes to complete (RUNNING from half of it).
        export_delay: time an OR13/OF52 export takes to complete.
        refund_delay: time before a refund is paid (WAITING_REFUND -> REFUNDED).
        update_overlap: the delta OR11 subtracts from ``start_update_date``.
        commission_rate: commission on price + shipping for every line.
        vat_rate: VAT on the commission.
        partial_acceptance: whether OR21 may refuse some lines and accept others.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        acceptance_window: timedelta = timedelta(days=3),
        payment_delay: timedelta | None = None,
        import_delay: timedelta = timedelta(seconds=30),
        export_delay: timedelta = timedelta(seconds=30),
        refund_delay: timedelta = timedelta(hours=1),
        update_overlap: timedelta = timedelta(minutes=1),
        commission_rate: Decimal = Decimal("0.10"),
        vat_rate: Decimal = Decimal("0.20"),
        partial_acceptance: bool = True,
        export_chunk_size: int | None = None,
        now: Callable[[], datetime],
    ) -> None:
        self.rng = random.Random(seed)
        self.acceptance_window = acceptance_window
        self.payment_delay = payment_delay
        self.import_delay = import_delay
        self.export_delay = export_delay
        self.refund_delay = refund_delay
        self.update_overlap = update_overlap
        self.commission_rate = commission_rate
        self.vat_rate = vat_rate
        self.partial_acceptance = partial_acceptance
        self.export_chunk_size = export_chunk_size
        self._now = now
        self.shops: dict[int, Shop] = {}
        self.keys: dict[str, list[int]] = {}
        self.offers: dict[int, Offer] = {}
        # (shop_id, shop_sku) -> offer ids in creation order: offer_by_sku without a scan.
        self._offer_ids_by_sku: dict[tuple[int, str], list[int]] = {}
        self.orders: dict[str, Order] = {}
        self.stock_imports: dict[str, StockImport] = {}
        self.offer_imports: dict[int, OfferImport] = {}
        self.exports: dict[str, Export] = {}
        self.transactions: list[Transaction] = []
        self.shipments: dict[str, Shipment] = {}
        self.reasons: list[dict[str, JSON]] = list(DEFAULT_REASONS)
        self.carriers: list[dict[str, JSON]] = list(DEFAULT_CARRIERS)
        self._events: list[tuple[datetime, int, str, str]] = []
        self._counter = 0
        self._order_counter = 0
        self._offer_counter = 2000
        self._offer_import_counter = 1000
        self._balances: dict[int, Decimal] = {}
        self.clock_seen = now()

    # -- ids and time ----------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _schedule(self, due: datetime, kind: str, key: str) -> None:
        heapq.heappush(self._events, (due, self._next(), kind, key))

    def advance(self, now: datetime) -> None:
        """Fire every queued event due at or before ``now``, in due-time order."""
        while self._events and self._events[0][0] <= now:
            due, _, kind, key = heapq.heappop(self._events)
            handler = getattr(self, f"_on_{kind}")
            handler(key, due)
        self.clock_seen = now

    def next_event_time(self) -> datetime | None:
        return self._events[0][0] if self._events else None

    # -- shops and offers ------------------------------------------------------------------

    def add_shop(
        self,
        shop_id: int | None = None,
        *,
        name: str | None = None,
        api_key: str | None = None,
        currency: str = "EUR",
        warehouses: Sequence[str] = (),
    ) -> Shop:
        """Create a shop; several shops may share an API key (the first is the default)."""
        shop_id = shop_id if shop_id is not None else 2000 + len(self.shops) + 1
        if shop_id in self.shops:
            raise ValueError(f"shop {shop_id} exists")
        api_key = api_key or f"sandbox-key-{shop_id}"
        suffix = chr(ord("A") + len(self.shops) % 26)
        shop = Shop(shop_id, name or f"Sandbox shop {shop_id}", api_key, suffix, currency)
        shop.warehouses = list(warehouses)
        self.shops[shop_id] = shop
        self.keys.setdefault(api_key, []).append(shop_id)
        return shop

    def shop(self, shop_id: int | None = None) -> Shop:
        if shop_id is None:
            if not self.shops:
                raise ValueError("the sandbox has no shop")
            return next(iter(self.shops.values()))
        return self.shops[shop_id]

    def add_offer(
        self,
        shop_id: int,
        sku: str,
        *,
        quantity: int = 0,
        price: Decimal | str | float = "19.99",
        product_sku: str | None = None,
        title: str | None = None,
        warehouses: dict[str, int] | None = None,
        active: bool = True,
        category_code: str = "CAT-GENERAL",
    ) -> Offer:
        """Create an offer (or return the existing one for that SKU, updated)."""
        now = self.now()
        existing = self.offer_by_sku(shop_id, sku)
        if existing is not None and not existing.deleted:
            existing.quantity = quantity
            existing.warehouses = dict(warehouses or {})
            existing.price = money(price)
            existing.last_updated = now
            return existing
        self._offer_counter += 1
        offer = Offer(
            offer_id=self._offer_counter,
            shop_id=shop_id,
            shop_sku=sku,
            product_sku=product_sku or f"PRD-{sku}",
            title=title or f"Product {sku}",
            price=money(price),
            quantity=quantity,
            warehouses=dict(warehouses or {}),
            date_created=now,
            last_updated=now,
            active=active,
            category_code=category_code,
            ean=f"{3000000000000 + self._offer_counter:013d}",
            currency=self.shops[shop_id].currency,
        )
        for code in offer.warehouses:
            if code not in self.shops[shop_id].warehouses:
                self.shops[shop_id].warehouses.append(code)
        self.offers[offer.offer_id] = offer
        self._offer_ids_by_sku.setdefault((shop_id, sku), []).append(offer.offer_id)
        return offer

    def offer_by_sku(self, shop_id: int, sku: str) -> Offer | None:
        """The shop's live (not deleted) offer with that SKU, the oldest if several."""
        for offer_id in self._offer_ids_by_sku.get((shop_id, sku), ()):
            offer = self.offers.get(offer_id)  # tests may drop an offer from ``offers``
            if offer is not None and not offer.deleted:
                return offer
        return None

    def shop_offers(self, shop_id: int, *, include_deleted: bool = False) -> list[Offer]:
        return [
            o
            for o in self.offers.values()
            if o.shop_id == shop_id and (include_deleted or not o.deleted)
        ]

    # -- orders: creation ------------------------------------------------------------------

    def _customer(self) -> dict[str, JSON]:
        first = self.rng.choice(_FIRST_NAMES)
        last = self.rng.choice(_LAST_NAMES)
        city, zip_code = self.rng.choice(_CITIES)
        address = {
            "city": city,
            "civility": None,
            "company": None,
            "country": "France",
            "country_iso_code": "FRA",
            "firstname": first,
            "lastname": last,
            "phone": None,
            "state": None,
            "street_1": f"{self.rng.randint(1, 120)} rue de la Paix",
            "street_2": None,
            "zip_code": zip_code,
        }
        return {
            "customer_id": f"CUST-{self.rng.randint(10000, 99999)}",
            "firstname": first,
            "lastname": last,
            "civility": None,
            "locale": "fr_FR",
            "billing_address": dict(address),
            "shipping_address": {**address, "additional_info": None},
        }

    def place_order(
        self,
        shop_id: int,
        lines: Sequence[tuple[str, int]],
        *,
        state: str = "WAITING_ACCEPTANCE",
        channel_code: str | None = None,
        shipping_price: Decimal | str = "4.90",
        created: datetime | None = None,
        payment_workflow: str = "PAY_ON_ACCEPTANCE",
        reference_for_customer: str | None = None,
    ) -> Order:
        """A customer places an order for ``(offer_sku, quantity)`` lines (stock is reserved).

        ``state`` is STAGING (operator checks pending) or WAITING_ACCEPTANCE.
        """
        if state not in ("STAGING", "WAITING_ACCEPTANCE"):
            raise ValueError("new orders start in STAGING or WAITING_ACCEPTANCE")
        if not lines:
            raise ValueError("an order needs at least one line")
        shop = self.shops[shop_id]
        created = created or self.now()
        self._order_counter += 1
        commercial_id = f"SBX{self._order_counter:06d}"
        order_id = f"{commercial_id}-{shop.suffix}"
        order_lines: list[OrderLine] = []
        for index, (sku, quantity) in enumerate(lines, start=1):
            offer = self.offer_by_sku(shop_id, sku)
            if offer is None:
                raise ValueError(f"shop {shop_id} has no offer {sku!r}")
            warehouse = offer.take(quantity)
            offer.last_updated = created
            order_lines.append(
                OrderLine(
                    order_line_id=f"{order_id}-{index}",
                    index=index,
                    offer_id=offer.offer_id,
                    offer_sku=offer.shop_sku,
                    product_sku=offer.product_sku,
                    product_title=offer.title,
                    category_code=offer.category_code,
                    category_label=offer.category_label,
                    quantity=quantity,
                    price_unit=offer.price,
                    shipping_price=money(shipping_price) if index == 1 else Decimal("0.00"),
                    commission_rate=self.commission_rate,
                    vat_rate=self.vat_rate,
                    state=state,
                    created_date=created,
                    last_updated_date=created,
                    warehouse=warehouse,
                )
            )
        order = Order(
            order_id=order_id,
            commercial_id=commercial_id,
            shop_id=shop_id,
            state=state,
            created_date=created,
            last_updated_date=created,
            acceptance_deadline=created + self.acceptance_window,
            lines=order_lines,
            customer=self._customer(),
            channel_code=channel_code,
            payment_workflow=payment_workflow,
            currency=shop.currency,
            reference_for_customer=reference_for_customer or f"CMD-{commercial_id}",
        )
        self.orders[order_id] = order
        if state == "WAITING_ACCEPTANCE":
            self._schedule(order.acceptance_deadline, "acceptance_deadline", order_id)
        return order

    def order(self, order_id: str, shop_id: int | None = None) -> Order:
        order = self.orders.get(order_id)
        if order is None or (shop_id is not None and order.shop_id != shop_id):
            raise MiraklError(404, f"Order with id {order_id} not found", "ORDER_NOT_FOUND")
        return order

    # -- orders: transitions ---------------------------------------------------------------

    def _touch(self, order: Order, at: datetime) -> None:
        order.last_updated_date = at

    def _set_state(self, order: Order, state: str, at: datetime) -> None:
        order.state = state
        for line in order.lines:
            if line.state in ACTIVE_LINE_STATES:
                line.state = state
                line.last_updated_date = at
        self._touch(order, at)

    def _release_stock(self, line: OrderLine, quantity: int) -> None:
        offer = self.offers.get(line.offer_id)
        if offer is not None and not offer.deleted:
            offer.give_back(quantity, line.warehouse)
            offer.last_updated = self.now()

    def validate(self, order_id: str) -> Order:
        """Operator: the STAGING checks pass (-> WAITING_ACCEPTANCE)."""
        order = self.order(order_id)
        if order.state != "STAGING":
            raise _invalid_state(order, "STAGING")
        now = self.now()
        self._set_state(order, "WAITING_ACCEPTANCE", now)
        # the acceptance window opens when the shop can first accept the order
        order.acceptance_deadline = now + self.acceptance_window
        self._schedule(order.acceptance_deadline, "acceptance_deadline", order_id)
        return order

    def accept(self, shop_id: int, order_id: str, decisions: Sequence[JSON]) -> Order:
        """OR21: decide every line of a WAITING_ACCEPTANCE order in one call."""
        order = self.order(order_id, shop_id)
        if not isinstance(decisions, list) or not decisions:
            raise MiraklError(400, "VALIDATION_ERROR: order_lines is required", "VALIDATION_ERROR")
        seen: dict[str, bool] = {}
        for decision in decisions:
            if decision is None:
                raise MiraklError(
                    400, "ORDER_LINE_NULL_ELEMENT: null order line", "ORDER_LINE_NULL_ELEMENT"
                )
            if not isinstance(decision, dict) or not isinstance(decision.get("accepted"), bool):
                raise MiraklError(
                    400, "VALIDATION_ERROR: each line needs id and accepted", "VALIDATION_ERROR"
                )
            line_id = decision.get("id")
            if not isinstance(line_id, str):
                raise MiraklError(400, "VALIDATION_ERROR: line id is required", "VALIDATION_ERROR")
            if line_id in seen:
                raise MiraklError(
                    400, f"ORDER_LINE_DUPLICATE_ID: {line_id}", "ORDER_LINE_DUPLICATE_ID"
                )
            if order.line(line_id) is None:
                raise MiraklError(
                    400,
                    f"ORDER_LINE_NOT_FOUND: {line_id} is not a line of order {order_id}",
                    "ORDER_LINE_NOT_FOUND",
                )
            seen[line_id] = decision["accepted"]
        if order.state != "WAITING_ACCEPTANCE":
            raise _invalid_state(order, "WAITING_ACCEPTANCE")
        missing = [ln.order_line_id for ln in order.lines if ln.order_line_id not in seen]
        if missing:
            raise MiraklError(
                400,
                "ORDER_LINE_ACCEPTANCE_DECISION_MISSING: no decision for " + ", ".join(missing),
                "ORDER_LINE_ACCEPTANCE_DECISION_MISSING",
            )
        values = set(seen.values())
        if len(values) > 1 and not self.partial_acceptance:
            raise MiraklError(
                400,
                "ORDER_PARTIAL_ACCEPTANCE_DISABLED: accept or refuse every line",
                "ORDER_PARTIAL_ACCEPTANCE_DISABLED",
            )
        now = self.now()
        order.acceptance_decision_date = now
        for line in order.lines:
            if not seen[line.order_line_id]:
                line.state = "REFUSED"
                line.last_updated_date = now
                self._release_stock(line, line.quantity)
        if True in values:
            self._set_state(order, "WAITING_DEBIT", now)
            order.shipping_deadline = (now + timedelta(days=order.leadtime_to_ship)).replace(
                hour=23, minute=59, second=59, microsecond=999000
            )
            if self.payment_delay is not None:
                self._schedule(now + self.payment_delay, "payment", order_id)
        else:
            order.state = "REFUSED"
            self._touch(order, now)
        return order

    def _on_acceptance_deadline(self, order_id: str, due: datetime) -> None:
        order = self.orders[order_id]
        if order.state != "WAITING_ACCEPTANCE" or due < order.acceptance_deadline:
            return
        order.acceptance_decision_date = None
        for line in order.lines:
            self._release_stock(line, line.quantity)
        self._set_state(order, "REFUSED", due)

    def request_debit(self, order_id: str) -> Order:
        """Operator: Mirakl asks for the debit (WAITING_DEBIT -> WAITING_DEBIT_PAYMENT)."""
        order = self.order(order_id)
        if order.state != "WAITING_DEBIT":
            raise _invalid_state(order, "WAITING_DEBIT")
        self._set_state(order, "WAITING_DEBIT_PAYMENT", self.now())
        return order

    def confirm_payment(self, order_id: str, at: datetime | None = None) -> Order:
        """Operator: the customer was debited (-> SHIPPING); writes the TL02 order lines."""
        order = self.order(order_id)
        if order.state not in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"):
            raise _invalid_state(order, "WAITING_DEBIT or WAITING_DEBIT_PAYMENT")
        at = at or self.now()
        order.customer_debited_date = at
        order.transaction_number = f"TX-{order.commercial_id}"
        for line in order.lines:
            if line.state in ACTIVE_LINE_STATES:
                line.debited_date = at
                self._order_line_transactions(order, line, at)
        self._set_state(order, "SHIPPING", at)
        return order

    def _on_payment(self, order_id: str, due: datetime) -> None:
        order = self.orders[order_id]
        if order.state in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"):
            self.confirm_payment(order_id, at=due)

    def refuse_payment(self, order_id: str) -> Order:
        """Operator: the debit failed (-> CANCELED, stock released)."""
        order = self.order(order_id)
        if order.state not in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"):
            raise _invalid_state(order, "WAITING_DEBIT or WAITING_DEBIT_PAYMENT")
        for line in order.lines:
            if line.state in ACTIVE_LINE_STATES:
                self._release_stock(line, line.quantity)
        self._set_state(order, "CANCELED", self.now())
        return order

    def update_tracking(self, shop_id: int, order_id: str, body: JSON) -> Order:
        """OR23: set carrier and tracking number (SHIPPING or SHIPPED orders)."""
        order = self.order(order_id, shop_id)
        if not isinstance(body, dict):
            raise MiraklError(
                400, "VALIDATION_ERROR: a JSON object is required", "VALIDATION_ERROR"
            )
        if order.state not in ("SHIPPING", "SHIPPED"):
            raise _invalid_state(order, "SHIPPING or SHIPPED")
        code = body.get("carrier_code")
        if code:
            carrier = next((c for c in self.carriers if c["code"] == code), None)
            if carrier is None:
                raise MiraklError(400, f"Unknown carrier code '{code}'", "VALIDATION_ERROR")
            order.carrier_code = code
            order.carrier_name = carrier["label"]
            order.carrier_standard_code = carrier.get("standard_code")
            template = carrier.get("tracking_url") or ""
            number = body.get("tracking_number") or ""
            order.carrier_url = template.replace("{trackingId}", number) if template else None
        elif body.get("carrier_name"):
            order.carrier_code = None
            order.carrier_name = body["carrier_name"]
            order.carrier_standard_code = body.get("carrier_standard_code")
            order.carrier_url = body.get("carrier_url")
        else:
            raise MiraklError(
                400,
                "VALIDATION_ERROR: carrier_code or carrier_name is required",
                "VALIDATION_ERROR",
            )
        order.tracking_number = body.get("tracking_number")
        self._touch(order, self.now())
        return order

    def ship(self, shop_id: int, order_id: str) -> Order:
        """OR24: confirm shipment (SHIPPING -> SHIPPED)."""
        order = self.order(order_id, shop_id)
        if order.state != "SHIPPING":
            raise _invalid_state(order, "SHIPPING")
        now = self.now()
        for line in order.lines:
            if line.state == "SHIPPING":
                line.shipped_date = now
        self._set_state(order, "SHIPPED", now)
        return order

    def receive(self, order_id: str) -> Order:
        """Customer/operator: the parcel arrived (SHIPPED -> RECEIVED); transactions payable."""
        order = self.order(order_id)
        if order.state != "SHIPPED":
            raise _invalid_state(order, "SHIPPED")
        now = self.now()
        for line in order.lines:
            if line.state == "SHIPPED":
                line.received_date = now
        self._set_state(order, "RECEIVED", now)
        for tx in self.transactions:
            if tx.order_id == order_id and tx.payment_state == "PENDING":
                tx.payment_state = "PAYABLE"
                tx.last_updated = now
        return order

    def close(self, order_id: str) -> Order:
        """Operator: the order is closed (RECEIVED -> CLOSED)."""
        order = self.order(order_id)
        if order.state != "RECEIVED" or order.has_incident:
            raise _invalid_state(order, "RECEIVED without open incident")
        now = self.now()
        order.state = "CLOSED"
        for line in order.lines:
            if line.state == "RECEIVED":
                line.state = "CLOSED"
                line.last_updated_date = now
        self._touch(order, now)
        return order

    def open_incident(self, order_id: str, line_id: str, reason_code: str = "1") -> Order:
        """Customer: opens an incident on a shipped/received line (-> INCIDENT_OPEN)."""
        order = self.order(order_id)
        line = order.line(line_id)
        if line is None:
            raise MiraklError(404, f"Order line {line_id} not found", "ORDER_LINE_NOT_FOUND")
        if line.state not in ("SHIPPED", "RECEIVED"):
            raise _invalid_state(order, "SHIPPED or RECEIVED")
        now = self.now()
        line.state_before_incident = line.state
        line.state = "INCIDENT_OPEN"
        line.state_reason_code = reason_code
        line.state_reason_label = self._reason_label(reason_code)
        line.last_updated_date = now
        self._touch(order, now)
        return order

    def close_incident(self, order_id: str, line_id: str, reason_code: str = "10") -> Order:
        """Seller/operator: the incident is resolved (line back to the order's state)."""
        order = self.order(order_id)
        line = order.line(line_id)
        if line is None or line.state != "INCIDENT_OPEN":
            raise MiraklError(400, "ORDER_LINE_INVALID_STATE", "ORDER_LINE_INVALID_STATE")
        now = self.now()
        line.state = order.state if order.state in ACTIVE_LINE_STATES else "RECEIVED"
        line.state_reason_code = reason_code
        line.state_reason_label = self._reason_label(reason_code)
        line.last_updated_date = now
        self._touch(order, now)
        return order

    def _reason_label(self, code: str) -> str | None:
        return next((r["label"] for r in self.reasons if r["code"] == code), None)

    def _check_reason(self, code: JSON, kind: str) -> str:
        if not isinstance(code, str) or not any(
            r["code"] == code and r["type"] == kind for r in self.reasons
        ):
            raise MiraklError(400, f"Invalid {kind} reason code '{code}'", "VALIDATION_ERROR")
        return code

    def cancel_order(self, shop_id: int, order_id: str) -> Order:
        """OR29: cancel a whole order the shop cannot ship (SHIPPING -> CANCELED)."""
        order = self.order(order_id, shop_id)
        if not order.can_cancel:
            raise _invalid_state(order, "SHIPPING")
        now = self.now()
        reason = next(r["code"] for r in self.reasons if r["type"] == "CANCELATION")
        for line in order.lines:
            if line.state in ACTIVE_LINE_STATES and line.remaining_amount >= 0:
                self._add_cancelation(
                    order,
                    line,
                    line.quantity - line.canceled_quantity,
                    line.remaining_amount,
                    line.remaining_shipping,
                    reason,
                    now,
                )
        self._set_state(order, "CANCELED", now)
        return order

    def _commission_share(self, line: OrderLine, amount: Decimal, shipping: Decimal) -> Decimal:
        if line.total_price == 0:
            return Decimal("0.00")
        return money(line.commission_fee * (amount + shipping) / line.total_price)

    def _add_cancelation(
        self,
        order: Order,
        line: OrderLine,
        quantity: int,
        amount: Decimal,
        shipping: Decimal,
        reason: str,
        now: datetime,
    ) -> Cancelation:
        commission = self._commission_share(line, amount, shipping)
        cancelation = Cancelation(
            id=str(6000 + self._next()),
            amount=amount,
            shipping_amount=shipping,
            quantity=quantity,
            reason_code=reason,
            created_date=now,
            commission_amount=commission,
            commission_tax_amount=money(commission * line.vat_rate),
        )
        line.cancelations.append(cancelation)
        line.last_updated_date = now
        self._release_stock(line, quantity)
        if order.customer_debited_date is not None:
            self._refund_transactions(
                order,
                line,
                cancelation.id,
                amount,
                shipping,
                cancelation.commission_amount,
                cancelation.commission_tax_amount,
                now,
            )
        return cancelation

    def cancel_lines(self, shop_id: int, cancelations: JSON) -> list[tuple[OrderLine, Cancelation]]:
        """OR30: cancel quantities/amounts of SHIPPING lines (all validated before any applies)."""
        if not isinstance(cancelations, list) or not cancelations:
            raise MiraklError(400, "VALIDATION_ERROR: cancelations is required", "VALIDATION_ERROR")
        plan = []
        for item in cancelations:
            line, order = self._find_line(shop_id, item)
            for name in ("quantity", "amount", "shipping_amount", "reason_code"):
                if item.get(name) is None:
                    raise MiraklError(
                        400, f"VALIDATION_ERROR: {name} is required", "VALIDATION_ERROR"
                    )
            reason = self._check_reason(item["reason_code"], "CANCELATION")
            amount, shipping = self._amounts(item)
            quantity = int(item["quantity"])
            if line.state != "SHIPPING":
                raise MiraklError(
                    400,
                    f"ORDER_LINE_INVALID_STATE: line {line.order_line_id} is {line.state}",
                    "ORDER_LINE_INVALID_STATE",
                )
            if (
                quantity < 0
                or quantity > line.quantity - line.canceled_quantity
                or amount > line.remaining_amount
                or shipping > line.remaining_shipping
            ):
                raise MiraklError(
                    400,
                    f"Cancelation exceeds what remains on {line.order_line_id}",
                    "VALIDATION_ERROR",
                )
            plan.append((order, line, quantity, amount, shipping, reason))
        now = self.now()
        done = []
        for order, line, quantity, amount, shipping, reason in plan:
            cancelation = self._add_cancelation(
                order, line, quantity, amount, shipping, reason, now
            )
            if line.remaining_amount <= 0 and line.canceled_quantity >= line.quantity:
                line.state = "CANCELED"
            if all(ln.state in ("CANCELED", "REFUSED") for ln in order.lines):
                order.state = "CANCELED"
            self._touch(order, now)
            done.append((line, cancelation))
        return done

    def _find_line(self, shop_id: int, item: JSON) -> tuple[OrderLine, Order]:
        if not isinstance(item, dict) or not isinstance(item.get("order_line_id"), str):
            raise MiraklError(
                400, "VALIDATION_ERROR: order_line_id is required", "VALIDATION_ERROR"
            )
        line_id = item["order_line_id"]
        order_id = line_id.rsplit("-", 1)[0]
        order = self.orders.get(order_id)
        line = order.line(line_id) if order and order.shop_id == shop_id else None
        if order is None or line is None:
            raise MiraklError(404, f"Order line {line_id} not found", "ORDER_LINE_NOT_FOUND")
        return line, order

    @staticmethod
    def _amounts(item: dict[str, JSON]) -> tuple[Decimal, Decimal]:
        try:
            amount = money(item.get("amount", 0))
            shipping = money(item.get("shipping_amount", 0))
        except ArithmeticError:
            raise MiraklError(400, "VALIDATION_ERROR: invalid amount", "VALIDATION_ERROR") from None
        if amount < 0 or shipping < 0:
            raise MiraklError(400, "VALIDATION_ERROR: amounts must be >= 0", "VALIDATION_ERROR")
        return amount, shipping

    def refund(self, shop_id: int, refunds: JSON) -> list[tuple[OrderLine, Refund]]:
        """OR28: refund amounts on shipped lines (all validated before any applies)."""
        if not isinstance(refunds, list) or not refunds:
            raise MiraklError(400, "VALIDATION_ERROR: refunds is required", "VALIDATION_ERROR")
        plan = []
        pending: dict[str, tuple[Decimal, Decimal]] = {}
        for item in refunds:
            line, order = self._find_line(shop_id, item)
            for name in ("amount", "shipping_amount", "reason_code"):
                if item.get(name) is None:
                    raise MiraklError(
                        400, f"VALIDATION_ERROR: {name} is required", "VALIDATION_ERROR"
                    )
            reason = self._check_reason(item["reason_code"], "REFUND")
            amount, shipping = self._amounts(item)
            if line.state not in REFUNDABLE_LINE_STATES:
                raise MiraklError(
                    400,
                    f"ORDER_LINE_INVALID_STATE: line {line.order_line_id} is {line.state}",
                    "ORDER_LINE_INVALID_STATE",
                )
            if amount == 0 and shipping == 0:
                raise MiraklError(
                    400, "ORDER_LINE_ZERO_AMOUNT: nothing to refund", "ORDER_LINE_ZERO_AMOUNT"
                )
            prev_a, prev_s = pending.get(line.order_line_id, (Decimal(0), Decimal(0)))
            if (
                amount + prev_a > line.remaining_amount
                or shipping + prev_s > line.remaining_shipping
            ):
                raise MiraklError(
                    400,
                    f"ORDER_LINE_ALREADY_REFUNDED: refund exceeds what remains on "
                    f"{line.order_line_id}",
                    "ORDER_LINE_ALREADY_REFUNDED",
                )
            pending[line.order_line_id] = (prev_a + amount, prev_s + shipping)
            quantity = item.get("quantity") or 0
            plan.append(
                (
                    order,
                    line,
                    amount,
                    shipping,
                    reason,
                    int(quantity),
                    bool(item.get("excluded_from_shipment", False)),
                )
            )
        now = self.now()
        order_refund_id = str(7000 + self._next())
        done = []
        for order, line, amount, shipping, reason, quantity, excluded in plan:
            commission = self._commission_share(line, amount, shipping)
            refund = Refund(
                id=str(8000 + self._next()),
                order_refund_id=order_refund_id,
                amount=amount,
                shipping_amount=shipping,
                quantity=quantity,
                reason_code=reason,
                created_date=now,
                commission_amount=commission,
                commission_tax_amount=money(commission * line.vat_rate),
                excluded_from_shipment=excluded,
            )
            line.refunds.append(refund)
            line.last_updated_date = now
            if line.remaining_amount <= 0:
                line.state = "REFUNDED"
            self._refund_transactions(
                order,
                line,
                refund.id,
                amount,
                shipping,
                refund.commission_amount,
                refund.commission_tax_amount,
                now,
            )
            self._schedule(now + self.refund_delay, "refund_paid", refund.id)
            self._touch(order, now)
            done.append((line, refund))
        return done

    def _on_refund_paid(self, refund_id: str, due: datetime) -> None:
        for order in self.orders.values():
            for line in order.lines:
                for refund in line.refunds:
                    if refund.id == refund_id and refund.state != "REFUNDED":
                        refund.state = "REFUNDED"
                        refund.transaction_date = due
                        refund.transaction_number = f"RTX-{refund.id}"
                        line.last_updated_date = due
                        self._touch(order, due)

    # -- transaction log (TL02) ------------------------------------------------------------

    def _tx(
        self,
        order: Order,
        line: OrderLine,
        kind: str,
        amount: Decimal,
        at: datetime,
        refund_id: str | None = None,
    ) -> None:
        if amount == 0:
            return
        balance = self._balances.get(order.shop_id, Decimal("0.00")) + amount
        self._balances[order.shop_id] = balance
        self.transactions.append(
            Transaction(
                id=self.uuid(),
                shop_id=order.shop_id,
                type=kind,
                amount=amount,
                balance=balance,
                currency=order.currency,
                date_created=at,
                last_updated=at,
                payment_state="PENDING",
                order_id=order.order_id,
                commercial_id=order.commercial_id,
                order_created=order.created_date,
                order_line_id=line.order_line_id,
                refund_id=refund_id,
                channel_code=order.channel_code,
                seq=self._next(),
            )
        )

    def _order_line_transactions(self, order: Order, line: OrderLine, at: datetime) -> None:
        self._tx(order, line, "ORDER_AMOUNT", line.price, at)
        self._tx(order, line, "ORDER_SHIPPING_AMOUNT", line.shipping_price, at)
        self._tx(order, line, "COMMISSION_FEE", -line.commission_fee, at)
        self._tx(order, line, "COMMISSION_VAT", -line.commission_vat, at)

    def _refund_transactions(
        self,
        order: Order,
        line: OrderLine,
        refund_id: str,
        amount: Decimal,
        shipping: Decimal,
        commission: Decimal,
        commission_tax: Decimal,
        at: datetime,
    ) -> None:
        self._tx(order, line, "REFUND_ORDER_AMOUNT", -amount, at, refund_id)
        self._tx(order, line, "REFUND_ORDER_SHIPPING_AMOUNT", -shipping, at, refund_id)
        self._tx(order, line, "REFUND_COMMISSION_FEE", commission, at, refund_id)
        self._tx(order, line, "REFUND_COMMISSION_VAT", commission_tax, at, refund_id)

    def pay_out(self, shop_id: int) -> Decimal:
        """Operator payout: every PAYABLE line becomes PAID and a PAYMENT line is written."""
        now = self.now()
        total = Decimal("0.00")
        for tx in self.transactions:
            if tx.shop_id == shop_id and tx.payment_state == "PAYABLE":
                tx.payment_state = "PAID"
                tx.last_updated = now
                total += tx.amount
        if total:
            balance = self._balances.get(shop_id, Decimal("0.00")) - total
            self._balances[shop_id] = balance
            self.transactions.append(
                Transaction(
                    id=self.uuid(),
                    shop_id=shop_id,
                    type="PAYMENT",
                    amount=-total,
                    balance=balance,
                    currency=self.shops[shop_id].currency,
                    date_created=now,
                    last_updated=now,
                    payment_state="PAID",
                    seq=self._next(),
                )
            )
        return total

    # -- stock imports (STO01/02/03) -------------------------------------------------------

    def submit_stock_import(self, shop_id: int, content: bytes) -> StockImport:
        """STO01: queue a stock file; it completes after ``import_delay``."""
        now = self.now()
        imp = StockImport(import_id=self.uuid(), shop_id=shop_id, date_created=now, content=content)
        self.stock_imports[imp.import_id] = imp
        self._schedule(now + self.import_delay / 2, "stock_import_running", imp.import_id)
        self._schedule(now + self.import_delay, "stock_import_complete", imp.import_id)
        return imp

    def _on_stock_import_running(self, import_id: str, due: datetime) -> None:
        imp = self.stock_imports[import_id]
        if imp.status == "WAITING":
            imp.status = "RUNNING"

    def _on_stock_import_complete(self, import_id: str, due: datetime) -> None:
        imp = self.stock_imports[import_id]
        rows = _read_csv(imp.content)
        if rows is None or not rows[0] or "offer-sku" not in rows[0] or "quantity" not in rows[0]:
            imp.status = "FAILED"
            return
        header, body = rows[0], rows[1:]
        shop = self.shops[imp.shop_id]
        updates: list[tuple[Offer, str | None, int | None]] = []
        for number, row in enumerate(body, start=2):
            if not any(cell.strip() for cell in row):
                continue
            values = dict(zip(header, row, strict=False))
            sku = values.get("offer-sku", "").strip()
            raw_qty = values.get("quantity", "").strip()
            warehouse = values.get("warehouse-code", "").strip() or None
            mode = values.get("update-delete", "").strip().lower()
            offer = self.offer_by_sku(imp.shop_id, sku) if sku else None
            error = None
            if not sku:
                error = "The offer-sku is required"
            elif offer is None:
                error = f"The offer with SKU '{sku}' does not exist"
            elif warehouse is not None and warehouse not in shop.warehouses:
                error = f"The warehouse code '{warehouse}' does not exist"
            elif mode not in ("", "update", "delete"):
                error = f"Invalid update-delete value '{mode}'"
            elif mode == "delete" and warehouse is None:
                error = "A warehouse-code is required to delete a warehouse quantity"
            elif mode != "delete" and not (raw_qty.isdigit()):
                error = f"The quantity '{raw_qty}' must be a positive integer"
            if error is not None:
                imp.errors.append((number, error))
                continue
            assert offer is not None
            updates.append((offer, warehouse, None if mode == "delete" else int(raw_qty)))
        for offer, warehouse, quantity in updates:
            if warehouse is None:
                offer.warehouses = {}
                offer.quantity = quantity or 0
            elif quantity is None:
                offer.warehouses.pop(warehouse, None)
            else:
                offer.warehouses[warehouse] = quantity
            offer.last_updated = due
        imp.lines_in_success = len(updates)
        imp.lines_in_error = len(imp.errors)
        imp.status = "COMPLETE"

    # -- offer imports (OF01/02/03) --------------------------------------------------------

    def submit_offer_import(self, shop_id: int, content: bytes, mode: str) -> OfferImport:
        """OF01: queue an offer file (NORMAL or REPLACE); completes after ``import_delay``."""
        now = self.now()
        self._offer_import_counter += 1
        imp = OfferImport(self._offer_import_counter, shop_id, now, content, mode)
        self.offer_imports[imp.import_id] = imp
        self._schedule(now + self.import_delay / 2, "offer_import_running", str(imp.import_id))
        self._schedule(now + self.import_delay, "offer_import_complete", str(imp.import_id))
        return imp

    def _on_offer_import_running(self, key: str, due: datetime) -> None:
        imp = self.offer_imports[int(key)]
        if imp.status == "WAITING":
            imp.status = "RUNNING"

    def _on_offer_import_complete(self, key: str, due: datetime) -> None:
        imp = self.offer_imports[int(key)]
        rows = _read_csv(imp.content)
        if rows is None or not rows[0] or "sku" not in rows[0]:
            imp.status = "FAILED"
            imp.reason_status = "The file has no 'sku' column"
            return
        header, body = rows[0], rows[1:]
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([*header, "error-line", "error-message"])
        seen: set[str] = set()
        for number, row in enumerate(body, start=2):
            if not any(cell.strip() for cell in row):
                continue
            imp.lines_read += 1
            values = {k: v.strip() for k, v in zip(header, row, strict=False)}
            error = self._apply_offer_row(imp, values, due)
            if error is None:
                imp.lines_in_success += 1
                seen.add(values["sku"])
            else:
                imp.lines_in_error += 1
                writer.writerow([*row, str(number), error])
        if imp.mode == "REPLACE":
            for offer in self.shop_offers(imp.shop_id):
                if offer.shop_sku not in seen:
                    offer.deleted = True
                    offer.active = False
                    offer.last_updated = due
                    imp.offer_deleted += 1
        imp.error_report = out.getvalue() if imp.lines_in_error else ""
        imp.status = "COMPLETE"

    def _apply_offer_row(
        self, imp: OfferImport, values: dict[str, str], due: datetime
    ) -> str | None:
        sku = values.get("sku", "")
        if not sku:
            return "The sku is required"
        mode = values.get("update-delete", "").lower()
        offer = self.offer_by_sku(imp.shop_id, sku)
        if mode == "delete":
            if offer is None:
                return f"The offer with SKU '{sku}' does not exist"
            offer.deleted = True
            offer.active = False
            offer.last_updated = due
            imp.offer_deleted += 1
            return None
        if mode not in ("", "update"):
            return f"Invalid update-delete value '{mode}'"
        quantity = values.get("quantity")
        price = values.get("price")
        if quantity and not quantity.isdigit():
            return f"The quantity '{quantity}' must be a positive integer"
        try:
            parsed_price = money(price) if price else None
        except ArithmeticError:
            return f"The price '{price}' is invalid"
        if offer is None:
            product = values.get("product-id")
            if not product:
                return f"The offer with SKU '{sku}' does not exist and no product-id was given"
            if parsed_price is None:
                return "The price is required to create an offer"
            offer = self.add_offer(
                imp.shop_id,
                sku,
                quantity=int(quantity or 0),
                price=parsed_price,
                product_sku=product,
            )
            offer.date_created = offer.last_updated = due
            imp.offer_inserted += 1
            return None
        if quantity:
            offer.warehouses = {}
            offer.quantity = int(quantity)
        if parsed_price is not None:
            offer.price = parsed_price
        if values.get("state"):
            offer.state_code = values["state"]
        if values.get("leadtime-to-ship", "").isdigit():
            offer.leadtime_to_ship = int(values["leadtime-to-ship"])
        offer.last_updated = due
        imp.offer_updated += 1
        return None

    # -- multiple shipments (ST01, ST11) ---------------------------------------------------

    def order_shipments(self, order_id: str) -> list[Shipment]:
        """The shipments of an order, oldest first."""
        return sorted(
            (s for s in self.shipments.values() if s.order_id == order_id), key=lambda s: s.seq
        )

    def shipment_quantities(self, line: OrderLine) -> tuple[int, int]:
        """(units of the line in shipments, units in SHIPPED-or-later shipments)."""
        order_id = line.order_line_id.rsplit("-", 1)[0]
        allocated = shipped = 0
        for shipment in self.order_shipments(order_id):
            if shipment.status == "CANCELED":
                continue
            units = sum(
                sl.quantity for sl in shipment.lines if sl.order_line_id == line.order_line_id
            )
            allocated += units
            if shipment.status != "SHIPPING":
                shipped += units
        return allocated, shipped

    def remaining_to_ship(self, line: OrderLine) -> int:
        """Units of a SHIPPING line not yet in any shipment (canceled units excluded)."""
        if line.state != "SHIPPING":
            return 0
        allocated, _ = self.shipment_quantities(line)
        return max(0, line.quantity - line.canceled_quantity - allocated)

    @staticmethod
    def _check_shipments_body(shipments: JSON) -> list[dict[str, JSON]]:
        """Schema-level checks of an ST01 body: any failure refuses the whole call (400)."""
        if not isinstance(shipments, list) or not shipments:
            raise _validation("shipments must be a non-empty list")
        if len(shipments) > MAX_SHIPMENTS_PER_CALL:
            raise _validation(f"at most {MAX_SHIPMENTS_PER_CALL} shipments per call")
        for item in shipments:
            if not isinstance(item, dict):
                raise _validation("each shipment must be an object")
            if not isinstance(item.get("order_id"), str) or not item["order_id"]:
                raise _validation("order_id is required")
            lines = item.get("shipment_lines")
            if not isinstance(lines, list) or not lines:
                raise _validation("shipment_lines must be a non-empty list")
            for line in lines:
                if not isinstance(line, dict):
                    raise _validation("each shipment line must be an object")
                quantity = line.get("quantity")
                if isinstance(quantity, bool) or not isinstance(quantity, int):
                    raise _validation("shipment_lines[].quantity must be an integer")
                if not isinstance(line.get("order_line_id") or line.get("offer_sku"), str):
                    raise _validation("shipment_lines[].order_line_id is required")
            if not isinstance(item.get("shipped", False), bool):
                raise _validation("shipped must be a boolean")
            for name in ("tracking", "shipping_from"):
                if item.get(name) is not None and not isinstance(item[name], dict):
                    raise _validation(f"{name} must be an object")
            reference = item.get("invoice_reference")
            if reference is not None and (
                not isinstance(reference, str) or not _INVOICE_REFERENCE.fullmatch(reference)
            ):
                raise _validation("invoice_reference must match [0-9a-zA-Z_-]{0,255}")
        return shipments

    def create_shipments(
        self, shop_id: int, shipments: JSON
    ) -> tuple[list[Shipment], list[tuple[str, str]]]:
        """ST01: create shipments one by one; a refused one is an ``(order_id, message)`` error
        and does not stop the others (later shipments see the earlier ones' quantities)."""
        items = self._check_shipments_body(shipments)
        created: list[Shipment] = []
        errors: list[tuple[str, str]] = []
        for item in items:
            try:
                created.append(self._create_shipment(shop_id, item))
            except MiraklError as error:
                errors.append((item["order_id"], error.message))
        return created, errors

    def _create_shipment(self, shop_id: int, item: dict[str, JSON]) -> Shipment:
        order_id = item["order_id"]
        order = self.orders.get(order_id)
        if order is None or order.shop_id != shop_id:
            raise MiraklError(400, f"Order with id '{order_id}' not found.")
        if order.state != "SHIPPING":
            raise MiraklError(
                400, f"The order status must be 'SHIPPING' but it is '{order.state}'."
            )
        wanted: dict[str, int] = {}
        lines: list[ShipmentLine] = []
        for raw in item["shipment_lines"]:
            line_id = raw.get("order_line_id")
            if isinstance(line_id, str):
                line = order.line(line_id)
            else:  # deprecated: the offer SKU designates the order's line for that offer
                line = next((ln for ln in order.lines if ln.offer_sku == raw["offer_sku"]), None)
            if line is None:
                designation = line_id if isinstance(line_id, str) else raw["offer_sku"]
                raise MiraklError(
                    400, f"Order line '{designation}' not found in order '{order_id}'."
                )
            if line.state != "SHIPPING":
                raise MiraklError(
                    400,
                    f"The order line '{line.order_line_id}' status must be 'SHIPPING' but it is "
                    f"'{line.state}'.",
                )
            quantity = int(raw["quantity"])
            wanted[line.order_line_id] = wanted.get(line.order_line_id, 0) + quantity
            if quantity < 1 or wanted[line.order_line_id] > self.remaining_to_ship(line):
                raise MiraklError(400, "Shipment quantity is invalid.")
            reference = raw.get("package_reference")
            lines.append(
                ShipmentLine(
                    line.order_line_id,
                    line.offer_sku,
                    quantity,
                    reference if isinstance(reference, str) else None,
                )
            )
        tracking = self._shipment_tracking(item.get("tracking"))
        warehouse = None
        origin = item.get("shipping_from") or {}
        if isinstance(origin.get("warehouse"), dict):
            warehouse = origin["warehouse"].get("code")
            if warehouse is not None and warehouse not in self.shops[shop_id].warehouses:
                raise MiraklError(400, f"Warehouse with code {warehouse} does not exist")
        now = self.now()
        shipment = Shipment(
            id=self.uuid(),
            shop_id=shop_id,
            order_id=order_id,
            lines=lines,
            created_date=now,
            last_updated_date=now,
            status_customer_debit=(
                "NOT_STARTED" if order.payment_workflow == "PAY_ON_SHIPMENT" else "NO_DEBIT"
            ),
            invoice_reference=item.get("invoice_reference"),
            warehouse=warehouse,
            additional_information=list(item.get("shipment_additional_information") or []),
            seq=self._next(),
        )
        for name, value in tracking.items():
            setattr(shipment, name, value)
        self.shipments[shipment.id] = shipment
        self._touch(order, now)
        if item.get("shipped"):
            self.ship_shipment(shipment.id)
        return shipment

    def _shipment_tracking(self, body: JSON) -> dict[str, str | None]:
        """ST01 ``tracking`` as Shipment fields: a registered carrier's name and URL come from
        SH21 (as OR23); an unregistered one keeps the given name and URL."""
        if not body:
            return {}
        code = body.get("carrier_code")
        number = body.get("tracking_number")
        if code:
            carrier = next((c for c in self.carriers if c["code"] == code), None)
            if carrier is None:
                raise MiraklError(400, f"Carrier with code '{code}' not found.")
            template = carrier.get("tracking_url") or ""
            return {
                "carrier_code": code,
                "carrier_name": carrier["label"],
                "carrier_standard_code": carrier.get("standard_code"),
                "tracking_number": number,
                "tracking_url": template.replace("{trackingId}", number or "") or None,
            }
        if body.get("carrier_name"):
            return {
                "carrier_name": body["carrier_name"],
                "carrier_standard_code": body.get("carrier_standard_code"),
                "tracking_number": number,
                "tracking_url": body.get("tracking_url"),
            }
        raise MiraklError(400, "A carrier code or a carrier name is required.")

    def ship_shipment(self, shipment_id: str) -> Shipment:
        """Ship one shipment (ST01 ``shipped: true``, or ST24's effect): SHIPPING -> SHIPPED.

        When every unit of every SHIPPING line of the order is in a shipped shipment, the order
        and its lines become SHIPPED with ``shipped_date``, as OR24 does.
        """
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise MiraklError(404, f"Shipment {shipment_id} not found")
        if shipment.status != "SHIPPING":
            raise MiraklError(
                400, f"The shipment status must be 'SHIPPING' but it is '{shipment.status}'."
            )
        now = self.now()
        shipment.status = "SHIPPED"
        shipment.shipped_date = now
        shipment.last_updated_date = now
        order = self.orders[shipment.order_id]
        self._touch(order, now)
        pending = [ln for ln in order.lines if ln.state == "SHIPPING"]
        if (
            order.state == "SHIPPING"
            and pending
            and all(
                self.shipment_quantities(ln)[1] >= ln.quantity - ln.canceled_quantity
                for ln in pending
            )
        ):
            for line in pending:
                line.shipped_date = now
            self._set_state(order, "SHIPPED", now)
        return shipment

    # -- exports (OR13/OR14/OR15, OF52/OF53/OF54) ------------------------------------------

    def submit_export(self, kind: str, shop_id: int, params: dict[str, JSON]) -> Export:
        now = self.now()
        export = Export(self.uuid(), kind, shop_id, now, params, last_updated=now)
        self.exports[export.tracking_id] = export
        self._schedule(now + self.export_delay, "export_complete", export.tracking_id)
        return export

    def pending_export(self, kind: str, shop_id: int) -> Export | None:
        for export in self.exports.values():
            if export.kind == kind and export.shop_id == shop_id and export.status == "PENDING":
                return export
        return None

    #: set by the app: builds an export's chunks (list of JSON payloads) when it completes
    export_builder: Callable[[Export, datetime], list[JSON]] | None = None

    def _on_export_complete(self, tracking_id: str, due: datetime) -> None:
        export = self.exports[tracking_id]
        if export.status != "PENDING":
            return
        export.chunks = self.export_builder(export, due) if self.export_builder else []
        export.status = "COMPLETED"
        export.last_updated = due

    # -- scenario helpers ------------------------------------------------------------------

    def orders_in(self, *states: str, shop_id: int | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.state in states and (shop_id is None or o.shop_id == shop_id)
        ]


def _read_csv(content: bytes) -> list[list[str]] | None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not text.strip():
        return None
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if rows:
        rows[0] = [h.strip().lower() for h in rows[0]]
    return rows


def iter_reasons(reasons: Iterable[dict[str, JSON]], kind: str) -> list[str]:
    return [r["code"] for r in reasons if r["type"] == kind]


DEFAULT_REASONS: tuple[dict[str, JSON], ...] = (
    {"code": "1", "label": "Item not received", "type": "INCIDENT_OPEN", "is_shop_right": False},
    {"code": "2", "label": "Item damaged", "type": "INCIDENT_OPEN", "is_shop_right": False},
    {"code": "10", "label": "Replacement sent", "type": "INCIDENT_CLOSE", "is_shop_right": True},
    {"code": "15", "label": "Out of stock", "type": "REFUND", "is_shop_right": True},
    {"code": "16", "label": "Item returned", "type": "REFUND", "is_shop_right": True},
    {"code": "17", "label": "Commercial gesture", "type": "REFUND", "is_shop_right": True},
    {
        "code": "34",
        "label": "Cancelled by the client",
        "type": "CANCELATION",
        "is_shop_right": True,
    },
    {"code": "35", "label": "Out of stock", "type": "CANCELATION", "is_shop_right": True},
    {"code": "26", "label": "Other question", "type": "ORDER_MESSAGING", "is_shop_right": True},
)

DEFAULT_CARRIERS: tuple[dict[str, JSON], ...] = (
    {
        "code": "UPS",
        "label": "UPS",
        "standard_code": "UPS",
        "tracking_url": "https://www.ups.com/track?tracknum={trackingId}",
    },
    {
        "code": "DHL",
        "label": "DHL Express",
        "standard_code": "DHL",
        "tracking_url": "https://www.dhl.com/track?id={trackingId}",
    },
    {
        "code": "COLISSIMO",
        "label": "Colissimo",
        "standard_code": None,
        "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code={trackingId}",
    },
    {"code": "CHRONOPOST", "label": "Chronopost", "standard_code": None, "tracking_url": None},
)
