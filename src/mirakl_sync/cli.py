"""The ``mirakl-sync`` command.

* ``mirakl-sync demo``: the whole loop against the sandboxes on SQLite (no account needed).
* ``mirakl-sync run --config sync.toml [--once]``: run the synchronizer against real endpoints.
* ``mirakl-sync health --config sync.toml``: print the health report from the storage.
* ``mirakl-sync report --config sync.toml --html report.html``: the same as a web page.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mirakl_sync._version import __version__
from mirakl_sync.errors import MiraklSyncError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mirakl-sync",
        description="Keep Mirakl marketplace channels and Inventory Planner in step.",
    )
    parser.add_argument("--version", action="version", version=f"mirakl-sync {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the sandbox demo (no account needed)")
    demo.add_argument("--hours", type=float, default=6.0, help="simulated hours (default 6)")
    demo.add_argument("--dir", type=Path, default=None, help="where to keep sync.db and feeds")
    demo.add_argument("--seed", type=int, default=7)

    run = commands.add_parser("run", help="run the synchronizer from a TOML configuration")
    run.add_argument("--config", type=Path, required=True)
    run.add_argument("--once", action="store_true", help="run the due jobs once and exit")

    health = commands.add_parser("health", help="print the health report from the storage")
    health.add_argument("--config", type=Path, required=True)

    report = commands.add_parser("report", help="write the health report as an HTML page")
    report.add_argument("--config", type=Path, required=True)
    report.add_argument("--html", type=Path, required=True, help="the page to write")
    report.add_argument("--title", default="mirakl_sync health")
    return parser


def _run(config_path: Path, once: bool) -> int:
    from mirakl_sync.engine import SyncConfig, Synchronizer

    with Synchronizer(SyncConfig.from_toml(config_path)) as sync:
        if once:
            report = sync.run_once()
            for r in report.to_records():
                print(f"{r['shop']:<16} {r['job']:<12} {r['outcome']:<8} {r['counts']}")
            return 0 if report.ok else 1
        sync.run_forever()
    return 0


def _health(config_path: Path) -> int:
    from mirakl_sync.engine import SyncConfig, Synchronizer
    from mirakl_sync.engine.protocols import StaticStockSource

    # Reading health needs no stock source: do not build one (no Inventory Planner call).
    with Synchronizer(SyncConfig.from_toml(config_path), stock_source=StaticStockSource()) as sync:
        report = sync.health()
        print(report.to_text())
        return 0 if report.ok else 1


def _report(config_path: Path, html_path: Path, title: str) -> int:
    from mirakl_sync.engine import SyncConfig, Synchronizer
    from mirakl_sync.engine.protocols import StaticStockSource

    with Synchronizer(SyncConfig.from_toml(config_path), stock_source=StaticStockSource()) as sync:
        health = sync.health()
        html_path.write_text(health.to_html(sync.open_discrepancies(), title=title), "utf-8")
        print(f"wrote {html_path}")
        return 0 if health.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "demo":
            from mirakl_sync.demo import run_demo

            run_demo(hours=args.hours, directory=args.dir, seed=args.seed)
            return 0
        if args.command == "run":
            return _run(args.config, args.once)
        if args.command == "health":
            return _health(args.config)
        if args.command == "report":
            return _report(args.config, args.html, args.title)
    except MiraklSyncError as exc:
        print(f"mirakl-sync: {exc}", file=sys.stderr)
        return 2
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
