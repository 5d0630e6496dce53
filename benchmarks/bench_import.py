"""Benchmark: ``import mirakl_sync`` against ``import httpx``, each in a fresh interpreter.

``import mirakl_sync`` is light by design (the engine and the clients load on first use), so a
second, informational row times ``from mirakl_sync.mirakl import MiraklClient``, which loads
httpx, attrs, cattrs and the models.

Each measurement starts a new ``python -c`` process that times the import itself
(``time.perf_counter`` around ``import X``, so interpreter start-up is excluded), and reports
its max RSS. The two imports alternate, ``--repeat`` times each (default 15); the best time is
compared (target: ``mirakl_sync`` within 1.5x of ``httpx``, which it imports). With
``--importtime`` the slowest modules of one ``python -X importtime``
are listed for the client import (cumulative microseconds).

Usage: ``python benchmarks/bench_import.py [--repeat 15] [--importtime] [--json]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _common import emit_json

SNIPPET = (
    "import time, json\n"
    "t = time.perf_counter()\n"
    "{statement}\n"
    "e = time.perf_counter() - t\n"
    "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:')]\n"
    "print(json.dumps([e, int(hwm[0].split()[1]) / 1024 if hwm else 0.0]))\n"
)


STATEMENTS = {
    "mirakl_sync": "import mirakl_sync",
    "httpx": "import httpx",
    "client": "from mirakl_sync.mirakl import MiraklClient",
}


def measure(name: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET.format(statement=STATEMENTS[name])],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-2:])
        raise SystemExit(f"`{STATEMENTS[name]}` failed: {tail}")
    seconds, rss = json.loads(done.stdout.strip().splitlines()[-1])
    return float(seconds), float(rss)


def importtime(statement: str, top: int = 12) -> list[tuple[int, str]]:
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--json", action="store_true", help="print a BENCH-JSON summary line")
    args = parser.parse_args(argv)

    modules = tuple(STATEMENTS)
    times: dict[str, list[float]] = {m: [] for m in modules}
    rss: dict[str, float] = {}
    for _ in range(args.repeat):
        for module in modules:
            seconds, peak = measure(module)
            times[module].append(seconds)
            rss[module] = max(rss.get(module, 0.0), peak)
    best = {m: min(v) for m, v in times.items()}
    ratio = best["mirakl_sync"] / best["httpx"]
    print(f"import time, best of {args.repeat} fresh interpreters (start-up excluded)")
    for module in modules:
        print(
            f"  {STATEMENTS[module]:<44} best {best[module] * 1000:6.1f} ms  "
            f"median {statistics.median(times[module]) * 1000:6.1f} ms  "
            f"max RSS {rss[module]:5.1f} MB"
        )
    client_ratio = best["client"] / best["httpx"]
    print(f"ratio mirakl_sync/httpx: {ratio:.2f} (target <= 1.5)")
    print(f"ratio client/httpx: {client_ratio:.2f} (informational: the client imports httpx)")
    if args.importtime:
        print(f"slowest imports under `{STATEMENTS['client']}` (cumulative us):")
        for micros, name in importtime(STATEMENTS["client"]):
            print(f"  {micros:>8,}  {name}")
    if args.json:
        emit_json(
            "import",
            [
                {
                    "workload": "import mirakl_sync vs import httpx",
                    "ours": f"{best['mirakl_sync'] * 1000:.0f} ms",
                    "baseline": f"{best['httpx'] * 1000:.0f} ms",
                    "ratio": ratio,
                    "peak_mb": rss["mirakl_sync"],
                    "baseline_peak_mb": rss["httpx"],
                    "target": "time ratio <= 1.5",
                    "ok": ratio <= 1.5,
                    "note": f"best of {args.repeat}; medians "
                    f"{statistics.median(times['mirakl_sync']) * 1000:.0f} / "
                    f"{statistics.median(times['httpx']) * 1000:.0f} ms",
                },
                {
                    "workload": "from mirakl_sync.mirakl import MiraklClient vs import httpx",
                    "ours": f"{best['client'] * 1000:.0f} ms",
                    "baseline": f"{best['httpx'] * 1000:.0f} ms",
                    "ratio": client_ratio,
                    "peak_mb": rss["client"],
                    "baseline_peak_mb": rss["httpx"],
                    "target": None,
                    "ok": None,
                    "note": "informational: the client loads httpx, attrs, cattrs and the models",
                },
            ],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
