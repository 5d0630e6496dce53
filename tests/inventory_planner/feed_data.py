"""A small ledger for the feed tests: two warehouses, a cancelled line, a partial return."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mirakl_sync.inventory_planner.feeds import (
    FeedWarehouse,
    Product,
    SalesLine,
    StockLevel,
)

T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
AS_OF = dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC)


def warehouses() -> list[FeedWarehouse]:
    return [
        FeedWarehouse(warehouse_id="mirakl-fr", display_name="Mirakl FR", currency="EUR"),
        FeedWarehouse(warehouse_id="mirakl-de", display_name="Mirakl DE", currency="EUR"),
    ]


def products() -> list[Product]:
    return [
        Product(
            sku="SKU-1",
            title="Blue mug, 300 ml",
            price=Decimal("12.50"),
            created_at=T0,
            product_id="P-1",
            barcode="4006381333931",
            cost_price=Decimal("4.10"),
            vendor="Acme",
        ),
        Product(sku="SKU-2", title='Poster "big"', price=Decimal("30"), created_at=T0),
    ]


def stock() -> list[StockLevel]:
    return [
        StockLevel(sku="SKU-1", warehouse="mirakl-fr", quantity=7),
        StockLevel(sku="SKU-1", warehouse="mirakl-de", quantity=Decimal("2.5")),
        StockLevel(sku="SKU-2", warehouse="mirakl-fr", quantity=-1),
    ]


def sales() -> list[SalesLine]:
    return [
        SalesLine(
            order_id="ORD-1-A",
            order_line_id="ORD-1-A-1",
            sku="SKU-1",
            product_id="P-1",
            created_at=T0,
            unit_price=Decimal("12.50"),
            quantity=3,
            currency="EUR",
            warehouse="mirakl-fr",
        ),
        SalesLine(
            order_id="ORD-1-A",
            order_line_id="ORD-1-A-2",
            sku="SKU-2",
            created_at=T0,
            unit_price=Decimal("30.00"),
            quantity=1,
            currency="EUR",
            canceled=True,
            warehouse="mirakl-fr",
        ),
        SalesLine(
            order_id="ORD-2-B",
            order_line_id="ORD-2-B-1",
            sku="SKU-1",
            product_id="P-1",
            created_at=T0 + dt.timedelta(days=1),
            updated_at=T0 + dt.timedelta(days=3),
            unit_price=Decimal("11.90"),
            quantity=2,
            returned_quantity=1,
            currency="EUR",
            warehouse="mirakl-de",
        ),
    ]
