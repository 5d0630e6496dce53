"""Translations between the Mirakl wire models, the core's domain types and the ledger's JSON.

The ledger keeps a snapshot of each order as the core sees it (no customer data: names and
addresses never reach our storage), so every job can rebuild core orders without calling Mirakl.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from mirakl_sync.core.models import (
    Marketplace,
    OfferSku,
    Order,
    OrderId,
    OrderLine,
    OrderLineId,
    Refund,
    ShopId,
    WarehouseCode,
)
from mirakl_sync.mirakl import models as wire

__all__ = ["order_from_json", "order_from_mirakl", "order_to_json"]

ZERO = Decimal("0")


def _money(value: Decimal | None) -> Decimal:
    return value if value is not None else ZERO


def _state(value: object) -> str:
    return str(value) if value is not None else "UNKNOWN"


def _line_from_mirakl(line: wire.OrderLine) -> OrderLine:
    taxes = sum((_money(t.amount) for t in line.taxes), ZERO) + sum(
        (_money(t.amount) for t in line.shipping_taxes), ZERO
    )
    refunds = tuple(
        Refund(
            refund_id=str(r.id) if r.id is not None else f"{line.order_line_id}-refund-{i}",
            amount=_money(r.amount),
            shipping_amount=_money(r.shipping_amount),
            taxes=sum((_money(t.amount) for t in r.taxes), ZERO)
            + sum((_money(t.amount) for t in r.shipping_taxes), ZERO),
            commission=_money(r.commission_total_amount),
            state=_state(r.refund_state or r.state or "REFUNDED"),
            created_at=r.created_date,
        )
        for i, r in enumerate(line.refunds)
    )
    warehouse = ""
    if line.shipping_from is not None and line.shipping_from.warehouse is not None:
        warehouse = line.shipping_from.warehouse.code or ""
    return OrderLine(
        line_id=OrderLineId(line.order_line_id),
        offer_sku=OfferSku(line.offer_sku or ""),
        quantity=line.quantity or 0,
        state=_state(line.order_line_state),
        price=_money(line.price),
        shipping_price=_money(line.shipping_price),
        taxes=taxes,
        commission=_money(line.total_commission),
        refunds=refunds,
        warehouse=WarehouseCode(warehouse),
    )


def order_from_mirakl(order: wire.Order, *, shop: str, marketplace: str) -> Order:
    """The core's view of an OR11 order. A missing ``created_date`` falls back to the last
    update (the core needs a date to compute deadlines; Mirakl always sends it in practice)."""
    created = order.created_date or order.last_updated_date
    if created is None:
        raise ValueError(f"order {order.order_id} has neither created_date nor last_updated_date")
    return Order(
        order_id=OrderId(order.order_id),
        state=_state(order.order_state),
        created_at=created,
        lines=tuple(_line_from_mirakl(line) for line in order.order_lines),
        shop=ShopId(shop),
        marketplace=Marketplace(marketplace),
        currency=order.currency_iso_code or "EUR",
        last_updated_at=order.last_updated_date,
        acceptance_decision_at=order.acceptance_decision_date,
        shipping_deadline=order.shipping_deadline,
        shipping_tracking=order.shipping_tracking,
        shipped_at=max(
            (line.shipped_date for line in order.order_lines if line.shipped_date), default=None
        ),
    )


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def order_to_json(order: Order) -> dict[str, Any]:
    """A JSON-safe snapshot (money as strings, times ISO-8601) for the ledger."""
    return {
        "order_id": order.order_id,
        "state": order.state,
        "created_at": _dt(order.created_at),
        "shop": order.shop,
        "marketplace": order.marketplace,
        "currency": order.currency,
        "last_updated_at": _dt(order.last_updated_at),
        "acceptance_decision_at": _dt(order.acceptance_decision_at),
        "shipping_deadline": _dt(order.shipping_deadline),
        "shipping_tracking": order.shipping_tracking,
        "shipped_at": _dt(order.shipped_at),
        "lines": [
            {
                "line_id": line.line_id,
                "offer_sku": line.offer_sku,
                "quantity": line.quantity,
                "state": line.state,
                "price": str(line.price),
                "shipping_price": str(line.shipping_price),
                "taxes": str(line.taxes),
                "commission": str(line.commission),
                "warehouse": line.warehouse,
                "refunds": [
                    {
                        "refund_id": r.refund_id,
                        "amount": str(r.amount),
                        "shipping_amount": str(r.shipping_amount),
                        "taxes": str(r.taxes),
                        "commission": str(r.commission),
                        "state": r.state,
                        "created_at": _dt(r.created_at),
                    }
                    for r in line.refunds
                ],
            }
            for line in order.lines
        ],
    }


def order_from_json(data: Mapping[str, Any]) -> Order:
    """Rebuild a core order from :func:`order_to_json` output."""
    created = _parse_dt(data["created_at"])
    assert created is not None
    return Order(
        order_id=OrderId(data["order_id"]),
        state=data["state"],
        created_at=created,
        shop=ShopId(data.get("shop", "")),
        marketplace=Marketplace(data.get("marketplace", "")),
        currency=data.get("currency", "EUR"),
        last_updated_at=_parse_dt(data.get("last_updated_at")),
        acceptance_decision_at=_parse_dt(data.get("acceptance_decision_at")),
        shipping_deadline=_parse_dt(data.get("shipping_deadline")),
        shipping_tracking=data.get("shipping_tracking"),
        shipped_at=_parse_dt(data.get("shipped_at")),
        lines=tuple(
            OrderLine(
                line_id=OrderLineId(line["line_id"]),
                offer_sku=OfferSku(line["offer_sku"]),
                quantity=int(line["quantity"]),
                state=line["state"],
                price=Decimal(line["price"]),
                shipping_price=Decimal(line["shipping_price"]),
                taxes=Decimal(line["taxes"]),
                commission=Decimal(line["commission"]),
                warehouse=WarehouseCode(line.get("warehouse", "")),
                refunds=tuple(
                    Refund(
                        refund_id=r["refund_id"],
                        amount=Decimal(r["amount"]),
                        shipping_amount=Decimal(r["shipping_amount"]),
                        taxes=Decimal(r["taxes"]),
                        commission=Decimal(r["commission"]),
                        state=r["state"],
                        created_at=_parse_dt(r.get("created_at")),
                    )
                    for r in line.get("refunds", [])
                ),
            )
            for line in data["lines"]
        ),
    )
