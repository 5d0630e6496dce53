"""The synchronizer process of the chaos soak: several shops, a SQLite file, the sandboxes over
loopback, the host's warehouse played in between rounds (ship paid orders, return some).

Usage: ``python -m tests.reliability.soak_worker MIRAKL_URL IP_URL DB FEEDS ROUNDS STEP SHOPS``.
A crash point may be set with ``MIRAKL_SYNC_CRASH_AT`` (SIGKILL there).
"""

from __future__ import annotations

import sys
import zlib
from datetime import timedelta
from decimal import Decimal

import httpx

from mirakl_sync._http import Secret
from mirakl_sync.engine.config import FeedConfig, ShopConfig, SyncConfig
from mirakl_sync.engine.synchronizer import Synchronizer
from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.sandbox import DEFAULT_ACCOUNT, DEFAULT_IP_KEY
from tests.engine.multi_worker import SharedClock


def soak_shop(i: int) -> tuple[str, int, str]:
    """(shop key, Mirakl shop id, API key) of soak shop ``i``."""
    return f"soak-{i}", 4000 + i, f"soak-key-{i}"


def play_host(sync: Synchronizer) -> None:
    """Ship every paid order with tracking; return the first line of one in four shipped ones."""
    for shop in sync.runtimes:
        for record in sync.storage.list_orders(shop):
            if record.mirakl_state == "SHIPPING":
                sync.record_shipment(
                    record.order_id,
                    carrier_code="UPS",
                    tracking_number=f"T-{record.order_id}",
                    event_id=f"ship-{record.order_id}",
                    shop=shop,
                )
            elif record.mirakl_state == "SHIPPED" and zlib.crc32(record.order_id.encode()) % 4 == 0:
                shipped = [
                    line
                    for line in sync.storage.get_lines(shop, record.order_id)
                    if line.mirakl_state in ("SHIPPED", "RECEIVED")
                ]
                if not shipped:  # every line refused or cancelled: nothing to return
                    continue
                line = shipped[0]
                sync.record_return(
                    record.order_id,
                    {line.line_id: Decimal(line.price or 0)},
                    "16",
                    return_id=f"R-{record.order_id}",
                    shop=shop,
                )


def main(argv: list[str]) -> int:
    mirakl_url, ip_url, db, feeds, rounds, step, shops = argv
    control = httpx.Client(base_url=mirakl_url)
    clock = SharedClock(control)
    keys = [soak_shop(i) for i in range(int(shops))]
    config = SyncConfig(
        shops=tuple(
            ShopConfig(
                key=key,
                marketplace="sandbox",
                base_url=mirakl_url,
                api_key=Secret(api_key),
                shop_id=shop_id,
                acceptance_window=timedelta(days=3),
                allow_refusal=True,
            )
            for key, shop_id, api_key in keys
        ),
        feeds=FeedConfig(kind="starter", directory=feeds),
        storage=f"sqlite:///{db}",
    )
    clients = {
        key: MiraklClient(mirakl_url, api_key, shop_id=shop_id, now=clock.now, sleep=clock.sleep)
        for key, shop_id, api_key in keys
    }
    ip = InventoryPlannerClient(
        DEFAULT_IP_KEY, DEFAULT_ACCOUNT, base_url=ip_url, now=clock.now, sleep=clock.sleep
    )
    with Synchronizer(config, mirakl=clients, inventory_planner=ip, clock=clock.now) as sync:
        for _ in range(int(rounds)):
            sync.run_once()
            play_host(sync)
            clock.sleep(float(step))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
