"""Benchmark: OR11 pull of N orders (default 100,000) from the sandbox's loopback HTTP server.

Clients, each pulling every order with pages of 100 and keeping them in memory:

* ``raw``: a minimal loop, ``httpx.Client`` + ``json.loads`` over ``/api/orders?max=100&offset=N``
  (plain dicts, float money: no model, no validation) - the floor for Python over HTTP;
* ``sync``: our ``MiraklClient``, ``list(client.orders.list(page_size=100))`` into typed models
  (attrs, ``Decimal`` money, aware datetimes), ``call_budget=None``;
* ``async``: our ``AsyncMiraklClient`` pulling ``--concurrency`` date windows of the same period
  at once (``asyncio.gather`` of ``orders.list(created_from=..., created_to=...)``: the way to
  parallelise an offset-paged backfill), then deduplicated by ``order_id``;
* ``mirakl-lib``: the PyPI package ``mirakl-lib`` (``MiraklClient.get_orders(offset, size)``,
  requests + pydantic models), when installed (``nox -s bench`` installs it; else "not
  installed").

Method. The server runs in a child process (so it does not share the client's interpreter lock)
and serves a ``MiraklSandbox`` (frequency limits off) seeded with N orders of 1-3 lines,
created one second apart. Its OR11 route is given a fast path for the listings used here
(no filter, or a ``start_date``/``end_date`` window): pages are joined from the orders' JSON
rendered once at start-up, byte-identical to the sandbox's own OR11 answer (checked at
start-up), because the sandbox's OR11 filters, sorts and renders every order on every page
(O(N) per page), which would make every client look alike. Each client runs in a fresh
process, ``--repeat`` times, interleaved; the best time is reported with the range, and the
peak memory is the client process's max RSS (the pulled orders included). Shipping and billing
addresses carry a ``state`` (region) so that mirakl-lib's models, which require one, accept them.

Usage: ``python benchmarks/bench_pull.py [--orders 100000] [--repeat 2] [--concurrency 4]
[--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import importlib
import itertools
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import OfferIndex, add_offers, emit_json, peak_rss_mb, stderr

API_KEY = "sandbox-shop-key"
PAGE = 100
CLIENTS = ("raw", "sync", "async", "mirakl-lib")
REGIONS = ("Ile-de-France", "Auvergne-Rhone-Alpes", "Hauts-de-France", "Pays de la Loire")
HERE = Path(__file__).resolve()


# -- server (child process) ---------------------------------------------------------------------


def _make_sandbox(orders: int) -> tuple[Any, dict[str, Any]]:
    from mirakl_sync.sandbox import DEFAULT_SHOP_ID, MiraklSandbox
    from mirakl_sync.sandbox._http import RequestContext, json_response
    from mirakl_sync.sandbox.mirakl import render

    class FastOR11Sandbox(MiraklSandbox):
        """The sandbox with an OR11 fast path for a frozen order book (see the module doc)."""

        fast = False
        _snapshot_json: list[bytes]
        _snapshot_created: list[datetime]
        _FAST_PARAMS = frozenset({"max", "offset", "start_date", "end_date", "shop_id"})
        _CONTENT_TYPE = dict(json_response({}).headers.items())
        _CONTENT_TYPE.pop("content-length", None)

        def freeze(self) -> None:
            ordered = sorted(
                (o for o in self.state.orders.values() if o.shop_id == DEFAULT_SHOP_ID),
                key=lambda o: (o.created_date, o.order_id),
            )
            self._snapshot_created = [o.created_date for o in ordered]
            self._snapshot_json = [
                json.dumps(
                    render.order_json(o, self.state), separators=(",", ":"), ensure_ascii=False
                ).encode()
                for o in ordered
            ]
            self.fast = True

        def _or11(self, ctx: RequestContext) -> httpx.Response:
            names = {k for k, _ in ctx.request.url.params.multi_items()}
            if not self.fast or not names <= self._FAST_PARAMS or ctx.shop_id != DEFAULT_SHOP_ID:
                return super()._or11(ctx)
            start, end = ctx.q_datetime("start_date"), ctx.q_datetime("end_date")
            lo = 0 if start is None else bisect.bisect_left(self._snapshot_created, start)
            hi = (
                len(self._snapshot_created)
                if end is None
                else bisect.bisect_right(self._snapshot_created, end)
            )
            page, headers = self._paginate(ctx, self._snapshot_json[lo:hi])
            content = b'{"orders":[%s],"total_count":%d}' % (b",".join(page), hi - lo)
            return httpx.Response(200, content=content, headers={**self._CONTENT_TYPE, **headers})

    t = time.perf_counter()
    sandbox = FastOR11Sandbox(seed=9, enforce_frequencies=False)
    state = sandbox.state
    index = OfferIndex.install(state)
    offers = [(f"SKU-{i:05d}", 10**9, f"{5 + i % 200}.{i % 100:02d}") for i in range(2000)]
    add_offers(state, index, DEFAULT_SHOP_ID, offers)
    now = sandbox.clock.now()
    first = now - timedelta(seconds=orders)
    for i in range(orders):
        lines = [
            (offers[(i * 7 + j * 13) % len(offers)][0], 1 + (i + j) % 3) for j in range(1 + i % 3)
        ]
        order = state.place_order(DEFAULT_SHOP_ID, lines, created=first + timedelta(seconds=i))
        region = REGIONS[i % len(REGIONS)]
        for key in ("billing_address", "shipping_address"):
            address = order.customer.get(key)
            if isinstance(address, dict):
                address["state"] = region
    seeded = time.perf_counter() - t
    t = time.perf_counter()
    sandbox.freeze()
    rendered = time.perf_counter() - t
    info = {
        "orders": orders,
        "seed_s": round(seeded, 2),
        "render_s": round(rendered, 2),
        "bytes_per_order": round(sum(map(len, sandbox._snapshot_json)) / max(orders, 1)),
        "since": first.isoformat(),
        "until": (first + timedelta(seconds=orders)).isoformat(),
    }
    return sandbox, info


def _check_fast_path(sandbox: Any, orders: int, since: datetime) -> None:
    """The fast path answers byte for byte what the sandbox itself answers."""
    queries: list[dict[str, str]] = [
        {"max": "100", "offset": "0"},
        {"max": "100", "offset": str(max(0, orders - 50))},
        {
            "max": "100",
            "offset": "100",
            "start_date": (since + timedelta(seconds=orders // 3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": (since + timedelta(seconds=orders // 2, milliseconds=-1)).isoformat(
                timespec="milliseconds"
            ),
        },
    ]
    for params in queries:
        answers = []
        for fast in (True, False):
            sandbox.fast = fast
            request = httpx.Request(
                "GET",
                "http://127.0.0.1/api/orders",
                params=params,
                headers={"Authorization": API_KEY},
            )
            response = sandbox.handle(request)
            answers.append((response.status_code, response.content, response.headers.get("link")))
        sandbox.fast = True
        if answers[0] != answers[1]:
            raise SystemExit(f"OR11 fast path differs from the sandbox for {params}")
    sandbox.calls.clear()


def serve(orders: int) -> int:
    sandbox, info = _make_sandbox(orders)
    t = time.perf_counter()
    _check_fast_path(sandbox, orders, datetime.fromisoformat(info["since"]))
    info["check_s"] = round(time.perf_counter() - t, 2)
    with sandbox.serve() as server:
        info["url"] = server.url
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    return 0


# -- clients (one child process each) -----------------------------------------------------------


def pull_raw(url: str) -> int:
    orders: list[Any] = []
    with httpx.Client(base_url=url, headers={"Authorization": API_KEY}) as client:
        offset, total = 0, 1
        while offset < total:
            response = client.get("/api/orders", params={"max": PAGE, "offset": offset})
            response.raise_for_status()
            body = json.loads(response.content)
            orders.extend(body["orders"])
            total = body["total_count"]
            offset += PAGE
    return len({o["order_id"] for o in orders})


def pull_sync(url: str) -> int:
    from mirakl_sync.mirakl import MiraklClient

    with MiraklClient(url, API_KEY, call_budget=None) as client:
        orders = list(client.orders.list(page_size=PAGE))
    return len({o.order_id for o in orders})


def _windows(since: datetime, until: datetime, count: int) -> list[tuple[datetime, datetime]]:
    """``count`` disjoint, contiguous windows of whole seconds covering ``[since, until)``;
    Mirakl's ``end_date`` is inclusive, so each window ends 1 ms before the next starts."""
    seconds = int((until - since).total_seconds())
    bounds = [since + timedelta(seconds=seconds * k // count) for k in range(count + 1)]
    return [(a, b - timedelta(milliseconds=1)) for a, b in itertools.pairwise(bounds)]


async def _pull_async(url: str, since: datetime, until: datetime, concurrency: int) -> int:
    from mirakl_sync.mirakl import AsyncMiraklClient
    from mirakl_sync.mirakl.models import Order

    async with AsyncMiraklClient(url, API_KEY, call_budget=None) as client:

        async def window(start: datetime, end: datetime) -> list[Order]:
            pager = client.orders.list(created_from=start, created_to=end, page_size=PAGE)
            return [order async for order in pager]

        parts = await asyncio.gather(
            *(window(a, b) for a, b in _windows(since, until, concurrency))
        )
    orders = {o.order_id: o for part in parts for o in part}
    return len(orders)


def pull_async(url: str, since: datetime, until: datetime, concurrency: int) -> int:
    return asyncio.run(_pull_async(url, since, until, concurrency))


def pull_mirakl_lib(url: str) -> int:
    lib: Any = importlib.import_module("mirakl_lib")  # untyped, installed by `nox -s bench`
    client = lib.MiraklClient("bench", base_url=url, api_key=API_KEY)
    orders: list[Any] = []
    offset, more = 0, True
    while more:
        result = client.get_orders(offset=offset, size=PAGE)
        orders.extend(result.orders)
        more, offset = result.has_more, result.next_order_start_offset
    return len({o.order_id for o in orders})


def run_client(name: str, url: str, since: datetime, until: datetime, concurrency: int) -> int:
    if name == "mirakl-lib":
        try:
            importlib.import_module("mirakl_lib")
        except ImportError:
            print(json.dumps({"client": name, "error": "not installed"}), flush=True)
            return 0
    t = time.perf_counter()
    if name == "raw":
        count = pull_raw(url)
    elif name == "sync":
        count = pull_sync(url)
    elif name == "async":
        count = pull_async(url, since, until, concurrency)
    else:
        count = pull_mirakl_lib(url)
    elapsed = time.perf_counter() - t
    result = {"client": name, "seconds": elapsed, "orders": count, "peak_mb": peak_rss_mb()}
    print(json.dumps(result), flush=True)
    return 0


# -- driver -------------------------------------------------------------------------------------


def _child(args: Sequence[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(HERE), *args], capture_output=True, text=True, timeout=timeout
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " / ".join(tail) or f"exit {done.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _fmt_range(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f} s" if len(values) > 1 else f"{values[0]:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--json", action="store_true", help="print a BENCH-JSON summary line")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--since", help=argparse.SUPPRESS)
    parser.add_argument("--until", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        return serve(args.orders)
    if args.client:
        since = datetime.fromisoformat(args.since)
        until = datetime.fromisoformat(args.until)
        return run_client(args.client, args.url, since, until, args.concurrency)

    clients = [c for c in args.clients.split(",") if c]
    t = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", "--orders", str(args.orders)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line:
            raise SystemExit("the sandbox server did not start")
        info = json.loads(line)
        setup = time.perf_counter() - t
        print(
            f"OR11 pull, {args.orders:,} orders ({info['bytes_per_order']:,} bytes of JSON each), "
            f"pages of {PAGE}, sandbox on {info['url']} (separate process)"
        )
        print(
            f"setup (not timed below): {setup:.1f} s = seed {info['seed_s']} s + render "
            f"{info['render_s']} s + fast-path check {info['check_s']} s + process start"
        )
        times: dict[str, list[float]] = {c: [] for c in clients}
        peaks: dict[str, float] = {}
        errors: dict[str, str] = {}
        timeout = 60 + args.orders / 200
        for r in range(args.repeat):
            order = clients if r % 2 == 0 else list(reversed(clients))
            for name in order:
                if name in errors:
                    continue
                res = _child(
                    [
                        "--client",
                        name,
                        "--url",
                        info["url"],
                        "--since",
                        info["since"],
                        "--until",
                        info["until"],
                        "--concurrency",
                        str(args.concurrency),
                    ],
                    timeout,
                )
                if "error" in res:
                    errors[name] = str(res["error"])
                    stderr(f"{name}: {res['error']}")
                    continue
                if res["orders"] != args.orders:
                    errors[name] = f"pulled {res['orders']:,} orders, expected {args.orders:,}"
                    continue
                times[name].append(float(res["seconds"]))
                peaks[name] = max(peaks.get(name, 0.0), float(res["peak_mb"]))
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.terminate()
            server.wait(timeout=10)

    best = {c: min(v) for c, v in times.items() if v}
    print(f"{'client':<11}{'best s':>9}{'range':>16}{'orders/s':>11}{'peak MB':>9}  note")
    for name in clients:
        if name in best:
            print(
                f"{name:<11}{best[name]:>9.2f}{_fmt_range(times[name]):>16}"
                f"{args.orders / best[name]:>11,.0f}{peaks[name]:>9,.0f}"
                + (f"  {args.concurrency} date windows at once" if name == "async" else "")
            )
        else:
            print(f"{name:<11}{'-':>9}{'-':>16}{'-':>11}{'-':>9}  {errors.get(name, '')}")

    def ratio(a: str, b: str) -> float | None:
        return best[a] / best[b] if a in best and b in best else None

    comparisons = [
        ("sync", "raw", 1.5),
        ("sync", "mirakl-lib", 1.0),
        ("async", "raw", 1.5),
        ("async", "mirakl-lib", 1.0),
    ]
    for a, b, target in comparisons:
        value = ratio(a, b)
        shown = f"{value:.2f}" if value is not None else "n/a"
        print(f"time ratio {a}/{b}: {shown} (target <= {target})")

    if args.json:
        rows = []
        for a, b, target in comparisons:
            if a not in clients:
                continue
            value = ratio(a, b)
            base = (
                f"{b} {args.orders / best[b]:,.0f} orders/s"
                if b in best
                else f"{b}: {errors.get(b, 'not run')}"
            )
            label = "sync client" if a == "sync" else f"async client x{args.concurrency}"
            ours_range = _fmt_range(times[a]) if a in best else "-"
            base_range = _fmt_range(times[b]) if b in best else "-"
            rows.append(
                {
                    "workload": f"OR11 pull {args.orders:,} orders, {label} vs {b}",
                    "ours": f"{args.orders / best[a]:,.0f} orders/s" if a in best else "failed",
                    "baseline": base,
                    "ratio": value,
                    "peak_mb": peaks.get(a),
                    "baseline_peak_mb": peaks.get(b),
                    "target": f"time ratio <= {target}",
                    "ok": None if value is None else value <= target,
                    "note": f"best of {args.repeat}; ours {ours_range}, {b} {base_range}",
                }
            )
        emit_json(
            "pull",
            rows,
            orders=args.orders,
            setup_s=round(setup, 1),
            times=times,
            errors=errors,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
