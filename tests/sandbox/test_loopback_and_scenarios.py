from __future__ import annotations

import subprocess
import sys

import httpx

from mirakl_sync.sandbox import (
    DEFAULT_API_KEY,
    FaultKind,
    InventoryPlannerSandbox,
    MiraklSandbox,
    SandboxClock,
    place_orders,
    seed_catalogue,
    simulate_returns,
    simulate_shipments,
)


def test_loopback_server_serves_real_http(mirakl: MiraklSandbox) -> None:
    order = mirakl.place_order([("SKU-1", 1)])
    with (
        mirakl.serve() as server,
        httpx.Client(base_url=server.url, headers={"Authorization": DEFAULT_API_KEY}) as client,
    ):
        assert server.url.startswith("http://127.0.0.1:")
        body = client.get("/api/orders").json()
        assert body["orders"][0]["order_id"] == order.order_id
        lines = [{"id": order.lines[0].order_line_id, "accepted": True}]
        assert (
            client.put(
                f"/api/orders/{order.order_id}/accept", json={"order_lines": lines}
            ).status_code
            == 204
        )
        files = {"file": ("s.csv", b'"offer-sku";"quantity"\n"SKU-1";"2"\n', "text/csv")}
        import_id = client.post("/api/offers/stock/imports", files=files).json()["import_id"]
        assert client.post("/sandbox/clock/advance", json={"seconds": 30}).status_code == 200
        assert (
            client.get(f"/api/offers/stock/imports/{import_id}/status").json()["status"]
            == "COMPLETE"
        )
        tid = client.post(
            "/api/offers/export/async", json={"export_type": "application/json"}
        ).json()["tracking_id"]
        client.post("/sandbox/clock/advance", json={"seconds": 30})
        url = client.get(f"/api/offers/export/async/status/{tid}").json()["urls"][0]
        assert url.startswith(server.url)
        assert {o["shop_sku"] for o in client.get(url).json()} == {"SKU-1", "SKU-2", "SKU-3"}
        mirakl.faults.add(FaultKind.DROPPED_CONNECTION, "PC01", times=1)
        try:
            client.get("/api/platform/configuration")
            raise AssertionError("expected a dropped connection")
        except httpx.TransportError:
            pass
        assert client.get("/api/platform/configuration").status_code == 200
    assert order.state == "WAITING_DEBIT"


def test_serve_command_parses() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mirakl_sync.sandbox", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--port" in result.stdout


def test_scenarios_are_seeded_and_realistic() -> None:
    def build(seed: int) -> list[tuple[str, str]]:
        clock = SandboxClock()
        mirakl = MiraklSandbox(seed=seed, clock=clock)
        ip = InventoryPlannerSandbox(seed=seed, clock=clock)
        skus = seed_catalogue(30, mirakl=mirakl, ip=ip)
        assert len(skus) == 30
        assert ip.variant(skus[0]) is not None
        orders = place_orders(mirakl, 60)
        shipped = simulate_shipments(mirakl, fraction=0.5)
        assert all(o.state == "SHIPPED" and o.tracking_number for o in shipped)
        refunds = simulate_returns(mirakl, 4)
        assert len(refunds) == 4
        assert not mirakl.calls  # helpers act directly, not through the API
        return [(o.order_id, o.state) for o in orders]

    first = build(5)
    assert first == build(5)
    assert first != build(6)
    states = {s for _, s in first}
    assert {"WAITING_ACCEPTANCE", "SHIPPING", "SHIPPED", "REFUSED", "CANCELED"} <= states
