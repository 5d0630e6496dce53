from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime

import httpx
import pytest

from mirakl_sync.sandbox import DEFAULT_API_KEY, FaultKind, Faults, MiraklSandbox


def run_with_faults(seed: int) -> list[str]:
    sandbox = MiraklSandbox(seed=seed, enforce_frequencies=False)
    sandbox.add_offer("SKU", quantity=5)
    sandbox.faults.add(FaultKind.RATE_LIMIT, "OR11", probability=0.3, retry_after=7)
    sandbox.faults.add(FaultKind.SERVER_ERROR, "*", probability=0.2, status=500)
    sandbox.faults.add(FaultKind.TIMEOUT, "PC01", probability=0.5)
    client = sandbox.client(headers={"Authorization": DEFAULT_API_KEY})
    outcomes = []
    for i in range(60):
        path = "/api/orders" if i % 2 else "/api/platform/configuration"
        try:
            outcomes.append(str(client.get(path).status_code))
        except httpx.ReadTimeout:
            outcomes.append("timeout")
    recorded = ["timeout" if c.fault == "timeout" else str(c.status) for c in sandbox.calls]
    assert recorded == outcomes
    return outcomes


def test_faults_are_deterministic_for_a_seed() -> None:
    first, again, other = run_with_faults(1), run_with_faults(1), run_with_faults(2)
    assert first == again
    assert first != other
    assert {"200", "429", "500", "timeout"} <= set(first)


def test_fault_kinds_and_write_application() -> None:
    sandbox = MiraklSandbox(enforce_frequencies=False)
    sandbox.add_offer("SKU", quantity=5)
    client = sandbox.client(headers={"Authorization": DEFAULT_API_KEY})
    order = sandbox.place_order([("SKU", 1)])
    body = {"order_lines": [{"id": order.lines[0].order_line_id, "accepted": True}]}
    url = f"/api/orders/{order.order_id}/accept"

    sandbox.faults.add(FaultKind.CONNECT_ERROR, "OR21", times=1)
    with pytest.raises(httpx.ConnectError):
        client.put(url, json=body)
    assert order.state == "WAITING_ACCEPTANCE"  # never arrived
    sandbox.faults.add(FaultKind.DROPPED_CONNECTION, "OR21", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.put(url, json=body)
    assert order.state == "WAITING_ACCEPTANCE"
    sandbox.faults.add(FaultKind.RESPONSE_LOST, "OR21", times=1)
    with pytest.raises(httpx.ReadTimeout):
        client.put(url, json=body)
    assert order.state == "WAITING_DEBIT"  # applied, response lost
    retry = client.put(url, json=body)
    assert retry.json()["code"] == "ORDER_INVALID_STATE"  # "already done"
    assert [(c.fault, c.applied, c.status) for c in sandbox.calls] == [
        ("connect_error", False, None),
        ("dropped_connection", False, None),
        ("response_lost", True, None),
        (None, False, 400),
    ]

    sandbox.faults.add(FaultKind.RESPONSE_LOST, "OR24", status=504, times=1)
    sandbox.confirm_payment(order.order_id)
    assert client.put(f"/api/orders/{order.order_id}/ship").status_code == 504
    assert order.state == "SHIPPED"

    sandbox.faults.add(FaultKind.RATE_LIMIT, "RE01", retry_after=30, http_date=True, times=1)
    limited = client.get("/api/reasons")
    assert limited.status_code == 429
    when = parsedate_to_datetime(limited.headers["Retry-After"])
    assert (when - sandbox.clock.now()).total_seconds() == 30
    sandbox.faults.add(FaultKind.SERVER_ERROR, "SH21", retry_after=5, times=1)
    unavailable = client.get("/api/shipping/carriers")
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "5")
    assert client.get("/api/shipping/carriers").status_code == 200

    sandbox.faults.add(FaultKind.SLOW, "PC01", delay=2.0, times=2)
    assert client.get("/api/platform/configuration").status_code == 200
    assert sandbox.calls[-1].latency == 2.0
    with pytest.raises(httpx.ReadTimeout):
        client.get("/api/platform/configuration", timeout=1.0)


def test_skip_and_times_and_disable() -> None:
    faults = Faults(seed=0)
    rule = faults.add("server_error", "OR11", skip=2, times=1)
    assert [faults.draw("OR11") is not None for _ in range(5)] == [False, False, True, False, False]
    assert rule.fired == 1
    faults.add("timeout")
    faults.enabled = False
    assert faults.draw("PC01") is None


def test_call_history_is_exact(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    mirakl.calls.clear()
    order = mirakl.place_order([("SKU-1", 1)])
    client.get("/api/orders", params={"order_state_codes": "WAITING_ACCEPTANCE"})
    mirakl.clock.advance(seconds=10)
    client.put(
        f"/api/orders/{order.order_id}/accept",
        json={"order_lines": [{"id": order.lines[0].order_line_id, "accepted": True}]},
    )
    client.get("/api/orders")
    calls = list(mirakl.calls)
    assert mirakl.calls.operations() == ["OR11", "OR21", "OR11"]
    assert [c.status for c in calls] == [200, 204, 429]
    assert calls[0].params == {"order_state_codes": "WAITING_ACCEPTANCE"}
    assert calls[1].json() == {
        "order_lines": [{"id": order.lines[0].order_line_id, "accepted": True}]
    }
    assert (calls[1].at - calls[0].at).total_seconds() == 10
    assert [c.seq for c in calls] == sorted(c.seq for c in calls)
    assert all(dict(c.headers)["authorization"] == "***" for c in calls)
    assert mirakl.calls.for_operation("OR21") == [calls[1]]


def test_async_client_uses_the_same_transport(mirakl: MiraklSandbox) -> None:
    async def main() -> int:
        async with httpx.AsyncClient(
            transport=mirakl.transport(),
            base_url="https://m",
            headers={"Authorization": DEFAULT_API_KEY},
        ) as client:
            response = await client.get("/api/offers")
            return int(response.json()["total_count"])

    assert asyncio.run(main()) == 3
