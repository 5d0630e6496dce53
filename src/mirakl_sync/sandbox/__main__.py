"""``python -m mirakl_sync.sandbox serve --port N``: run the sandboxes on loopback HTTP servers.

The Mirakl sandbox listens on ``--port`` and Inventory Planner on ``--ip-port`` (both on
127.0.0.1). The Mirakl server also answers ``/sandbox/clock/advance`` and
``/sandbox/orders/...`` so other processes can drive the simulation.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from mirakl_sync.sandbox import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY,
    DEFAULT_IP_KEY,
    InventoryPlannerSandbox,
    MiraklSandbox,
    SandboxClock,
    place_orders,
    seed_catalogue,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mirakl_sync.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Mirakl and Inventory Planner sandboxes")
    serve.add_argument("--port", type=int, default=8765, help="Mirakl sandbox port")
    serve.add_argument("--ip-port", type=int, default=0, help="IP sandbox port (0: none)")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--skus", type=int, default=20, help="catalogue size to seed")
    serve.add_argument("--orders", type=int, default=10, help="orders to place")
    serve.add_argument(
        "--payment-delay", type=float, default=300.0, help="seconds before accepted orders are paid"
    )
    serve.add_argument(
        "--no-frequency-limits", action="store_true", help="do not enforce Mirakl's frequencies"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    clock = SandboxClock()
    mirakl = MiraklSandbox(
        clock=clock,
        seed=args.seed,
        payment_delay=timedelta(seconds=args.payment_delay),
        enforce_frequencies=not args.no_frequency_limits,
    )
    ip = InventoryPlannerSandbox(clock=clock, seed=args.seed)
    seed_catalogue(args.skus, mirakl=mirakl, ip=ip)
    if args.orders:
        place_orders(mirakl, args.orders)
    servers = [mirakl.serve(args.port)]
    out = sys.stdout
    out.write(f"Mirakl sandbox: {servers[0].url}  (Authorization: {DEFAULT_API_KEY})\n")
    if args.ip_port:
        servers.append(ip.serve(args.ip_port))
        out.write(
            f"Inventory Planner sandbox: {servers[1].url}  "
            f"(Authorization: {DEFAULT_IP_KEY}, Account: {DEFAULT_ACCOUNT})\n"
        )
    out.write("Press Ctrl+C to stop.\n")
    out.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
