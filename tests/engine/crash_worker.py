"""A synchronizer process for crash tests: it talks to sandboxes served on loopback by the test
process, keeps its state in a SQLite file, and is SIGKILLed at the crash point named by
``MIRAKL_SYNC_CRASH_AT`` (see :mod:`mirakl_sync.engine.failpoints`).

Usage: ``python -m tests.engine.crash_worker MIRAKL_URL IP_URL DB FEED_DIR ROUNDS [dispatch]``.
With ``dispatch``, the worker also plays the host's warehouse: every paid order is shipped with a
tracking number and every shipped order gets a return of its first line.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from decimal import Decimal
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


def play_host(sync: Synchronizer) -> None:
    """Ship paid orders (OR23 + OR24) and return the first line of shipped ones (OR28)."""
    for record in sync.storage.list_orders(SHOP):
        if record.mirakl_state == "SHIPPING":
            sync.record_shipment(
                record.order_id,
                carrier_code="UPS",
                tracking_number=f"T-{record.order_id}",
                event_id=f"ship-{record.order_id}",
            )
        elif record.mirakl_state == "SHIPPED":
            line = sync.storage.get_lines(SHOP, record.order_id)[0]
            sync.record_return(
                record.order_id,
                {line.line_id: Decimal(line.price or 0)},
                "16",
                return_id=f"R-{record.order_id}",
            )


def main(argv: list[str]) -> int:
    mirakl_url, ip_url, db, feed_dir, rounds = argv[:5]
    host = argv[5:] == ["dispatch"]
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
            if host:
                play_host(sync)
            clock.sleep(61)  # imports complete, payments confirmed, budgets free up
    Path(db).with_suffix(".done").write_text("ok", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
