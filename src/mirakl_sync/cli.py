"""The ``mirakl-sync`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mirakl_sync._version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mirakl-sync",
        description="Keep Mirakl marketplace channels and Inventory Planner in step.",
    )
    parser.add_argument("--version", action="version", version=f"mirakl-sync {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
