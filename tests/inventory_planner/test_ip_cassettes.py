"""VCR cassettes pin the wire format of variants and purchase orders.

Replayed with ``--record-mode=none``: a request whose method, URL or JSON body differs from the
recording fails. To re-record (on purpose): ``pytest tests/inventory_planner/test_ip_cassettes.py
--record-mode=rewrite``; the recording server is then a MockTransport answering with
reference-shaped bodies (tests/inventory_planner/helpers.py), never a real account. The
cassettes must hold neither the API key nor the account id.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from mirakl_sync.inventory_planner import (
    F,
    InventoryPlannerClient,
    PurchaseOrderStatus,
    PurchaseOrderUpdate,
)
from mirakl_sync.testing.vcr import cassette_leaks
from tests.conftest import CASSETTES
from tests.inventory_planner.helpers import (
    ACCOUNT,
    API_KEY,
    PURCHASE_ORDER_JSON,
    VARIANT_JSON,
    Recorder,
    meta,
    ok,
)

IP_CASSETTES = ["test_ip_variants_wire_format", "test_ip_purchase_orders_wire_format"]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"not served from the cassette: {request.method} {request.url}")


def _recording_server() -> Recorder:
    second = {**VARIANT_JSON, "id": "1235", "sku": "CAR-BLUE", "in_stock": 0.0}
    po = PURCHASE_ORDER_JSON
    received = [{**po["items"][0], "received": 4, "remaining": 0}]
    return Recorder(
        {
            ("GET", "/api/v1/variants"): lambda r: ok(
                {
                    "meta": meta("variants", 2, 1, 1, int(r.url.params["page"])),
                    "variants": [[VARIANT_JSON, second][int(r.url.params["page"])]],
                }
            ),
            ("PATCH", "/api/v1/variants/1234"): ok({"variant": {**VARIANT_JSON, "lead_time": 21}}),
            ("POST", "/api/v1/purchase-orders"): ok({"purchase-order": po}),
            ("GET", f"/api/v1/purchase-orders/{po['id']}"): ok({"purchase-order": po}),
            ("PATCH", f"/api/v1/purchase-orders/{po['id']}/items"): ok({"items": received}),
            ("PUT", f"/api/v1/purchase-orders/{po['id']}"): ok(
                {"purchase-order": {**po, "status": "closed"}}
            ),
        }
    )


@pytest.fixture
def client(request: pytest.FixtureRequest) -> InventoryPlannerClient:
    recording = request.config.getoption("--record-mode") not in ("none", None)
    handler = _recording_server() if recording else _refuse
    return InventoryPlannerClient(API_KEY, ACCOUNT, transport=httpx.MockTransport(handler))


@pytest.mark.vcr
def test_ip_variants_wire_format(client: InventoryPlannerClient) -> None:
    found = client.variants.list(where=[F("replenishment") > 0], sort=F("oos").asc(), page_size=1)
    variants = found.to_list()
    assert [v.sku for v in variants] == ["CAR-RED", "CAR-BLUE"]
    assert variants[0].in_stock == Decimal("12.0")
    assert variants[1].in_stock == Decimal("0.0")
    updated = client.variants.update("1234", lead_time=21)
    assert updated.lead_time == 21


@pytest.mark.vcr
def test_ip_purchase_orders_wire_format(client: InventoryPlannerClient) -> None:
    po = client.purchase_orders.create_from_items(
        "big one", {"1234": 4}, vendor="carVendor", reference="8"
    )
    assert po.status is PurchaseOrderStatus.OPEN
    again = client.purchase_orders.get(po.id)
    assert again.items[0].id == "1234"
    [item] = client.purchase_orders.receive(po.id, {"1234": 4})
    assert item.received == 4
    closed = client.purchase_orders.update(
        po.id, PurchaseOrderUpdate(status=PurchaseOrderStatus.CLOSED), method="PUT"
    )
    assert closed.has_status("CLOSED")


@pytest.mark.parametrize("name", IP_CASSETTES)
def test_ip_cassettes_hold_no_credentials(name: str) -> None:
    path = CASSETTES / f"{name}.yaml"
    assert path.exists(), f"record it: pytest {__file__} --record-mode=rewrite"
    assert cassette_leaks(path, known_secrets=[API_KEY, ACCOUNT]) == []
    text = path.read_text(encoding="utf-8")
    assert "authorization:\n      - REDACTED" in text
    assert "account:\n      - REDACTED" in text


def test_ip_cassette_leak_check_catches_an_account(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(
        "interactions:\n- request:\n    headers:\n      Account: [" + ACCOUNT + "]\n"
        "    body: null\n  response:\n    headers: {}\n    body: {string: ''}\nversion: 1\n",
        encoding="utf-8",
    )
    problems = cassette_leaks(leaky, known_secrets=[API_KEY, ACCOUNT])
    assert any("known secret" in p for p in problems)
    assert any("Account" in p for p in problems)
