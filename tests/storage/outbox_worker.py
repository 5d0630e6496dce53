"""A worker process for the concurrency tests: claims outbox items until all are confirmed.

Run as ``python -m tests.storage.outbox_worker URL --name w1 --log path ...``. Every event is
written as one JSON line, unbuffered (one ``write`` system call per line), so the lines of a
worker killed with SIGKILL are not lost:

* ``claim``: the item was leased to this worker (``attempts`` is the lease epoch, ``at`` and
  ``expires`` the lease window as stored);
* ``done``: ``mark_sent`` and ``complete`` succeeded under this worker's lease;
* ``lost``: the lease was taken over before this worker completed (allowed, never expected);
* ``stall``: (``--stall-after``) the worker holds a leased batch and now sleeps until killed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from mirakl_sync.storage import LeaseLostError, OutboxStatus, open_storage


def _log(fd: int, **event: Any) -> None:
    os.write(fd, (json.dumps(event) + "\n").encode())


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--name", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--total", type=int, required=True)
    parser.add_argument("--schema", default=None)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--stall-after", type=int, default=-1, help="batches before stalling")
    parser.add_argument("--deadline", type=float, default=150.0, help="give up after seconds")
    args = parser.parse_args(argv)

    options: dict[str, Any] = {"pool_max_size": 2} if args.schema else {}
    if args.schema:
        options["schema"] = args.schema
    storage = open_storage(args.url, **options)
    fd = os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    started = time.monotonic()
    batches = 0
    try:
        while time.monotonic() - started < args.deadline:
            now = datetime.now(UTC)
            items = storage.claim(
                worker=args.name, now=now, lease_seconds=args.lease, limit=args.batch
            )
            if not items:
                if storage.count_items()[OutboxStatus.CONFIRMED] >= args.total:
                    return 0
                time.sleep(0.02)
                continue
            for item in items:
                assert item.lease_expires_at is not None
                _log(
                    fd,
                    e="claim",
                    key=item.key,
                    worker=args.name,
                    attempts=item.attempts,
                    status=item.status.value,
                    at=item.updated_at.isoformat(),
                    expires=item.lease_expires_at.isoformat(),
                )
            if batches == args.stall_after:
                # Hold the leases: send half the batch, then hang until SIGKILL.
                for item in items[: len(items) // 2]:
                    storage.mark_sent(item.shop, item.key, worker=args.name, now=datetime.now(UTC))
                _log(fd, e="stall", worker=args.name, keys=[i.key for i in items])
                while True:
                    time.sleep(1)
            batches += 1
            for item in items:
                try:
                    with storage.transaction():
                        if item.status is OutboxStatus.PLANNED:
                            storage.mark_sent(
                                item.shop, item.key, worker=args.name, now=datetime.now(UTC)
                            )
                        storage.complete(
                            item.shop, item.key, worker=args.name, now=datetime.now(UTC)
                        )
                except LeaseLostError:
                    _log(fd, e="lost", key=item.key, worker=args.name, attempts=item.attempts)
                    continue
                _log(fd, e="done", key=item.key, worker=args.name, attempts=item.attempts)
        print(f"{args.name}: deadline passed", file=sys.stderr)
        return 3
    finally:
        os.close(fd)
        storage.close()


if __name__ == "__main__":
    sys.exit(main())
