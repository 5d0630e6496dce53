"""Small builders for core domain objects in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from mirakl_sync.core.models import (
    Marketplace,
    OfferSku,
    Order,
    OrderId,
    OrderLine,
    OrderLineId,
    OrderState,
    Refund,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def line(
    n: int | str,
    offer: str,
    qty: int = 1,
    state: str = OrderState.WAITING_ACCEPTANCE,
    *,
    price: str = "10.00",
    shipping: str = "0.00",
    taxes: str = "0.00",
    commission: str = "1.00",
    refunds: tuple[Refund, ...] = (),
    order: str = "O",
) -> OrderLine:
    return OrderLine(
        line_id=OrderLineId(f"{order}-{n}"),
        offer_sku=OfferSku(offer),
        quantity=qty,
        state=state,
        price=Decimal(price),
        shipping_price=Decimal(shipping),
        taxes=Decimal(taxes),
        commission=Decimal(commission),
        refunds=refunds,
    )


def order(
    oid: str,
    *lines: OrderLine,
    state: str = OrderState.WAITING_ACCEPTANCE,
    age: timedelta = timedelta(hours=1),
    marketplace: str = "",
    **kw: object,
) -> Order:
    if not lines:
        lines = (line(1, "A", order=oid),)
    return Order(
        order_id=OrderId(oid),
        state=state,
        created_at=NOW - age,
        lines=tuple(lines),
        marketplace=Marketplace(marketplace),
        **kw,  # type: ignore[arg-type]
    )
