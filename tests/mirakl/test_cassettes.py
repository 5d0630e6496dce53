"""VCR cassettes pin the wire format of OR11, OR21 and STO01.

Replayed with ``--record-mode=none``: a request whose method, URL or body (JSON compared as JSON,
multipart part by part) differs from the recording fails the test. To re-record (a human, on
purpose): ``pytest tests/mirakl/test_cassettes.py --record-mode=rewrite``; the recording server
then is Mirakl's own response examples from the OpenAPI document (personal data included, so the
scrubbing is exercised), never a real shop.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.mirakl.models import OrderState, StockUpdate
from mirakl_sync.testing.vcr import cassette_leaks
from tests.conftest import CASSETTES
from tests.mirakl.mock_mirakl import API_KEY, BASE_URL, RecordingMirakl


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"not served from the cassette: {request.method} {request.url}")


@pytest.fixture
def client(request: pytest.FixtureRequest) -> MiraklClient:
    recording = request.config.getoption("--record-mode") not in ("none", None)
    handler = RecordingMirakl() if recording else _refuse
    return MiraklClient(
        BASE_URL, API_KEY, shop_id=2001, transport=httpx.MockTransport(handler), call_budget=None
    )


@pytest.mark.vcr
def test_or11_wire_format(client: MiraklClient) -> None:
    orders = list(client.orders.list(states=[OrderState.WAITING_ACCEPTANCE], page_size=100))
    assert [o.order_id for o in orders] == ["Order_00010-A"]
    order = orders[0]
    assert order.price == Decimal("165")
    assert order.order_lines[0].order_line_id == "Order_00010-A-1"
    assert order.customer is not None


@pytest.mark.vcr
def test_or21_wire_format(client: MiraklClient) -> None:
    client.orders.accept("Order_00010-A", {"Order_00010-A-1": True, "Order_00010-A-2": False})


@pytest.mark.vcr
def test_sto01_wire_format(client: MiraklClient) -> None:
    result = client.stock.import_quantities(
        [
            StockUpdate(offer_sku="SKU-1", quantity=12),
            StockUpdate(offer_sku="SKU-2", quantity=4, warehouse_code="PARIS"),
            StockUpdate(offer_sku="SKU-2", quantity=0, warehouse_code="LYON"),
        ]
    )
    assert result.import_id


def _cassettes() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


def test_the_cassettes_exist() -> None:
    names = {p.stem for p in _cassettes()}
    assert {"test_or11_wire_format", "test_or21_wire_format", "test_sto01_wire_format"} <= names


@pytest.mark.parametrize("path", _cassettes(), ids=lambda p: p.stem)
def test_cassettes_hold_no_secret_and_no_personal_data(path: Path) -> None:
    assert cassette_leaks(path, known_secrets=[API_KEY]) == []


def test_the_leak_check_catches_leaks(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(
        """interactions:
- request:
    headers:
      Authorization: [canary-4f1e2d3c-api-key]
    body: null
  response:
    headers: {}
    body:
      string: '{"customer": {"lastname": "Dupont", "street_1": "1 rue de Rivoli"}}'
version: 1
""",
        encoding="utf-8",
    )
    problems = cassette_leaks(leaky, known_secrets=[API_KEY])
    assert any("known secret" in p for p in problems)
    assert any("Authorization" in p for p in problems)
    assert any("lastname" in p for p in problems)
    assert any("street_1" in p for p in problems)
