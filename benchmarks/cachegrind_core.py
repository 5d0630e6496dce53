"""Deterministic companion of ``bench_core.py``: instructions and cache misses, not seconds.

The machines here are noisy: the same code gave ``bench_core.py`` ratios from 7.45 to 10.5, the
one-dict baseline alone moving between 104 and 390 ms. A change worth 2 % cannot be told from
noise by timing. This script runs the core benchmark's workloads under Valgrind's cachegrind
(``PYTHONHASHSEED=0``, a simulated 8 MiB last-level cache) and prints, net of building the
inputs, the instructions executed and the last-level data-cache misses of each:

* ``baseline``: one dict of the inputs (``bench_core.baseline``);
* ``floor``: the three lookups per offer and the target dict (``bench_core.floor``);
* ``pass``: the full cold reconciliation (``bench_core.full_pass``, a garbage collection included
  as it comes).

Counts repeat to within a fraction of a percent from run to run, so comparing two checkouts shows
what a change does to the work, if not to the seconds. Compare the workloads' own counts: the
baseline's moved by up to 9 % between checkouts whose baseline code is the same (201 M, 187 M,
183 M at 300,000 SKUs), because building the inputs runs the core and leaves the allocator in
another state, so the ratios carry that much noise. Cachegrind models neither the hardware
prefetcher nor the TLB: sequential scans cost more misses here than they cost time, and random
lookups less. So a change that trades hash lookups for sequential reads, as the core's in-step
reads of same-order states do (``mirakl_sync.core._in_step``), adds instructions and counted
misses here while it makes the pass faster; judge such a change by interleaved timings (the
per-round ratios of ``bench_core.py``). Needs ``valgrind``; at the default 300,000 SKUs a run
takes about two minutes on two cores.

Usage: ``python benchmarks/cachegrind_core.py [--skus 300000] [--ll-mib 8]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("none", "baseline", "floor", "pass")

# Runs one workload (or none) after building the inputs, the collector emptied in between.
PROGRAM = """
import gc, sys
sys.path.insert(0, {here!r})
import bench_core as b
inp = b.make_inputs({skus})
gc.collect()
mode = {mode!r}
if mode == "baseline":
    b.baseline(inp)
elif mode == "floor":
    b.floor(inp)
elif mode == "pass":
    b.full_pass(inp)
"""

_COUNT = re.compile(r"^==\d+== (I\s+refs|LLd misses):\s+([\d,]+)", re.MULTILINE)


def measure(mode: str, skus: int, ll_bytes: int, workdir: str) -> tuple[int, int]:
    """(instructions, last-level data misses) of the whole process for ``mode``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=yes",
        f"--LL={ll_bytes},16,64",
        f"--cachegrind-out-file={os.path.join(workdir, mode + '.out')}",
        sys.executable,
        "-c",
        PROGRAM.format(here=str(HERE), skus=skus, mode=mode),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    counts = {
        name.split()[0]: int(value.replace(",", "")) for name, value in _COUNT.findall(done.stderr)
    }
    if done.returncode != 0 or set(counts) != {"I", "LLd"}:
        raise RuntimeError(f"cachegrind run {mode!r} failed:\n{done.stderr[-2000:]}")
    return counts["I"], counts["LLd"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=300_000)
    parser.add_argument("--ll-mib", type=int, default=8, help="simulated last-level cache size")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        futures = {
            mode: pool.submit(measure, mode, args.skus, args.ll_mib << 20, workdir)
            for mode in MODES
        }
        raw = {mode: future.result() for mode, future in futures.items()}
    inputs = raw["none"]
    net = {mode: (raw[mode][0] - inputs[0], raw[mode][1] - inputs[1]) for mode in MODES[1:]}
    print(f"{args.skus:,} SKUs, cachegrind, {args.ll_mib} MiB last-level cache, net of the inputs")
    print(f"{'workload':<10} {'instructions':>16} {'LL data misses':>16}")
    for mode, (ir, misses) in net.items():
        print(f"{mode:<10} {ir:>16,} {misses:>16,}")
    for top, bottom in (("pass", "baseline"), ("floor", "baseline"), ("pass", "floor")):
        (ti, tm), (bi, bm) = net[top], net[bottom]
        print(f"{top} / {bottom}: instructions {ti / bi:.2f} x, LL data misses {tm / bm:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
