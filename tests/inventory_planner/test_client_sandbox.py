"""Every resource against the Inventory Planner sandbox, through the sync and the async client
(one scenario body, run with both)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mirakl_sync.errors import AuthenticationError, NotFoundError
from mirakl_sync.inventory_planner import (
    F,
    InventoryPlannerClient,
    PurchaseOrderStatus,
    PurchaseOrderUpdate,
    WebhookCreate,
)
from mirakl_sync.sandbox import InventoryPlannerSandbox
from tests.inventory_planner.helpers import collect, maybe, run, sandbox_client

KINDS = ["sync", "async"]


@pytest.fixture
def ip() -> InventoryPlannerSandbox:
    sandbox = InventoryPlannerSandbox(seed=5)
    sandbox.add_warehouse("wh-paris", "Paris")
    sandbox.add_warehouse("wh-lyon", "Lyon")
    sandbox.add_vendor("Acme")
    sandbox.add_variant("MUG-1", stock={"wh-paris": 3, "wh-lyon": 40}, vendor="Acme")
    sandbox.add_variant("MUG-2", stock={"wh-paris": 100}, vendor="Acme", daily_sales=0.1)
    for i in range(5):
        sandbox.add_variant(f"BULK-{i}", stock={"wh-lyon": 1})
    return sandbox


@pytest.mark.parametrize("kind", KINDS)
def test_variants(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        found = await collect(client.variants.list(page_size=2))
        assert len(found) == 7
        pages = [c.params["page"] for c in ip.calls.for_operation("variants.list")]
        assert pages == ["0", "1", "2", "3"]
        mug = await maybe(client.variants.get_by_sku("mug-1", case_insensitive=True))
        assert mug is not None
        assert mug.sku == "MUG-1"
        assert mug.in_stock == Decimal(43)
        paris = mug.block("wh-paris")
        assert paris is not None
        assert paris.in_stock == Decimal(3)
        assert mug.vendor == "Acme"
        one = await maybe(client.variants.get(mug.id, fields=["sku", "in_stock"]))
        assert (one.sku, one.in_stock, one.title) == ("MUG-1", Decimal(43), None)
        updated = await maybe(client.variants.update(mug.id, lead_time=30, review_period=10))
        assert (updated.lead_time, updated.review_period) == (30, 10)
        assert ip.variant("MUG-1").lead_time == 30  # type: ignore[union-attr]
        vendors = await maybe(client.variants.vendors(mug.id))
        assert [v.id for v in vendors] == ["acme"]
        low = await collect(client.variants.list(where=[F("in_stock") <= 1], sort=F("sku").desc()))
        assert [v.sku for v in low] == [f"BULK-{i}" for i in reversed(range(5))]
        with pytest.raises(NotFoundError, match="Failed to find variant"):
            await maybe(client.variants.get("424242"))

    run(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_replenishment(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        overall = await collect(client.variants.replenishment(vendor="Acme"))
        assert [s.sku for s in overall] == ["MUG-1"]
        assert overall[0].units == overall[0].quantity > 0
        paris = await collect(client.variants.replenishment(warehouse="wh-paris"))
        assert {s.sku for s in paris} == {"MUG-1"}
        assert all(s.warehouse == "wh-paris" for s in paris)

    run(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_warehouses_and_vendors(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        names = await maybe(client.warehouses.names())
        assert names == {"wh-paris": "Paris", "wh-lyon": "Lyon"}
        vendors = await collect(client.vendors.list())
        assert [v.id for v in vendors] == ["acme"]
        acme = await maybe(client.vendors.get("Acme"))
        assert acme.display_name == "Acme"
        with pytest.raises(NotFoundError, match="Failed to find vendor"):
            await maybe(client.vendors.get("Nobody & Sons"))

    run(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_purchase_orders(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        mug = ip.variant("MUG-1")
        assert mug is not None
        po = await maybe(
            client.purchase_orders.create_from_items(
                "wh-paris", {str(mug.id): 12}, vendor="Acme", reference="MS-1"
            )
        )
        assert po.has_status("OPEN")
        assert po.items[0].ordered == 12
        filled = await maybe(
            client.purchase_orders.create_from_filter(
                "wh-lyon",
                [F("vendor").eq("Acme"), F("replenishment") > 0],
                vendor="Acme",
                status=PurchaseOrderStatus.DRAFT,
            )
        )
        assert filled.status is PurchaseOrderStatus.DRAFT
        assert filled.items
        listed = await collect(client.purchase_orders.list(status="open"))
        assert [p.id for p in listed] == [po.id]
        got = await maybe(client.purchase_orders.get(po.id))
        assert got.reference == "MS-1"
        assert got.warehouse == "wh-paris"
        items = await maybe(client.purchase_orders.items(po.id))
        assert [i.sku for i in items] == ["MUG-1"]
        closed = await maybe(
            client.purchase_orders.update(filled.id, PurchaseOrderUpdate(status="cancelled"))
        )
        assert closed.status is PurchaseOrderStatus.CANCELLED
        with pytest.raises(NotFoundError):
            await maybe(client.purchase_orders.get("999999"))

    run(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_receive_purchase_order_items(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        mug = ip.variant("MUG-1")
        assert mug is not None
        po = await maybe(client.purchase_orders.create_from_items("wh-paris", {str(mug.id): 5}))
        items = await maybe(client.purchase_orders.receive(po.id, {po.items[0].id: 5}))
        assert items[0].received == 5

    run(scenario)


@pytest.mark.parametrize("kind", KINDS)
def test_webhooks(ip: InventoryPlannerSandbox, kind: str) -> None:
    async def scenario() -> None:
        client = sandbox_client(ip, kind)
        hook = await maybe(
            client.webhooks.create(
                WebhookCreate(address="https://hooks.example.test/ip", fields=["id", "reference"])
            )
        )
        assert hook.topic == "purchase-orders/connection-save"
        assert [h.id for h in await maybe(client.webhooks.list())] == [hook.id]
        assert (await maybe(client.webhooks.get(hook.id))).fields == "id,reference"
        moved = await maybe(
            client.webhooks.update(hook.id, WebhookCreate(address="https://hooks.example.test/v2"))
        )
        assert moved.address == "https://hooks.example.test/v2"
        await maybe(client.webhooks.delete(hook.id))
        assert await maybe(client.webhooks.list()) == []
        with pytest.raises(NotFoundError):
            await maybe(client.webhooks.get(hook.id))

    run(scenario)


def test_wrong_credentials(ip: InventoryPlannerSandbox) -> None:
    client = InventoryPlannerClient("wrong-key-123", "sandbox-account", transport=ip.transport())
    with pytest.raises(AuthenticationError, match="Authentication failed") as info:
        client.warehouses.list()
    assert "wrong-key-123" not in str(info.value)
    recorded = ip.calls[-1]
    assert dict(recorded.headers)["authorization"] == "***"
