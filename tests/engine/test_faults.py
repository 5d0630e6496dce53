"""With faults injected by the sandbox (429 storms with Retry-After, 5xx, timeouts, dropped
connections, lost responses), the end-to-end guarantees hold, and the call history never exceeds
Mirakl's published maximum frequencies."""

from __future__ import annotations

from collections import Counter, deque
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mirakl_sync.sandbox import MIRAKL_FREQUENCY_LIMITS, RecordedCall
from tests.engine.world import World, make_world, stock

pytestmark = pytest.mark.slow

#: Polls counted per import/export by the sandbox; our client budgets them per operation, which
#: is stricter, so checking them per operation is the conservative reading.
_FIRST_PAGE_ONLY = {"OR11"}


def _counted(call: RecordedCall) -> bool:
    """Whether Mirakl would count this call against the operation's maximum frequency."""
    if call.fault == "connect_error":
        return False  # never reached the server
    if call.operation in _FIRST_PAGE_ONLY:
        query = dict(call.query)
        return query.get("offset", "0") == "0" and "order_ids" not in query
    return True


def frequency_violations(calls: list[RecordedCall]) -> list[str]:
    """Every window in which an operation was called more often than Mirakl allows."""
    problems = []
    by_operation: dict[str, list[datetime]] = {}
    for call in calls:
        if call.operation in MIRAKL_FREQUENCY_LIMITS and _counted(call):
            by_operation.setdefault(call.operation, []).append(call.at)
    for operation, times in by_operation.items():
        for limit in MIRAKL_FREQUENCY_LIMITS[operation]:
            window: deque[datetime] = deque()
            for at in sorted(times):
                window.append(at)
                while window and window[0] <= at - limit.window:
                    window.popleft()
                if len(window) > limit.count:
                    problems.append(f"{operation}: {len(window)} calls within {limit.window}")
    return problems


def test_the_frequency_checker_sees_a_violation() -> None:
    at = datetime(2026, 1, 5, 9, 0)
    calls = [
        RecordedCall(
            seq=i,
            at=at + timedelta(seconds=10 * i),
            method="POST",
            path="/api/offers/stock/imports",
            query=(),
            headers=(),
            body=b"",
            operation="STO01",
            status=201,
            fault=None,
            applied=True,
        )
        for i in range(2)
    ]
    assert frequency_violations(calls) == ["STO01: 2 calls within 0:01:00"]


@pytest.fixture
def stormy(tmp_path: Path) -> World:
    world = make_world(tmp_path, seed=5, allow_refusal=True)
    faults = world.mirakl.faults
    faults.add("rate_limit", "*", probability=0.15, retry_after=20)
    faults.add("rate_limit", "OR21", times=3, retry_after=40, http_date=True)
    faults.add("server_error", "*", probability=0.08, status=503, retry_after=5)
    faults.add("timeout", "*", probability=0.04)
    faults.add("dropped_connection", "*", probability=0.03)
    faults.add("connect_error", "*", probability=0.03)
    faults.add("response_lost", "OR21", times=2)
    faults.add("response_lost", "STO01", times=1)
    return world


def test_guarantees_hold_under_faults(stormy: World) -> None:
    world = stormy
    for i in range(8):
        stock(world, f"SKU-{i}", 12)
    placed = [world.mirakl.place_order([(f"SKU-{i}", 1 + i % 3)]) for i in range(8)]
    world.run_for(minutes=60)
    world.ip.set_stock("SKU-1", "main", 4)
    world.run_for(minutes=90)

    # Every order accepted before its deadline, and accepted exactly once on Mirakl.
    applied = Counter(c.path for c in world.mirakl.calls.for_operation("OR21") if c.applied)
    for order in placed:
        state = world.mirakl.order(order.order_id)
        assert state.state not in ("WAITING_ACCEPTANCE", "REFUSED"), order.order_id
        assert applied[f"/api/orders/{order.order_id}/accept"] == 1

    # Mirakl shows what is safely available (inventory minus accepted units).
    reserved = Counter({f"SKU-{i}": 1 + i % 3 for i in range(8)})
    expected = {f"SKU-{i}": 12 - reserved[f"SKU-{i}"] for i in range(8)}
    expected["SKU-1"] = 4 - reserved["SKU-1"]
    assert world.mirakl_quantities() == expected

    # Nothing parked, nothing lost in the outbox.
    health = world.sync.health()
    assert health.parked == 0
    assert health.backlog == 0

    # Faults really happened, and the call history respects Mirakl's maximum frequencies.
    faulted = Counter(c.fault for c in world.mirakl.calls if c.fault)
    assert faulted["rate_limit"] > 0
    assert faulted["server_error"] > 0
    assert faulted["response_lost"] == 3
    assert frequency_violations(list(world.mirakl.calls)) == []
