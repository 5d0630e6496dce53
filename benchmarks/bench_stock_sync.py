"""Benchmark: stock sync of a catalogue of N offers (default 200,000) where 1 % changed.

What goes over the wire when 1 % of the stock changed between two cycles:

* ``ours``: the engine's ``push_stock`` job, through a ``Synchronizer`` (SQLite storage, a
  ``StaticStockSource`` holding the inventory levels, the Mirakl client on the sandbox clock
  with Mirakl's call budget). After an initial push of the whole catalogue and a settling cycle,
  1 % of the levels change; the measured cycle is the job run that pushes the change plus the
  next run (a minute later) that polls the import's status and confirms it. Counted from the
  sandbox's call history: STO01 calls, status polls (STO02, and STO03 if a line failed), and
  separately the OF52/OF53/OF54 differential offer export the job runs every cycle to refresh
  its offer catalogue.
* ``full push`` baseline: one STO01 carrying the whole catalogue every cycle (sent for real to
  the sandbox, with the same status poll schedule: one STO02 a minute later).
* ``OF24 per offer`` baseline: one ``POST /api/offers`` per changed offer. The sandbox does not
  implement OF24, so these calls are not sent: the bytes are those of the exact JSON bodies it
  would POST, each with only the fields OF24 requires plus ``quantity`` (a lower bound: OF24
  resets every field not sent, so a correct client sends more), and without the OF02 status
  polls each import would need.
* ``changed rows CSV``: the STO01 file of only the changed rows (header + rows), the floor.

Bytes are request bodies (the STO01 multipart envelope included); the detail output also gives
the request line + headers. The measured cycle runs twice with two different 1 % changes: once
for the wall time, once under ``tracemalloc`` for the peak memory it allocates; the call counts
of both must agree.

Usage: ``python benchmarks/bench_stock_sync.py [--offers 200000] [--changed 0.01] [--json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from _common import OfferIndex, add_offers, emit_json, fmt_bytes, peak_rss_mb

from mirakl_sync._http import Secret
from mirakl_sync.engine import StaticStockSource, Synchronizer
from mirakl_sync.engine.config import FeedConfig, JobIntervals, ShopConfig, SyncConfig
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.mirakl.models import StockUpdate, stock_csv
from mirakl_sync.sandbox import (
    DEFAULT_API_KEY,
    DEFAULT_SHOP_ID,
    MiraklSandbox,
    RecordedCall,
    SandboxClock,
)

SHOP = "bench-shop"
URL = "https://mirakl.sandbox"
POLL_OPS = ("STO02", "STO03")
CATALOGUE_OPS = ("OF52", "OF53", "OF54")


def wire_bytes(call: RecordedCall) -> int:
    """Request line + headers + body, as HTTP/1.1 would send them (approximately: the
    recorded Authorization value is redacted)."""
    query = "&".join(f"{k}={v}" for k, v in call.query)
    line = f"{call.method} {call.path}{'?' + query if query else ''} HTTP/1.1\r\n"
    headers = sum(len(k) + len(v) + 4 for k, v in call.headers)
    return len(line) + headers + 2 + len(call.body)


def summarise(calls: Iterable[RecordedCall]) -> dict[str, Any]:
    calls = list(calls)
    by_op = Counter(c.operation or "?" for c in calls)

    def group(ops: Iterable[str]) -> dict[str, int]:
        chosen = [c for c in calls if c.operation in set(ops)]
        return {
            "calls": len(chosen),
            "body_bytes": sum(len(c.body) for c in chosen),
            "wire_bytes": sum(wire_bytes(c) for c in chosen),
        }

    return {
        "by_operation": dict(sorted(by_op.items())),
        "sto01": group(["STO01"]),
        "polls": group(POLL_OPS),
        "catalogue": group(CATALOGUE_OPS),
        "all": group(by_op),
        "statuses": sorted({c.status or 0 for c in calls}),
    }


class Bench:
    def __init__(self, offers: int, folder: Path, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.clock = SandboxClock()
        self.mirakl = MiraklSandbox(clock=self.clock, seed=seed)
        index = OfferIndex.install(self.mirakl.state)
        self.skus = [f"SKU-{i:07d}" for i in range(offers)]
        self.levels = {sku: self.rng.randint(1, 400) for sku in self.skus}
        prices = [f"{self.rng.randint(5, 300)}.{self.rng.randint(0, 99):02d}" for _ in self.skus]
        add_offers(
            self.mirakl.state,
            index,
            DEFAULT_SHOP_ID,
            [(sku, 0, price) for sku, price in zip(self.skus, prices, strict=True)],
        )
        self.source = StaticStockSource({"": dict(self.levels)})
        config = SyncConfig(
            shops=(
                ShopConfig(
                    key=SHOP,
                    marketplace="sandbox",
                    base_url=URL,
                    api_key=Secret(DEFAULT_API_KEY),
                    shop_id=DEFAULT_SHOP_ID,
                    acceptance_window=timedelta(days=3),
                ),
            ),
            feeds=FeedConfig(kind="starter", directory=str(folder / "feeds")),
            jobs=JobIntervals.from_mapping({"push_stock": "1m"}),
            storage=f"sqlite:///{folder / 'sync.db'}",
        )
        self.client = self.make_client()
        self.sync = Synchronizer(
            config, mirakl=self.client, stock_source=self.source, clock=self.clock.now
        )

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    def make_client(self) -> MiraklClient:
        return MiraklClient(
            URL,
            DEFAULT_API_KEY,
            shop_id=DEFAULT_SHOP_ID,
            transport=self.mirakl.transport(),
            now=self.clock.now,
            sleep=self.sleep,
        )

    def cycle(self) -> dict[str, int]:
        """One ``push_stock`` run, then a minute passes (the job's interval)."""
        result = self.sync.run_job(SHOP, "push_stock")
        if result.outcome != "success":
            raise SystemExit(f"push_stock failed: {result.error}")
        self.clock.advance(minutes=1)
        return dict(result.counts)

    def change(self, fraction: float) -> dict[str, int]:
        """Change the level of ``fraction`` of the SKUs (to a different positive quantity)."""
        count = max(1, round(len(self.skus) * fraction))
        changed = {}
        for sku in self.rng.sample(self.skus, count):
            quantity = self.levels[sku] + self.rng.randint(1, 20)
            self.levels[sku] = quantity
            self.source.set(sku, quantity)
            changed[sku] = quantity
        return changed

    def mirakl_matches(self, skus: Iterable[str]) -> bool:
        state = self.mirakl.state
        return all(
            (offer := state.offer_by_sku(DEFAULT_SHOP_ID, sku)) is not None
            and offer.quantity == self.levels[sku]
            for sku in skus
        )


def of24_bodies(bench: Bench, changed: dict[str, int]) -> list[bytes]:
    """The body one OF24 call per changed offer would POST (required fields + quantity)."""
    bodies = []
    for sku, quantity in changed.items():
        offer = bench.mirakl.state.offer_by_sku(DEFAULT_SHOP_ID, sku)
        assert offer is not None
        item = {
            "shop_sku": sku,
            "product_id": sku,
            "product_id_type": "SHOP_SKU",
            "price": float(offer.price),
            "state_code": offer.state_code,
            "update_delete": "update",
            "quantity": quantity,
        }
        # httpx's json= encoding (compact separators, UTF-8)
        body = json.dumps({"offers": [item]}, separators=(",", ":"), ensure_ascii=False)
        bodies.append(body.encode())
    return bodies


def measured_cycle(bench: Bench, fraction: float, traced: bool) -> dict[str, Any]:
    changed = bench.change(fraction)
    mark = len(bench.mirakl.calls)
    gc.collect()
    if traced:
        tracemalloc.start()
    t = time.perf_counter()
    push = bench.cycle()  # plans and sends the STO01 (after the catalogue refresh)
    confirm = bench.cycle()  # polls STO02 a minute later and confirms the lines
    elapsed = time.perf_counter() - t
    peak = 0
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    calls = [bench.mirakl.calls[i] for i in range(mark, len(bench.mirakl.calls))]
    if not bench.mirakl_matches(changed):
        raise SystemExit("the changed quantities did not reach the sandbox")
    floor = stock_csv(StockUpdate(offer_sku=s, quantity=q) for s, q in changed.items())
    return {
        "changed": changed,
        "seconds": elapsed,
        "traced_peak_mb": peak / 2**20,
        "summary": summarise(calls),
        "counts": {"push": push, "confirm": confirm},
        "changed_csv_bytes": len(floor),
    }


def full_push_baseline(bench: Bench) -> dict[str, Any]:
    """One STO01 of the whole catalogue, then one STO02 a minute later (same schedule)."""
    client = bench.make_client()
    bench.clock.advance(minutes=2)  # out of the engine's STO01 minute
    mark = len(bench.mirakl.calls)
    updates = [StockUpdate(offer_sku=s, quantity=q) for s, q in bench.levels.items()]
    t = time.perf_counter()
    result = client.stock.import_quantities(updates)
    bench.clock.advance(minutes=1)
    status = client.stock.import_status(result.import_id)
    elapsed = time.perf_counter() - t
    if str(status.status).upper() != "COMPLETE":
        raise SystemExit(f"full push import not complete: {status.status}")
    calls = [bench.mirakl.calls[i] for i in range(mark, len(bench.mirakl.calls))]
    client.close()
    return {"seconds": elapsed, "summary": summarise(calls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=200_000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction changed")
    parser.add_argument("--json", action="store_true", help="print a BENCH-JSON summary line")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        bench = Bench(args.offers, Path(tmp))
        seeded = time.perf_counter() - t
        t = time.perf_counter()
        first = bench.cycle()  # full OF52 export, STO01 of the whole catalogue
        second = bench.cycle()  # STO02: confirms it; differential export
        third = bench.cycle()  # nothing changed: differential export only
        settle = time.perf_counter() - t
        if third.get("unchanged") != 1 or not bench.mirakl_matches(bench.skus):
            raise SystemExit(f"the initial push did not settle: {first} {second} {third}")
        print(
            f"stock sync, {args.offers:,} offers, {args.changed:.1%} changed per cycle "
            f"(setup: seed {seeded:.1f} s, initial push + settle {settle:.1f} s)"
        )
        timed = measured_cycle(bench, args.changed, traced=False)
        traced = measured_cycle(bench, args.changed, traced=True)
        full = full_push_baseline(bench)
        bench.sync.close()

    ours = timed["summary"]
    counted = ("sto01", "polls", "catalogue")
    if any(
        ours[k]["calls"] != traced["summary"][k]["calls"] for k in counted
    ):  # the two runs must agree
        raise SystemExit(f"call counts differ between runs: {ours} / {traced['summary']}")
    changed_rows = len(timed["changed"])
    floor = timed["changed_csv_bytes"]
    of24 = of24_bodies(bench, timed["changed"])
    of24_calls, of24_bytes = len(of24), sum(len(b) for b in of24)
    ours_calls = ours["sto01"]["calls"] + ours["polls"]["calls"]
    ours_bytes = ours["sto01"]["body_bytes"] + ours["polls"]["body_bytes"]
    full_s = full["summary"]
    full_calls = full_s["sto01"]["calls"] + full_s["polls"]["calls"]
    full_bytes = full_s["sto01"]["body_bytes"] + full_s["polls"]["body_bytes"]
    polls = ours["polls"]["calls"]
    peak_mb = traced["traced_peak_mb"]

    print(f"changed rows: {changed_rows:,}; their STO01 CSV: {fmt_bytes(floor)}")
    print(f"engine cycle (push + confirm): {timed['seconds']:.2f} s, job counts {timed['counts']}")
    print(f"operations in the measured cycle: {ours['by_operation']}")
    header = f"{'':<34}{'calls':>7}{'body bytes':>14}{'with headers':>14}"
    print(header)

    def show(label: str, group: dict[str, int]) -> None:
        print(
            f"{label:<34}{group['calls']:>7,}{group['body_bytes']:>14,}{group['wire_bytes']:>14,}"
        )

    show("ours: STO01", ours["sto01"])
    show("ours: status polls (STO02/STO03)", ours["polls"])
    show("ours: catalogue refresh (OF52-54)", ours["catalogue"])
    show("baseline full push: STO01", full_s["sto01"])
    show("baseline full push: STO02", full_s["polls"])
    print(f"{'baseline OF24 per offer (computed)':<34}{of24_calls:>7,}{of24_bytes:>14,}{'-':>14}")
    print(f"{'changed rows CSV (floor)':<34}{'-':>7}{floor:>14,}{'-':>14}")
    goal_calls = ours["sto01"]["calls"] == 1
    bytes_ratio = ours_bytes / floor
    print(
        f"goal: 1 STO01 + polls -> {ours['sto01']['calls']} STO01 + {polls} polls "
        f"({'met' if goal_calls else 'NOT MET'}); bytes / changed-rows CSV = {bytes_ratio:.3f} "
        f"(target <= 1.2: {'met' if bytes_ratio <= 1.2 else 'NOT MET'})"
    )
    print(
        f"vs full push: bytes x{ours_bytes / full_bytes:.4f}; "
        f"vs OF24 per offer: calls x{ours_calls / of24_calls:.4f}, "
        f"bytes x{ours_bytes / of24_bytes:.3f}"
    )
    print(
        f"peak memory allocated during the cycle (tracemalloc): {peak_mb:,.0f} MB; "
        f"process max RSS (sandbox with {args.offers:,} offers included): {peak_rss_mb():,.0f} MB"
    )

    if args.json:
        label = f"stock sync {args.offers:,} offers, {args.changed:.0%} changed"
        note = (
            f"+ {ours['catalogue']['calls']} OF52-54 catalogue-refresh calls "
            f"({fmt_bytes(ours['catalogue']['body_bytes'])}) not counted; "
            f"cycle {timed['seconds']:.1f} s"
        )
        rows = [
            {
                "workload": f"{label}: HTTP calls vs OF24 per offer",
                "ours": f"{ours['sto01']['calls']} STO01 + {polls} poll{'s' * (polls != 1)}",
                "baseline": f"{of24_calls:,} OF24 (computed)",
                "ratio": ours_calls / of24_calls,
                "peak_mb": peak_mb,
                "target": "calls = 1 STO01 + polls",
                "ok": goal_calls,
                "note": note,
            },
            {
                "workload": f"{label}: bytes sent vs full-catalogue push",
                "ours": fmt_bytes(ours_bytes),
                "baseline": f"{fmt_bytes(full_bytes)} ({full_calls} calls)",
                "ratio": ours_bytes / full_bytes,
                "peak_mb": peak_mb,
                "target": None,
                "ok": None,
                "note": "request bodies",
            },
            {
                "workload": f"{label}: bytes sent vs OF24 per offer",
                "ours": fmt_bytes(ours_bytes),
                "baseline": f"{fmt_bytes(of24_bytes)} (computed)",
                "ratio": ours_bytes / of24_bytes,
                "peak_mb": peak_mb,
                "target": None,
                "ok": None,
                "note": "OF24 bodies with required fields + quantity only (lower bound)",
            },
            {
                "workload": f"{label}: bytes sent vs changed rows' CSV",
                "ours": fmt_bytes(ours_bytes),
                "baseline": f"{fmt_bytes(floor)} ({changed_rows:,} rows)",
                "ratio": bytes_ratio,
                "peak_mb": peak_mb,
                "target": "bytes <= 1.2x changed rows' CSV",
                "ok": bytes_ratio <= 1.2,
                "note": "multipart envelope included",
            },
        ]
        emit_json(
            "stock_sync",
            rows,
            offers=args.offers,
            ours=ours,
            full_push=full_s,
            of24={"calls": of24_calls, "body_bytes": of24_bytes},
            changed_csv_bytes=floor,
            cycle_seconds=timed["seconds"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
