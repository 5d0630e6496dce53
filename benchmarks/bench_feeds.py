"""Benchmark: the Inventory Planner sales feed writers against the stdlib ``csv`` module.

Writes N order lines (default 1,000,000) as

* ``baseline``: ``csv.writer`` writing the same cells (pre-formatted the simplest way, ``str()``),
* ``starter``: :func:`write_starter_sales` (Starter sales-orders file),
* ``advanced``: :func:`write_advanced_sales` (Advanced sales-order file, every 10th line with a
  return row, full export, ``fingerprints=False``: the ``since``-only mode),
* ``adv+state``: the same, also collecting the row fingerprints (the incremental state, which
  is kept in memory by design: about 100 bytes per row),

each to a file in a temporary directory, from the same lazily generated ``SalesLine`` records
(the generator's cost is in every measurement). Each writer runs twice: once untraced for the
speed (order lines/s), once under ``tracemalloc`` for the peak memory. Ratios are to the
baseline measured in the same process. A writer that
built the file in memory would show a peak memory growing with N; a streaming one stays flat.

Run: ``.venv/bin/python benchmarks/bench_feeds.py [--lines 1000000] [--json]`` (``--json`` adds
a ``BENCH-JSON`` summary line for ``run_all.py``: time ratios writer / baseline, peaks in MiB).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from mirakl_sync.inventory_planner.feeds import (
    SalesLine,
    write_advanced_sales,
    write_starter_sales,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PRICES = [Decimal(f"{p}.{c:02d}") for p in range(1, 50) for c in (0, 49, 99)]


def lines(count: int) -> Iterator[SalesLine]:
    """Deterministic order lines: two lines per order, one in ten with a return."""
    for i in range(count):
        order = i // 2
        yield SalesLine(
            order_id=f"ORD-{order:08d}-A",
            order_line_id=f"ORD-{order:08d}-A-{i % 2 + 1}",
            sku=f"SKU-{i % 5000:05d}",
            created_at=T0 + dt.timedelta(seconds=i * 7),
            unit_price=PRICES[i % len(PRICES)],
            quantity=1 + i % 3,
            returned_quantity=1 if i % 10 == 0 else 0,
            currency="EUR",
            canceled=i % 50 == 0,
            warehouse="mirakl-fr",
        )


def baseline(records: Iterator[SalesLine], out: TextIO) -> int:
    """stdlib csv writing the same cells, formatted the simplest way."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["order_number", "product_id", "SKU", "date", "price", "quantity", "currency", "canceled"]
    )
    rows = 0
    for line in records:
        writer.writerow(
            (
                line.order_id,
                line.sku,
                line.sku,
                str(line.created_at.date()),
                str(line.unit_price),
                str(line.quantity),
                line.currency,
                str(line.canceled).lower(),
            )
        )
        rows += 1
    return rows


def _run(write: Callable[[Iterator[SalesLine], TextIO], int], count: int, path: Path) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        return write(lines(count), out)


def measure(
    name: str, write: Callable[[Iterator[SalesLine], TextIO], int], count: int, folder: Path
) -> tuple[str, int, float, int, int]:
    path = folder / f"{name}.csv"
    gc.collect()
    start = time.perf_counter()
    rows = _run(write, count, path)
    elapsed = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    _run(write, count, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return name, rows, elapsed, peak, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print a BENCH-JSON summary line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = [
            measure("baseline", baseline, args.lines, folder),
            measure("starter", lambda r, o: write_starter_sales(r, o).rows, args.lines, folder),
            measure(
                "advanced",
                lambda r, o: write_advanced_sales(r, o, fingerprints=False).rows,
                args.lines,
                folder,
            ),
            measure(
                "adv+state",
                lambda r, o: write_advanced_sales(r, o).rows,
                args.lines,
                folder,
            ),
        ]
    _, _, base_time, base_peak, _ = results[0]
    base_rate = args.lines / base_time
    print(f"sales feed, {args.lines:,} order lines")
    header = f"{'writer':<10}{'rows':>11}{'seconds':>9}{'lines/s':>11}{'peak KiB':>10}"
    print(header + f"{'MiB out':>9}{'speed vs csv':>14}{'peak vs csv':>13}")
    for name, rows, elapsed, peak, size in results:
        rate = args.lines / elapsed
        print(
            f"{name:<10}{rows:>11,}{elapsed:>9.2f}{rate:>11,.0f}{peak / 1024:>10.0f}"
            f"{size / 2**20:>9.1f}{rate / base_rate:>14.2f}{peak / base_peak:>13.2f}"
        )
    if args.json:
        summary = [
            {
                "workload": f"sales feed {name} writer, {args.lines:,} order lines vs csv.writer",
                "ours": f"{args.lines / elapsed:,.0f} lines/s",
                "baseline": f"{base_rate:,.0f} lines/s",
                "ratio": elapsed / base_time,
                "peak_mb": peak / 2**20,
                "baseline_peak_mb": base_peak / 2**20,
                "target": None,
                "ok": None,
                "note": "peak = tracemalloc peak of the writer",
            }
            for name, _, elapsed, peak, _ in results[1:]
        ]
        print("BENCH-JSON " + json.dumps({"bench": "feeds", "rows": summary}), flush=True)


if __name__ == "__main__":
    main()
