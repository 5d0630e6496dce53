"""A/B of the core reconciliation: this checkout against another git revision, in one process.

The machines here are noisy (the one-dict baseline of ``bench_core.py`` has moved between 104
and 510 ms), so two separate runs of ``bench_core.py`` cannot tell a 10 % change. This script
loads the package of ``REV`` beside the working tree's (``git archive``, renamed to
``mirakl_sync_ab``), builds the inputs of ``bench_core.py`` once, and times the same full cold
reconciliation with both packages in alternating order, round after round. It prints each
side's median and the per-round ratio (this checkout / ``REV``): the machine's drift cancels out
of a round.

Usage: ``python benchmarks/ab_core.py REV [--skus 1000000] [--rounds 9]``
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import bench_core as bc

ROOT = Path(__file__).resolve().parent.parent
OTHER = "mirakl_sync_ab"


def load_revision(rev: str, into: Path) -> None:
    """Extract ``src/mirakl_sync`` of ``rev`` into ``into/mirakl_sync_ab``, imports renamed."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src/mirakl_sync"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / OTHER
    (into / "src" / "mirakl_sync").rename(package)
    pattern = re.compile(r"\bmirakl_sync\b")
    for path in package.rglob("*.py"):
        path.write_text(pattern.sub(OTHER, path.read_text(encoding="utf-8")), encoding="utf-8")


def full_pass(pkg: str, inp: dict[str, Any]) -> Callable[[], object]:
    """``bench_core.full_pass`` with package ``pkg`` (its own copies of the typed inputs)."""
    mapping = importlib.import_module(pkg + ".core.mapping")
    stock = importlib.import_module(pkg + ".core.stock")
    core = importlib.import_module(pkg + ".core")
    rec: ModuleType = sys.modules[pkg + ".core.reconcile"]  # the package rebinds `reconcile`
    entries = [
        mapping.MappingEntry(offer_sku=e.offer_sku, components=e.components, marketplace=None)
        for e in inp["entries"]
    ]
    rules = [
        mapping.SkuRule(name=r.name, marketplace=r.marketplace, prefix=r.prefix)
        for r in inp["rules"]
    ]
    p = inp["policy"]
    policy = stock.StockPolicy(
        safety_buffer=p.safety_buffer,
        marketplace_buffers=p.marketplace_buffers,
        max_published=p.max_published,
    )
    imports = tuple(
        rec.StockImport(
            import_id=i.import_id,
            status=i.status,
            submitted_at=i.submitted_at,
            errors=tuple(
                rec.StockImportError(line=e.line, message=e.message, offer_sku=e.offer_sku)
                for e in i.errors
            ),
        )
        for i in inp["imports"]
    )
    kinds = [core.DiscrepancyKind(k.value) for k in bc.STOCK_KINDS]

    def run() -> object:
        sku_map = mapping.SkuMap(entries, items=inp["available"], rules=rules)
        table, target = stock.resolve_and_publish(
            sku_map,
            inp["offers"],
            inp["available"],
            reserved=inp["reserved"],
            policy=policy,
            marketplace=bc.MARKETPLACE,
        )
        snapshots = rec.Snapshots(
            shop="bench",
            stock=rec.StockSnapshot(
                target={bc.G: target}, last_published=inp["last"], remote=inp["remote"]
            ),
            mapping=table,
            stock_imports=imports,
            sync_status=inp["sync_status"],
        )
        return rec.reconcile(snapshots, bc.NOW, kinds=kinds)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the git revision to compare with, e.g. HEAD~3")
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        load_revision(args.rev, Path(tmp))
        sys.path.insert(0, tmp)
        inp = bc.make_inputs(args.skus)
        sides = {args.rev: full_pass(OTHER, inp), "this checkout": full_pass("mirakl_sync", inp)}
        # Same findings on both sides, or the comparison means nothing.
        counts = {name: len(run().discrepancies) for name, run in sides.items()}  # type: ignore[attr-defined]
        if len(set(counts.values())) != 1:
            print(f"the two sides disagree: {counts}")
            return 1
        times: dict[str, list[float]] = {name: [] for name in sides}
        base: list[float] = []
        for r in range(args.rounds):
            gc.collect()
            t = time.perf_counter()
            bc.baseline(inp)
            base.append(time.perf_counter() - t)
            for name in list(sides) if r % 2 == 0 else list(sides)[::-1]:
                gc.collect()
                t = time.perf_counter()
                sides[name]()
                times[name].append(time.perf_counter() - t)
    ref = times[args.rev]
    print(f"{args.skus:,} SKUs, {args.rounds} rounds, alternating order")
    print(f"one-dict baseline: median {statistics.median(base) * 1000:.0f} ms")
    for name, ts in times.items():
        ratios = sorted(t / ref[i] for i, t in enumerate(ts))
        print(
            f"{name}: median {statistics.median(ts) * 1000:.0f} ms"
            f" ({statistics.median(ts) / statistics.median(base):.2f} x baseline);"
            f" per round / {args.rev}: median {statistics.median(ratios):.3f},"
            f" range {ratios[0]:.3f}-{ratios[-1]:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
