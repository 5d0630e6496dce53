"""A synchronizer process for crash tests: it talks to sandboxes served on loopback by the test
process, keeps its state in a SQLite file, and is SIGKILLed at the crash point named by
``MIRAKL_SYNC_CRASH_AT`` (see :mod:`mirakl_sync.engine.failpoints`).

Usage: ``python -m tests.engine.crash_worker MIRAKL_URL IP_URL DB FEED_DIR ROUNDS``.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from mirakl_sync._http import Secret
from mirakl_sync.engine.config import FeedConfig, JobIntervals, ShopConfig, SyncConfig
from mirakl_sync.engine.synchronizer import Synchronizer
from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.sandbox import DEFAULT_ACCOUNT, DEFAULT_API_KEY, DEFAULT_IP_KEY, DEFAULT_SHOP_ID

SHOP = "crash-shop"


class RemoteClock:
    """The sandbox's clock, read once, moved only by our own sleeps (which move the sandbox)."""

    def __init__(self, control: httpx.Client) -> None:
        self._control = control
        self._now = datetime.fromisoformat(control.get("/sandbox/clock").json()["now"])

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        response = self._control.post("/sandbox/clock/advance", json={"seconds": seconds})
        self._now = datetime.fromisoformat(response.json()["now"])


def main(argv: list[str]) -> int:
    mirakl_url, ip_url, db, feed_dir, rounds = argv
    control = httpx.Client(base_url=mirakl_url)
    clock = RemoteClock(control)
    config = SyncConfig(
        shops=(
            ShopConfig(
                key=SHOP,
                marketplace="sandbox",
                base_url=mirakl_url,
                api_key=Secret(DEFAULT_API_KEY),
                shop_id=DEFAULT_SHOP_ID,
                acceptance_window=timedelta(days=3),
            ),
        ),
        feeds=FeedConfig(kind="starter", directory=feed_dir),
        jobs=JobIntervals.from_mapping({"sales_feed": "5m", "reconcile": "5m"}),
        storage=f"sqlite:///{db}",
    )
    mirakl = MiraklClient(
        mirakl_url, DEFAULT_API_KEY, shop_id=DEFAULT_SHOP_ID, now=clock.now, sleep=clock.sleep
    )
    ip = InventoryPlannerClient(
        DEFAULT_IP_KEY, DEFAULT_ACCOUNT, base_url=ip_url, now=clock.now, sleep=clock.sleep
    )
    with Synchronizer(config, mirakl=mirakl, inventory_planner=ip, clock=clock.now) as sync:
        for _ in range(int(rounds)):
            report = sync.run_once(force=True)
            for failure in report.failures:
                print(f"{failure.job}: {failure.error}", file=sys.stderr)
            clock.sleep(61)  # imports complete, budgets free up
    Path(db).with_suffix(".done").write_text("ok", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
