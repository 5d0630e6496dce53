"""Helpers for the Inventory Planner tests: a scripted MockTransport, the sync/async driver and
reference-shaped response bodies (shapes from the IP reference, sections 3, 4 and 8)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from mirakl_sync.inventory_planner import AsyncInventoryPlannerClient, InventoryPlannerClient
from mirakl_sync.sandbox import DEFAULT_ACCOUNT, DEFAULT_IP_KEY, InventoryPlannerSandbox

API_KEY = "canary-ip-key-7c1d9e"
ACCOUNT = "canary-account-42a7"
BASE_URL = "https://app.inventory-planner.com"


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def meta(plural: str, total: int, count: int, limit: int, page: int) -> dict[str, Any]:
    start = page * limit
    return {
        "name": plural,
        "display_name": plural,
        "total": total,
        "count": count,
        "limit": limit,
        "page": page,
        "start": start,
        "end": start + max(0, count - 1),
    }


class Recorder:
    """A MockTransport handler: ``routes`` maps (method, path) to a response or a callable;
    every request is kept in ``requests``."""

    def __init__(
        self,
        routes: dict[tuple[str, str], httpx.Response | Callable[[httpx.Request], httpx.Response]]
        | None = None,
    ) -> None:
        self.routes = routes or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.routes:
            raise AssertionError(f"unexpected {request.method} {request.url}")
        answer = self.routes[key]
        return answer(request) if callable(answer) else answer

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)


def mock_client(recorder: Recorder, **kwargs: Any) -> InventoryPlannerClient:
    kwargs.setdefault("sleep", lambda _s: None)
    return InventoryPlannerClient(
        API_KEY, ACCOUNT, transport=httpx.MockTransport(recorder), **kwargs
    )


def mock_async_client(recorder: Recorder, **kwargs: Any) -> AsyncInventoryPlannerClient:
    async def no_sleep(_s: float) -> None:
        return None

    kwargs.setdefault("sleep", no_sleep)
    return AsyncInventoryPlannerClient(
        API_KEY, ACCOUNT, transport=httpx.MockTransport(recorder), **kwargs
    )


def sandbox_client(sandbox: InventoryPlannerSandbox, kind: str) -> Any:
    """A sync or async client wired to ``sandbox`` in-process."""
    if kind == "sync":
        return InventoryPlannerClient(
            DEFAULT_IP_KEY, DEFAULT_ACCOUNT, transport=sandbox.transport()
        )
    return AsyncInventoryPlannerClient(
        DEFAULT_IP_KEY, DEFAULT_ACCOUNT, transport=sandbox.transport()
    )


async def maybe(value: Any) -> Any:
    """Await ``value`` when the async client returned a coroutine."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(listing: Any) -> list[Any]:
    """All items of a SyncPager/AsyncPager (or iterator/async iterator)."""
    if hasattr(listing, "__aiter__"):
        return [item async for item in listing]
    return list(listing)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


VARIANT_JSON: dict[str, Any] = {
    "id": "1234",
    "sku": "CAR-RED",
    "title": "Car",
    "product_id": "1234_2010",
    "barcode": "123456789",
    "price": 10,
    "cost_price": 4.5,
    "in_stock": 12.0,
    "replenishment": 3.4,
    "purchase_orders_qty": 0,
    "lead_time": 14,
    "review_period": 30,
    "minimum_stock": 0,
    "oos": 21,
    "under_value": 0,
    "removed": False,
    "updated_at": "2020-01-28T07:46:10+00:00",
    "last_forecast_time": 1580197499,
    "forecast_by_period": {"2020": {"1": 0}},
    "connections": [
        {
            "sku": "CAR-RED",
            "linked_by": "master_sku",
            "connection_main": True,
            "vendors": [{"vendor": "carVendor", "cost_price": 4.5, "currency": "GBP"}],
        }
    ],
    "warehouse": [
        {"warehouse": "c955_1", "in_stock": 7.5, "replenishment": 2, "lead_time": 14},
        {"warehouse": "c955_2", "in_stock": 4.5, "replenishment": 1.4, "lead_time": 21},
    ],
}

PURCHASE_ORDER_JSON: dict[str, Any] = {
    "id": "76s6df76sa978df78987s8f",
    "reference": "8",
    "status": "open",
    "type": "po",
    "vendor": "carVendor",
    "warehouse": "big one",
    "currency": "GBP",
    "created_date": "2020-01-27",
    "expected_date": "2020-02-13",
    "min_budget": "",
    "total": 10,
    "total_ordered": 26,
    "total_received": 0,
    "last_modified": "2020-02-27T17:00:50+00:00",
    "items": [
        {
            "id": "1234",
            "line_id": "1234",
            "sku": "CAR",
            "title": "Car",
            "replenishment": 4,
            "received": 0,
            "remaining": 4,
            "cost_price": 1,
            "forecasted_stock": -0.050000000000017364,
        }
    ],
}
