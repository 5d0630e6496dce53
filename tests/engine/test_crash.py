"""Crash tests: the synchronizer process is SIGKILLed at each named point between "outbox row
written" and "outcome recorded", then restarted. Afterwards no acceptance, stock push or feed row
is lost or duplicated.

The sandboxes run in this test process, served on loopback; the synchronizer runs in a
subprocess (``tests/engine/crash_worker.py``) with its state in a SQLite file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mirakl_sync.engine.failpoints import CRASH_POINTS
from mirakl_sync.engine.synchronizer import JOB_LEASE_SECONDS
from mirakl_sync.sandbox import InventoryPlannerSandbox, MiraklSandbox, SandboxClock
from mirakl_sync.storage import open_storage
from mirakl_sync.storage.records import OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SKUS = {"SKU-A": 10, "SKU-B": 6, "SKU-C": 3}
ORDERS = [[("SKU-A", 2)], [("SKU-B", 1), ("SKU-C", 1)], [("SKU-A", 1)]]


def _worker(
    urls: tuple[str, str], tmp: Path, rounds: int, crash_at: str | None, *extra: str
) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MIRAKL_SYNC_CRASH_AT"}
    if crash_at:
        env["MIRAKL_SYNC_CRASH_AT"] = crash_at
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.engine.crash_worker",
            urls[0],
            urls[1],
            str(tmp / "sync.db"),
            str(tmp / "feeds"),
            str(rounds),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({process.returncode}):\n{process.stderr[-3000:]}")
    return process.returncode


@pytest.fixture
def sandboxes() -> Iterator[tuple[MiraklSandbox, InventoryPlannerSandbox, tuple[str, str]]]:
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=11)
    ip = InventoryPlannerSandbox(clock=clock, seed=11)
    ip.add_warehouse("main")
    for sku, quantity in SKUS.items():
        ip.add_variant(sku, stock={"main": quantity}, price="10.00")
        mirakl.add_offer(sku, quantity=0, price="10.00")
    for lines in ORDERS:
        mirakl.place_order(lines)
    with mirakl.serve() as mirakl_server, ip.serve() as ip_server:
        yield mirakl, ip, (mirakl_server.url, ip_server.url)


# The three OR21 items come first, the STO01 import fourth: ":4" crashes around the stock push.
POINTS = [
    *CRASH_POINTS,
    "outbox.after_mark_sent:4",
    "outbox.after_call:4",
    "outbox.after_complete:4",
]


@pytest.mark.parametrize("point", POINTS)
def test_no_loss_and_no_duplicate_after_a_crash(
    sandboxes: tuple[MiraklSandbox, InventoryPlannerSandbox, tuple[str, str]],
    tmp_path: Path,
    point: str,
) -> None:
    mirakl, ip, urls = sandboxes
    first = _worker(urls, tmp_path, rounds=3, crash_at=point)
    assert first == -signal.SIGKILL, f"the crash point {point} was never reached"
    # The restarted process is a new worker: the dead one's job leases must expire first.
    mirakl.clock.advance(seconds=JOB_LEASE_SECONDS + 1)
    assert _worker(urls, tmp_path, rounds=4, crash_at=None) == 0

    # Acceptance: every order accepted, by exactly one successful OR21.
    applied = Counter(c.path for c in mirakl.calls.for_operation("OR21") if c.status == 204)
    orders = list(mirakl.state.orders.values())
    assert len(orders) == len(ORDERS)
    for order in orders:
        assert order.state != "WAITING_ACCEPTANCE", order.order_id
        assert applied[f"/api/orders/{order.order_id}/accept"] == 1

    # Stock: Mirakl shows the inventory minus the accepted units, every push confirmed once.
    reserved: Counter[str] = Counter()
    for lines in ORDERS:
        for sku, quantity in lines:
            reserved[sku] += quantity
    quantities = {o.shop_sku: o.quantity for o in mirakl.state.shop_offers(2001)}
    assert quantities == {sku: SKUS[sku] - reserved[sku] for sku in SKUS}
    storage = open_storage(f"sqlite:///{tmp_path / 'sync.db'}")
    try:
        items = storage.list_items(shop="crash-shop")
        assert items
        assert {i.status for i in items} == {OutboxStatus.CONFIRMED}
        stock_items = [i for i in items if i.kind == "STO01"]
        imports = [c for c in mirakl.calls.for_operation("STO01") if c.status == 201]
        bodies = Counter(c.body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0] for c in imports)
        # One import per planned push; only a crash right after the call (the answer never
        # recorded) re-sends the very same absolute quantities once.
        assert len(bodies) == len(stock_items)
        resent = len(imports) - len(stock_items)
        assert resent == (1 if point == "outbox.after_call:4" else 0)
    finally:
        storage.close()

    # Sales feed: Inventory Planner sees every sold line exactly once.
    feed = tmp_path / "feeds" / "crash-shop"
    report = ip.connectors.import_starter(
        "mirakl",
        (feed / "products.csv").read_text(encoding="utf-8"),
        (feed / "sales_orders.csv").read_text(encoding="utf-8"),
    )
    assert report.accepted
    sold = Counter((s.order_id, s.sku) for s in ip.state.sales)
    assert all(n == 1 for n in sold.values())
    assert sum(s.quantity for s in ip.state.sales) == sum(reserved.values())


DISPATCH_POINTS = [
    "outbox.after_mark_sent.OR23",
    "outbox.after_call.OR23",
    "outbox.after_call.OR24",
    "outbox.after_complete.OR24",
    "outbox.after_mark_sent.OR28",
    "outbox.after_call.OR28",
    "outbox.after_complete.OR28",
]


@pytest.mark.parametrize("point", DISPATCH_POINTS)
def test_dispatch_and_refunds_survive_a_crash(tmp_path: Path, point: str) -> None:
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=12, payment_delay=timedelta(minutes=1))
    ip = InventoryPlannerSandbox(clock=clock, seed=12)
    ip.add_warehouse("main")
    for sku, quantity in SKUS.items():
        ip.add_variant(sku, stock={"main": quantity}, price="10.00")
        mirakl.add_offer(sku, quantity=0, price="10.00")
    for lines in ORDERS:
        mirakl.place_order(lines)
    with mirakl.serve() as m, ip.serve() as i:
        urls = (m.url, i.url)
        assert _worker(urls, tmp_path, 6, point, "dispatch") == -signal.SIGKILL, point
        clock.advance(seconds=JOB_LEASE_SECONDS + 1)
        assert _worker(urls, tmp_path, 8, None, "dispatch") == 0
    for order in mirakl.state.orders.values():
        history = [
            c.operation
            for c in mirakl.calls
            if c.operation in ("OR23", "OR24") and order.order_id in c.path and c.applied
        ]
        assert history == ["OR23", "OR24"], (order.order_id, history)
        refunds = [
            c
            for c in mirakl.calls.for_operation("OR28")
            if c.applied and order.order_id.encode() in c.body
        ]
        assert len(refunds) == 1, order.order_id
        assert sum(len(line.refunds) for line in order.lines) == 1
