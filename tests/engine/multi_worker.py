"""One of several synchronizer workers sharing a Postgres database and ten shops.

Usage: ``python -m tests.engine.multi_worker MIRAKL_URL IP_URL STORAGE_URL FEED_DIR ROUNDS N``.
Time is the sandbox's clock (read over HTTP); every worker's sleeps move it for everyone.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import httpx

from mirakl_sync._http import Secret
from mirakl_sync.engine.config import FeedConfig, ShopConfig, SyncConfig
from mirakl_sync.engine.synchronizer import Synchronizer
from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.sandbox import DEFAULT_ACCOUNT, DEFAULT_IP_KEY


def shop_key(i: int) -> str:
    return f"shop-{i:02d}"


def shop_id(i: int) -> int:
    return 3000 + i


def api_key(i: int) -> str:
    return f"mw-key-{i:02d}"


class SharedClock:
    """The sandbox clock (several workers move it), re-read at most every 50 ms of real time
    and after each of our own sleeps."""

    def __init__(self, control: httpx.Client) -> None:
        self._control = control
        self._cached: datetime | None = None
        self._read_at = 0.0

    def now(self) -> datetime:
        if self._cached is None or time.monotonic() - self._read_at > 0.05:
            self._cached = datetime.fromisoformat(self._control.get("/sandbox/clock").json()["now"])
            self._read_at = time.monotonic()
        return self._cached

    def sleep(self, seconds: float) -> None:
        response = self._control.post("/sandbox/clock/advance", json={"seconds": seconds})
        self._cached = datetime.fromisoformat(response.json()["now"])
        self._read_at = time.monotonic()


def main(argv: list[str]) -> int:
    mirakl_url, ip_url, storage_url, feed_dir, rounds, shops = argv
    control = httpx.Client(base_url=mirakl_url)
    clock = SharedClock(control)
    n = int(shops)
    config = SyncConfig(
        shops=tuple(
            ShopConfig(
                key=shop_key(i),
                marketplace="sandbox",
                base_url=mirakl_url,
                api_key=Secret(api_key(i)),
                shop_id=shop_id(i),
                acceptance_window=timedelta(days=3),
            )
            for i in range(n)
        ),
        feeds=FeedConfig(kind="starter", directory=feed_dir),
        storage=storage_url,
    )
    clients = {
        shop_key(i): MiraklClient(
            mirakl_url, api_key(i), shop_id=shop_id(i), now=clock.now, sleep=clock.sleep
        )
        for i in range(n)
    }
    ip = InventoryPlannerClient(
        DEFAULT_IP_KEY, DEFAULT_ACCOUNT, base_url=ip_url, now=clock.now, sleep=clock.sleep
    )
    with Synchronizer(config, mirakl=clients, inventory_planner=ip, clock=clock.now) as sync:
        for _ in range(int(rounds)):
            report = sync.run_once()
            for failure in report.failures:
                print(f"{failure.shop} {failure.job}: {failure.error}", file=sys.stderr)
            clock.sleep(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
