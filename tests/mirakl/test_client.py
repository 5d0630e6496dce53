"""Behaviour of the Mirakl client beyond the wire contract: validation before I/O, exports that
poll, caching of once-a-day operations, typed errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mirakl_sync.errors import (
    APIError,
    CallBudgetExceededError,
    ConfigurationError,
    InvalidStateError,
    NotFoundError,
)
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient
from mirakl_sync.mirakl.models import OrderExportRequest, ReasonType
from tests.mirakl.mock_mirakl import API_KEY, BASE_URL, EXPORT_URL, RecordingMirakl, example_body
from tests.openapi_spec import load_spec

T0 = datetime(2026, 11, 1, tzinfo=UTC)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def client_for(server: RecordingMirakl, **kwargs: Any) -> MiraklClient:
    kwargs.setdefault("call_budget", None)
    return MiraklClient(BASE_URL, API_KEY, transport=server.transport(), **kwargs)


@pytest.fixture(autouse=True)
def _spec() -> None:
    load_spec()


def test_base_url_accepts_api_suffix_and_rejects_credentials() -> None:
    assert MiraklClient("https://x.mirakl.net/api/", API_KEY).base_url == "https://x.mirakl.net"
    assert MiraklClient("https://x.mirakl.net", API_KEY).base_url == "https://x.mirakl.net"
    with pytest.raises(ConfigurationError):
        MiraklClient("https://user:pw@x.mirakl.net", API_KEY)
    with pytest.raises(ConfigurationError):
        MiraklClient("x.mirakl.net", API_KEY)
    with pytest.raises(ConfigurationError):
        MiraklClient("https://x.mirakl.net", "")
    with pytest.raises(ConfigurationError):
        MiraklClient("https://x.mirakl.net", API_KEY, shop_id="shop-1")


def test_invalid_arguments_fail_before_any_request() -> None:
    server = RecordingMirakl()
    client = client_for(server)
    with pytest.raises(ValueError, match="non-empty"):
        client.orders.ship("")
    with pytest.raises(ValueError, match="every order line"):
        client.orders.accept("O-1", {})
    with pytest.raises(ValueError, match="timezone-aware"):
        list(client.orders.list(updated_from=datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="page_size"):
        client.orders.list(page_size=500)
    with pytest.raises(ValueError, match="carrier"):
        client.orders.update_tracking("O-1", tracking_number="1Z")
    with pytest.raises(ValueError, match="one-year"):
        client.orders.start_export(
            OrderExportRequest(start_date=T0, end_date=T0 + timedelta(days=400))
        )
    with pytest.raises(ValueError, match="date range"):
        client.orders.start_export(OrderExportRequest())
    with pytest.raises(TypeError):
        list(client.orders.list(order_ids="O-1"))
    assert server.requests == []


def test_get_raises_not_found_for_an_absent_order() -> None:
    server = RecordingMirakl()
    server.overrides["OR11"] = lambda r: httpx.Response(200, json={"orders": [], "total_count": 0})
    with pytest.raises(NotFoundError):
        client_for(server).orders.get("O-404")


def test_already_accepted_order_raises_invalid_state() -> None:
    server = RecordingMirakl()
    server.overrides["OR21"] = lambda r: httpx.Response(
        400, json={"message": "ORDER_INVALID_STATE - The order is not in the expected state"}
    )
    with pytest.raises(InvalidStateError) as info:
        client_for(server).orders.accept("O-1", {"O-1-1": True})
    assert info.value.error_code == "ORDER_INVALID_STATE"
    assert info.value.operation == "OR21"
    assert len(server.requests) == 1  # a 400 is never retried


def _status_sequence(statuses: list[str], urls: list[str]) -> Any:
    remaining = list(statuses)

    def answer(request: httpx.Request) -> httpx.Response:
        status = remaining.pop(0)
        body: dict[str, Any] = {"status": status}
        if status == "COMPLETED":
            body["urls"] = urls
        return httpx.Response(200, json=body)

    return answer


def test_order_export_polls_then_downloads_every_chunk() -> None:
    server = RecordingMirakl()
    chunk = EXPORT_URL.replace("chunk", "orders")
    server.overrides["OR14"] = _status_sequence(["PENDING", "PENDING", "COMPLETED"], [chunk, chunk])
    sleeps = Sleeps()
    client = client_for(server, sleep=sleeps)
    orders = list(
        client.orders.export(
            OrderExportRequest(start_update_date=T0, end_update_date=T0 + timedelta(days=1)),
            poll_interval=5.0,
        )
    )
    assert len(orders) == 2 * len(example_body("OR11")["orders"])
    assert sleeps.calls == [5.0, 5.0]
    ops = [r.url.path for r in server.requests]
    assert ops.count("/exports/orders-1.json") == 2


def test_export_that_fails_raises() -> None:
    server = RecordingMirakl()
    server.overrides["OF53"] = _status_sequence(["PENDING", "FAILED"], [])
    client = client_for(server, sleep=Sleeps())
    with pytest.raises(APIError, match="FAILED"):
        list(client.offers.export())


def test_offer_export_is_json_and_yields_offers() -> None:
    server = RecordingMirakl()
    sleeps = Sleeps()
    offers = list(client_for(server, sleep=sleeps).offers.export(poll_interval=10.0))
    assert offers
    assert all(o.shop_sku for o in offers)
    start = server.requests[0]
    assert start.url.path == "/api/offers/export/async"
    assert b'"export_type":"application/json"' in start.content


def test_async_export_polls_with_the_async_sleep() -> None:
    server = RecordingMirakl()
    chunk = EXPORT_URL.replace("chunk", "orders")
    server.overrides["OR14"] = _status_sequence(["PENDING", "COMPLETED"], [chunk])
    sleeps = Sleeps()

    async def run() -> int:
        async with AsyncMiraklClient(
            BASE_URL, API_KEY, transport=server.transport(), call_budget=None, sleep=sleeps.asleep
        ) as client:
            exported = client.orders.export(
                OrderExportRequest(start_date=T0, end_date=T0 + timedelta(days=1)),
                poll_interval=3.0,
            )
            return len([o async for o in exported])

    assert asyncio.run(run()) == len(example_body("OR11")["orders"])
    assert sleeps.calls == [3.0]


def test_once_a_day_operations_are_cached() -> None:
    server = RecordingMirakl()
    client = client_for(server, call_budget="mirakl")
    first = client.platform.configuration()
    assert client.platform.configuration() is first
    carriers = client.platform.carriers()
    assert client.platform.carriers() == carriers
    assert [r.url.path for r in server.requests] == [
        "/api/platform/configuration",
        "/api/shipping/carriers",
    ]
    # A forced refresh inside the day is refused by the budget without sending anything.
    with pytest.raises(CallBudgetExceededError):
        client.platform.configuration(refresh=True)
    assert len(server.requests) == 2


def test_reasons_are_filtered_by_type_client_side() -> None:
    server = RecordingMirakl()
    client = client_for(server)
    everything = client.platform.reasons()
    refunds = client.platform.reasons(type=ReasonType.REFUND)
    assert refunds
    assert all(str(r.type) == "REFUND" for r in refunds)
    assert len(refunds) < len(everything)
    assert "type" not in server.requests[-1].url.params


def test_stock_error_report_is_parsed() -> None:
    server = RecordingMirakl()
    lines = client_for(server).stock.import_error_report("imp-1")
    assert [(line.line_number, line.reason) for line in lines] == [(1, "Offer not found")]
