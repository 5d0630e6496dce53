from __future__ import annotations

from typing import Any

import httpx

from mirakl_sync.sandbox import FaultKind, InventoryPlannerSandbox


def seed(ip: InventoryPlannerSandbox) -> None:
    ip.add_warehouse("wh-paris", "Paris")
    for i in range(25):
        ip.add_variant(
            f"SKU-{i:02d}",
            stock={"wh-paris": i, "wh-lyon": 2},
            vendor="Acme" if i % 2 else "Globex",
            daily_sales=1.0,
            lead_time=10,
            review_period=10,
        )


def test_auth_and_envelope(ip: InventoryPlannerSandbox, ip_client: httpx.Client) -> None:
    seed(ip)
    assert ip.client().get("/api/v1/variants").status_code == 401
    body = ip_client.get("/api/v1/variants", params={"page": 0, "limit": 10}).json()
    assert body["meta"]["total"] == 25
    assert body["meta"]["count"] == 10
    assert body["meta"]["page"] == 0
    last = ip_client.get("/api/v1/variants", params={"page": 2, "limit": 10}).json()
    assert last["meta"]["count"] == 5
    assert ip_client.get("/api/v1/variants/999").json() == {
        "result": {"status": "error", "message": "Failed to find variant 999"}
    }
    warehouses = ip_client.get("/api/v1/warehouses").json()["warehouses"]
    assert {w["name"] for w in warehouses} == {"wh-paris", "wh-lyon"}
    assert {v["id"] for v in ip_client.get("/api/v1/vendors").json()["vendors"]} == {
        "acme",
        "globex",
    }


def test_filters_sort_and_fields(ip: InventoryPlannerSandbox, ip_client: httpx.Client) -> None:
    seed(ip)

    def get(**params: Any) -> list[dict[str, Any]]:
        response = ip_client.get("/api/v1/variants", params={"limit": 1000, **params})
        rows: list[dict[str, Any]] = response.json()["variants"]
        return rows

    assert [v["sku"] for v in get(sku="SKU-03")] == ["SKU-03"]
    assert [v["sku"] for v in get(sku_eqi="sku-04")] == ["SKU-04"]
    assert len(get(in_stock_gt=20)) == 6  # 2 in wh-lyon + i in wh-paris
    assert len(get(in_stock_range="2-4")) == 3
    assert len(get(sku_match="^SKU-1")) == 10
    assert len(get(sku_in="SKU-01,SKU-02")) == 2
    assert get(in_stock_sort="desc")[0]["sku"] == "SKU-24"
    rows = get(fields="id,sku,warehouse.in_stock", sku="SKU-05")
    assert rows == [
        {
            "id": rows[0]["id"],
            "sku": "SKU-05",
            "warehouse": [
                {"warehouse": "wh-lyon", "in_stock": 2},
                {"warehouse": "wh-paris", "in_stock": 5},
            ],
        }
    ]
    assert len(get(replenishment_gt=0)) > 0


def test_purchase_order_create_update_receive(
    ip: InventoryPlannerSandbox, ip_client: httpx.Client
) -> None:
    seed(ip)
    variant = ip.variant("SKU-01")
    assert variant is not None
    assert (
        ip_client.post(
            "/api/v1/purchase-orders", json={"purchase-order": {"vendor": "Acme"}}
        ).status_code
        == 400
    )
    body = {
        "purchase-order": {
            "warehouse": "wh-paris",
            "vendor": "Acme",
            "status": "OPEN",
            "items": [{"id": variant.id, "replenishment": 10}],
        }
    }
    po = ip_client.post("/api/v1/purchase-orders", json=body).json()["purchase-order"]
    assert po["status"] == "open"
    assert po["total_ordered"] == 10
    on_order = ip_client.get(f"/api/v1/variants/{variant.id}").json()["variant"][
        "purchase_orders_qty"
    ]
    assert on_order == 10
    item = po["items"][0]["id"]
    r = ip_client.patch(
        f"/api/v1/purchase-orders/{po['id']}/items", json={"items": [{"id": item, "received": 4}]}
    )
    assert r.json()["items"][0]["remaining"] == 6
    assert variant.stock["wh-paris"] == 5
    assert (
        ip_client.get(f"/api/v1/purchase-orders/{po['id']}").json()["purchase-order"]["status"]
        == "partially_received"
    )
    ip_client.patch(
        f"/api/v1/purchase-orders/{po['id']}/items", json={"items": [{"id": item, "received": 10}]}
    )
    assert variant.stock["wh-paris"] == 11
    closed = ip_client.get("/api/v1/purchase-orders", params={"status": "closed"}).json()[
        "purchase-orders"
    ]
    assert [p["id"] for p in closed] == [po["id"]]
    upd = ip_client.put(
        f"/api/v1/purchase-orders/{po['id']}", json={"purchase-order": {"notes": "done"}}
    )
    assert upd.json()["purchase-order"]["notes"] == "done"
    auto = {
        "purchase-order": {
            "warehouse": "wh-paris",
            "vendor": "Globex",
            "variants_filter": {"vendor": "Globex"},
        }
    }
    assert ip_client.post("/api/v1/purchase-orders", json=auto).json()["purchase-order"]["items"]
    patch = ip_client.patch(f"/api/v1/variants/{variant.id}", json={"variant": {"lead_time": 21}})
    assert patch.json()["variant"]["lead_time"] == 21
    assert (
        ip_client.patch(f"/api/v1/variants/{variant.id}", json={"lead_time": 21}).status_code == 400
    )


def test_webhooks_and_faults(ip: InventoryPlannerSandbox, ip_client: httpx.Client) -> None:
    hook = {
        "webhook": {
            "address": "https://example.invalid/h",
            "topic": "purchase-orders/connection-save",
        }
    }
    created = ip_client.post("/api/v1/webhooks", json=hook).json()["webhook"]
    assert ip_client.get("/api/v1/webhooks").json()["meta"]["total"] == 1
    assert ip_client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 200
    ip.faults.add(FaultKind.SERVER_ERROR, "variants.list", status=500, times=1)
    assert ip_client.get("/api/v1/variants").status_code == 500
    assert ip_client.get("/api/v1/variants").status_code == 200
    assert ip.calls.operations() == [
        "webhooks.create",
        "webhooks.list",
        "webhooks.delete",
        "variants.list",
        "variants.list",
    ]


def test_starter_csv_connector_snapshot(
    ip: InventoryPlannerSandbox, ip_client: httpx.Client
) -> None:
    products = (
        "product_id,title,price,SKU,created_at,stock_quantity\n"
        "P1,Mug,9.90,MUG-1,2026-01-01,12\nP2,Cup,4.50,CUP-1,2026-01-01,3\n"
    )
    sales = (
        "order_number,product_id,SKU,date,price,quantity,canceled\n"
        "SBX1-A,P1,MUG-1,2026-01-04,9.90,2,false\nSBX2-A,P2,CUP-1,2026-01-04,4.50,-1,false\n"
    )
    files = {"products": ("p.csv", products.encode()), "sales_orders": ("s.csv", sales.encode())}
    report = ip_client.post("/sandbox/connectors/starter/mirakl-fr", files=files).json()
    assert report == {
        "accepted": True,
        "errors": [],
        "created": 2,
        "updated": 0,
        "removed": 0,
        "sales_rows": 2,
    }
    mug = ip.variant("MUG-1")
    assert mug is not None
    assert mug.stock == {"c1_csv": 12.0}
    again = ip.connectors.import_starter(
        "mirakl-fr", products.splitlines()[0] + "\nP1,Mug,9.90,MUG-1,2026-01-01,8\n", sales
    )
    assert (again.updated, again.removed) == (1, 1)
    assert ip.variant("CUP-1").stock == {}  # type: ignore[union-attr]
    bad = ip.connectors.import_starter("x", "title,SKU\n", sales)
    assert not bad.accepted
    assert "missing column product_id" in bad.errors


def test_starter_pull_over_http(ip: InventoryPlannerSandbox) -> None:
    files = {
        "/p.csv": (
            "product_id,title,price,SKU,created_at,stock_quantity\nP1,Mug,1,MUG,2026-01-01,5\n"
        ),
        "/s.csv": "order_number,product_id,SKU,date,price,quantity\n",
    }
    host = httpx.Client(
        transport=httpx.MockTransport(
            lambda r: (
                httpx.Response(200, text=files[r.url.path])
                if r.url.path in files
                else httpx.Response(404)
            )
        )
    )
    report = ip.connectors.pull_starter(
        "feed", host, "https://feeds.test/p.csv", "https://feeds.test/s.csv"
    )
    assert report.accepted
    assert report.created == 1
    assert not ip.connectors.pull_starter(
        "feed", host, "https://feeds.test/x.csv", "https://feeds.test/s.csv"
    ).accepted


def test_advanced_csv_connector(ip: InventoryPlannerSandbox, ip_client: httpx.Client) -> None:
    wh = (
        "WAREHOUSE_ID,DISPLAY_NAME,UPDATED_AT,REMOVED\n"
        "mirakl-fr,Mirakl FR,2026-01-05T00:00:00,false\n"
    )
    assert ip_client.post("/sandbox/connectors/advanced/warehouse", content=wh).status_code == 200
    variant = (
        "VARIANT_ID,SKU,TITLE,BARCODE,PRODUCT_ID,PRICE,CREATED_AT,UPDATED_AT,REMOVED\n"
        "V1,MUG-1,Mug,123,P1,9.9,2026-01-01,2026-01-05,false\n"
    )
    assert ip.connectors.import_advanced("variant", variant).created == 1
    stock = (
        "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT\n"
        "V1,mirakl-fr,7,false,2026-01-05\nV9,mirakl-fr,1,false,2026-01-05\n"
    )
    report = ip.connectors.import_advanced("variant_warehouse", stock)
    assert report.updated == 1
    assert report.errors == ["line 3: unknown VARIANT_ID V9"]
    assert ip.variant("MUG-1").stock == {"mirakl-fr": 7.0}  # type: ignore[union-attr]
    sales = (
        "ORDER_ID,ID,VARIANT_ID,WAREHOUSE,CURRENCY,QUANTITY,PRICE,CREATED_AT,REMOVED,UPDATED_AT,CANCELLED\n"
        "SBX1-A-1,SBX1-A,V1,mirakl-fr,EUR,2,9.9,2026-01-04,false,2026-01-04,false\n"
        "SBX1-A-1R,SBX1-A,V1,mirakl-fr,EUR,-1,9.9,2026-01-06,false,2026-01-06,false\n"
    )
    assert ip.connectors.import_advanced("sales_order", sales).sales_rows == 2
    assert sum(s.quantity for s in ip.state.sales) == 1
    extra = "VARIANT_ID,WAREHOUSE_ID,IN_STOCK,REMOVED,UPDATED_AT,COLOUR\n"
    rejected = ip_client.post("/sandbox/connectors/advanced/variant_warehouse", content=extra)
    assert rejected.status_code == 400
    assert rejected.json()["errors"] == ["unsupported column COLOUR"]
