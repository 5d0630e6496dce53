"""Chaos soak: a seeded simulation of several sandbox days for three shops, with faults at every
layer and the synchronizer process SIGKILLed at random named points, then checks every
invariant and prints one line per invariant.

CI runs a short variant (``MIRAKL_SYNC_SOAK_DAYS``, default 2 days, and
``MIRAKL_SYNC_SOAK_SKUS``, default 300 SKUs); set them for the nightly-size run (e.g. 30 days and
10,000 SKUs).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter, deque
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mirakl_sync.engine.failpoints import CRASH_POINTS
from mirakl_sync.engine.synchronizer import JOB_LEASE_SECONDS
from mirakl_sync.sandbox import (
    MIRAKL_FREQUENCY_LIMITS,
    InventoryPlannerSandbox,
    MiraklSandbox,
    RecordedCall,
    SandboxClock,
)
from mirakl_sync.storage import open_storage
from tests.reliability.soak_worker import soak_shop

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DAYS = max(2, int(os.environ.get("MIRAKL_SYNC_SOAK_DAYS", "2")))
SKUS = int(os.environ.get("MIRAKL_SYNC_SOAK_SKUS", "100"))
SHOPS = 3
STEP = 30 * 60  # seconds of sandbox time between rounds
ROUNDS_PER_DAY = 24 * 3600 // STEP
SEED = 20261126


def _worker(urls: tuple[str, str], tmp: Path, rounds: int, crash_at: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MIRAKL_SYNC_CRASH_AT"}
    if crash_at:
        env["MIRAKL_SYNC_CRASH_AT"] = crash_at
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.soak_worker",
            urls[0],
            urls[1],
            str(tmp / "sync.db"),
            str(tmp / "feeds"),
            str(rounds),
            str(STEP),
            str(SHOPS),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if process.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({process.returncode}):\n{process.stderr[-3000:]}")
    return process.returncode


def _frequency_violations(calls: list[RecordedCall]) -> list[str]:
    """Calls above Mirakl's published maxima, per operation and shop."""
    times: dict[tuple[str, str], list[datetime]] = {}
    for call in calls:
        if call.operation not in MIRAKL_FREQUENCY_LIMITS or call.fault == "connect_error":
            continue
        query = dict(call.query)
        if call.operation == "OR11" and (query.get("offset", "0") != "0" or "order_ids" in query):
            continue
        times.setdefault((call.operation, query.get("shop_id", "")), []).append(call.at)
    problems = []
    for (operation, shop), stamps in times.items():
        for limit in MIRAKL_FREQUENCY_LIMITS[operation]:
            window: deque[datetime] = deque()
            for at in sorted(stamps):
                window.append(at)
                while window and window[0] <= at - limit.window:
                    window.popleft()
                if len(window) > limit.count:
                    problems.append(f"{operation} shop {shop}: {len(window)} in {limit.window}")
    return problems


def test_chaos_soak(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    clock = SandboxClock()
    mirakl = MiraklSandbox(
        clock=clock, seed=SEED, default_shop=False, payment_delay=timedelta(minutes=30)
    )
    ip = InventoryPlannerSandbox(clock=clock, seed=SEED)
    ip.add_warehouse("main")
    skus = [f"SKU-{i:05d}" for i in range(SKUS)]
    for sku in skus:
        ip.add_variant(sku, stock={"main": rng.randint(0, 30)}, price="12.50")
    for i in range(SHOPS):
        _, shop_id, api_key = soak_shop(i)
        mirakl.add_shop(shop_id, name=f"soak-{i}", api_key=api_key)
        for sku in skus:
            mirakl.add_offer(sku, shop_id=shop_id, quantity=0, price="12.50")
    ghost_shop = soak_shop(0)[1]
    mirakl.add_offer("GHOST-OFFER", shop_id=ghost_shop, quantity=3, price="9.00")  # unmapped
    faults = mirakl.faults
    faults.add("rate_limit", "*", probability=0.04, retry_after=30)
    faults.add("server_error", "*", probability=0.03, status=503)
    faults.add("timeout", "*", probability=0.02)
    faults.add("dropped_connection", "*", probability=0.01)
    for operation in ("OR21", "OR23", "OR24", "OR28", "STO01"):
        faults.add("response_lost", operation, probability=0.03)
    faults.add("slow", "STO02", probability=0.1, delay=5)  # slow import status answers

    placed: list[str] = []
    # The drift is injected on an offer nothing else touches, so no regular push hides it
    # before the nightly full check.
    drift_sku = skus[1]
    # An offer that disappears from Mirakl while we still publish it: an import line error.
    vanishing_sku = skus[2]
    busy = [sku for sku in skus if sku not in (drift_sku, vanishing_sku)]
    crashes = 0
    with mirakl.serve() as m_server, ip.serve() as i_server:
        urls = (m_server.url, i_server.url)
        for day in range(DAYS):
            for i in range(SHOPS):
                shop_id = soak_shop(i)[1]
                for _ in range(rng.randint(5, 12)):
                    lines = [
                        (rng.choice(busy), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))
                    ]
                    if rng.random() < 0.03 and shop_id == ghost_shop:
                        lines.append(("GHOST-OFFER", 1))
                    placed.append(mirakl.place_order(lines, shop_id=shop_id).order_id)
            for sku in rng.sample(busy, max(1, SKUS // 20)):
                ip.set_stock(sku, "main", rng.randint(0, 30))
            if day == 1:  # injected drift: someone edits an offer in Mirakl's back office
                offer = mirakl.offer(drift_sku, shop_id=soak_shop(1)[1])
                assert offer is not None
                offer.quantity += 25
                # ...and an offer vanishes from shop 2 while its stock changes (STO01 line error)
                gone = mirakl.offer(vanishing_sku, shop_id=soak_shop(2)[1])
                assert gone is not None
                mirakl.state.offers.pop(gone.offer_id)
                ip.set_stock(vanishing_sku, "main", 17)
            crash_at = f"{rng.choice(CRASH_POINTS)}:{rng.randint(1, 4)}"
            if _worker(urls, tmp_path, ROUNDS_PER_DAY, crash_at) == -signal.SIGKILL:
                crashes += 1
                clock.advance(seconds=JOB_LEASE_SECONDS + 1)
                assert _worker(urls, tmp_path, ROUNDS_PER_DAY // 2, None) == 0
        # Settle: no new orders, one more (crash-free) day for payments, refunds, nightly checks.
        assert _worker(urls, tmp_path, ROUNDS_PER_DAY, None) == 0

    calls = list(mirakl.calls)
    orders = [mirakl.state.orders[oid] for oid in placed]
    window = timedelta(days=3)
    ghost = {o.order_id for o in orders if any(line.offer_sku == "GHOST-OFFER" for line in o.lines)}

    def applied(operation: str) -> Counter[str]:
        return Counter(
            c.path.split("/")[3] for c in calls if c.operation == operation and c.applied
        )

    or21, or24 = applied("OR21"), applied("OR24")
    lost = [
        o.order_id for o in orders if o.order_id not in ghost and o.acceptance_decision_date is None
    ]
    late = [
        o.order_id
        for o in orders
        if o.acceptance_decision_date is not None
        and o.acceptance_decision_date > o.created_date + window
    ]
    duplicates = [f"OR21 {oid}" for oid, n in or21.items() if n > 1]
    duplicates += [f"OR24 {oid}" for oid, n in or24.items() if n > 1]
    untracked = [
        o.order_id
        for o in orders
        if o.state in ("SHIPPED", "RECEIVED", "CLOSED") and not o.tracking_number
    ]
    refunds_per_order = {o.order_id: sum(len(line.refunds) for line in o.lines) for o in orders}
    storage = open_storage(f"sqlite:///{tmp_path / 'sync.db'}")
    try:
        returns: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        mismatches = 0
        for i in range(SHOPS):
            shop = soak_shop(i)[0]
            for event in storage.list_events(shop):
                if event.kind == "return":
                    returns[event.order_id] += 1
            for record in storage.list_discrepancies(shop=shop):
                kinds[record.kind] += 1
                mismatches += record.kind == "COMMISSION_MISMATCH"
    finally:
        storage.close()
    refund_problems = [
        oid
        for oid in set(returns) | {k for k, v in refunds_per_order.items() if v}
        if refunds_per_order.get(oid, 0) != returns.get(oid, 0)
    ]
    over_published = [
        (shop_id, sku)
        for i in range(SHOPS)
        for shop_id in [soak_shop(i)[1]]
        for sku in skus
        if sku not in (drift_sku, vanishing_sku)
        and (offer := mirakl.offer(sku, shop_id=shop_id)) is not None
        and offer.quantity > int(ip.variant(sku).stock["main"])  # type: ignore[union-attr]
    ]
    violations = _frequency_violations(calls)
    undetected = [k for k in ("UNMAPPED_SKU",) if not kinds[k]]
    if not kinds["STOCK_DRIFT"] and not kinds["OVERSELL_RISK"]:
        undetected.append("STOCK_DRIFT")
    if not kinds["STOCK_IMPORT_ERROR"] and not kinds["MISSING_OFFER"]:
        undetected.append("STOCK_IMPORT_ERROR")

    results: dict[str, list[object]] = {
        "lost acceptances": list(lost),
        "acceptances after the deadline": list(late),
        "duplicate state-changing calls": list(duplicates),
        "quantities above the safely available stock": list(over_published),
        "shipped without tracking": list(untracked),
        "returns not refunded exactly once": list(refund_problems),
        "finance mismatches (to the cent)": ["COMMISSION_MISMATCH"] * mismatches,
        "calls above Mirakl's maximum frequencies": list(violations),
        "injected discrepancies not detected": list(undetected),
    }
    print(
        f"\nchaos soak: {DAYS} day(s), {SHOPS} shops, {SKUS} SKUs, {len(placed)} orders, "
        f"{len(calls)} calls, {sum(1 for c in calls if c.fault)} faults, {crashes} crash(es)"
    )
    for name, problems in results.items():
        print(f"  {len(problems):>3} {name}")
    assert sum(returns.values()) > 0, "the soak produced no return"
    assert all(not problems for problems in results.values()), {
        k: v[:5] for k, v in results.items() if v
    }
