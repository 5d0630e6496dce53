"""End to end: the produced feed files are ingested by the Inventory Planner sandbox's CSV
connectors, and the variants read back through the client reflect the sales and the stock.

* Starter: files served by :class:`StarterFeedServer` on loopback, pulled by the sandbox as IP
  does (HEAD to verify, then GET, with Basic auth).
* Advanced: files uploaded to a real SFTP server on loopback, then each uploaded file is loaded
  by the sandbox's Advanced connector in IP's order (what IP's nightly sync does).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import httpx

from mirakl_sync.inventory_planner.feeds import (
    ADVANCED_ORDER,
    SalesLine,
    SftpPublisher,
    StarterFeedServer,
    StockLevel,
    build_advanced_feed,
    build_starter_feed,
)
from mirakl_sync.sandbox import InventoryPlannerSandbox
from tests.inventory_planner import feed_data as data
from tests.inventory_planner.helpers import sandbox_client
from tests.inventory_planner.sftp_server import LoopbackSftpServer


def test_starter_feed_end_to_end(tmp_path: Path) -> None:
    ip = InventoryPlannerSandbox(seed=1)
    build_starter_feed(
        tmp_path / "feed",
        products=data.products(),
        stock={"SKU-1": 7, "SKU-2": 4},
        sales=data.sales(),
    )
    with (
        StarterFeedServer(tmp_path / "feed", username="ip", password="pw-123456") as server,
        httpx.Client(auth=("ip", "pw-123456")) as http,
    ):
        report = ip.connectors.pull_starter(
            "mirakl-fr", http, server.url_for("products.csv"), server.url_for("sales_orders.csv")
        )
    assert report.accepted, report
    assert not report.errors, report
    assert (report.created, report.sales_rows) == (2, 3)

    client = sandbox_client(ip, "sync")
    warehouse = ip.connectors.connections["mirakl-fr"]
    sku1 = client.variants.get_by_sku("SKU-1")
    assert sku1 is not None
    block = sku1.block(warehouse)
    assert block is not None
    assert block.in_stock == Decimal(7)
    assert sku1.title == "Blue mug, 300 ml"
    assert sku1.price == Decimal("12.5")
    sales = {(s.order_id, s.sku): s for s in ip.state.sales}
    assert sales[("ORD-1-A", "SKU-2")].cancelled is True
    assert sales[("ORD-2-B", "SKU-1")].quantity == 1  # net of the return
    assert sku1.extra == {}
    assert client.variants.get(sku1.id, extra_fields=["total_sales"]).total_sales == 4

    # The next daily pull: a product disappears from the snapshot -> IP drops its stock.
    build_starter_feed(
        tmp_path / "feed", products=data.products()[:1], stock={"SKU-1": 6}, sales=data.sales()
    )
    with (
        StarterFeedServer(tmp_path / "feed", username="ip", password="pw-123456") as server,
        httpx.Client(auth=("ip", "pw-123456")) as http,
    ):
        again = ip.connectors.pull_starter(
            "mirakl-fr", http, server.url_for("products.csv"), server.url_for("sales_orders.csv")
        )
    assert again.accepted
    assert again.removed == 1
    sku2 = client.variants.get_by_sku("SKU-2")
    assert sku2 is not None
    assert sku2.block(warehouse) is None


def _ingest(ip: InventoryPlannerSandbox, root: Path) -> list[str]:
    """IP's nightly sync: every uploaded file, entity by entity, oldest name first."""
    errors: list[str] = []
    for entity in ADVANCED_ORDER:
        for path in sorted((root / entity).glob("*.csv")):
            report = ip.connectors.import_advanced(entity, path.read_text(encoding="utf-8"))
            assert report.accepted, (path.name, report.errors)
            errors += report.errors
            path.unlink()  # processed
    return errors


def test_advanced_feed_end_to_end_over_sftp(tmp_path: Path) -> None:
    ip = InventoryPlannerSandbox(seed=2)
    client = sandbox_client(ip, "sync")
    with LoopbackSftpServer(tmp_path) as server:
        publisher = SftpPublisher(
            "127.0.0.1",
            port=server.port,
            username=server.username,
            client_keys=[server.client_key],
            known_hosts=server.known_hosts,
        )
        first = build_advanced_feed(
            tmp_path / "run1",
            as_of=data.AS_OF,
            warehouses=data.warehouses(),
            products=data.products(),
            stock=data.stock(),
            sales=data.sales(),
        )
        publisher.publish(first)
        assert _ingest(ip, server.root) == []

        sku1 = client.variants.get_by_sku("SKU-1")
        assert sku1 is not None
        stock = {b.warehouse: b.in_stock for b in sku1.warehouse}
        assert stock == {"mirakl-fr": Decimal(7), "mirakl-de": Decimal("2.5")}
        assert sku1.in_stock == Decimal("9.5")
        rows = {s.line_id: s for s in ip.state.sales}
        assert rows["ORD-1-A-2"].cancelled is True
        assert rows["ORD-2-B-1-RETURN"].quantity == -1
        assert rows["ORD-2-B-1"].warehouse == "mirakl-de"
        assert client.variants.get(sku1.id, extra_fields=["total_sales"]).total_sales == 4

        # Next night: SKU-1 sold out in FR, the DE return completed, a new order arrived.
        later = data.AS_OF + dt.timedelta(days=1)
        sales = data.sales()
        sales[2] = SalesLine(
            order_id="ORD-2-B",
            order_line_id="ORD-2-B-1",
            sku="SKU-1",
            product_id="P-1",
            created_at=data.T0 + dt.timedelta(days=1),
            updated_at=later,
            unit_price=Decimal("11.90"),
            quantity=2,
            returned_quantity=2,
            currency="EUR",
            warehouse="mirakl-de",
        )
        sales.append(
            SalesLine(
                order_id="ORD-3-C",
                order_line_id="ORD-3-C-1",
                sku="SKU-2",
                created_at=later,
                unit_price=Decimal("30"),
                quantity=2,
                currency="EUR",
                warehouse="mirakl-fr",
            )
        )
        levels = [
            StockLevel(sku="SKU-1", warehouse="mirakl-fr", quantity=0),
            StockLevel(sku="SKU-1", warehouse="mirakl-de", quantity=Decimal("2.5")),
            StockLevel(sku="SKU-2", warehouse="mirakl-fr", quantity=-3),
        ]
        second = build_advanced_feed(
            tmp_path / "run2", as_of=later, stock=levels, sales=sales, state=first.state
        )
        assert {f.entity: f.rows for f in second.files} == {
            "variant_warehouse": 2,
            "sales_order": 2,
        }
        publisher.publish(second)
        assert _ingest(ip, server.root) == []

    sku1 = client.variants.get_by_sku("SKU-1")
    assert sku1 is not None
    assert {b.warehouse: b.in_stock for b in sku1.warehouse} == {
        "mirakl-fr": Decimal(0),
        "mirakl-de": Decimal("2.5"),
    }
    rows = {s.line_id: s for s in ip.state.sales}
    assert rows["ORD-2-B-1-RETURN"].quantity == -2  # replaced, not added
    assert rows["ORD-3-C-1"].quantity == 2
    assert len(ip.state.sales) == 5  # 3 lines + 1 return row + 1 new line
