"""A test world: both sandboxes on one simulated clock, clients wired to it, a synchronizer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from mirakl_sync._http import Secret
from mirakl_sync.alerts import Alert
from mirakl_sync.engine.config import FeedConfig, JobIntervals, ShopConfig, SyncConfig
from mirakl_sync.engine.synchronizer import Synchronizer
from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.sandbox import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY,
    DEFAULT_IP_KEY,
    DEFAULT_SHOP_ID,
    InventoryPlannerSandbox,
    MiraklSandbox,
    SandboxClock,
)

SHOP = "shop-a"
MIRAKL_URL = "https://mirakl.sandbox"
IP_URL = "https://ip.sandbox"


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


@attrs.define
class World:
    clock: SandboxClock
    mirakl: MiraklSandbox
    ip: InventoryPlannerSandbox
    sync: Synchronizer
    sink: ListSink
    feed_dir: Path

    def advance(self, **kwargs: float) -> None:
        self.clock.advance(**kwargs)

    def run(self, minutes: int = 0, **kwargs: Any) -> Any:
        report = self.sync.run_once(**kwargs)
        if minutes:
            self.clock.advance(minutes=minutes)
        return report

    def run_for(self, minutes: int, step: int = 5) -> None:
        for _ in range(0, minutes, step):
            self.sync.run_once()
            self.clock.advance(minutes=step)

    def mirakl_quantities(self) -> dict[str, int]:
        return {o.shop_sku: o.quantity for o in self.mirakl.state.shop_offers(DEFAULT_SHOP_ID)}


def make_world(
    tmp_path: Path,
    *,
    storage: str = "memory://",
    seed: int = 3,
    allow_refusal: bool = False,
    sales_order_on: str = "payment",
    safety_buffer: int = 0,
    payment_delay: timedelta | None = None,
    enforce_frequencies: bool = True,
    clock: SandboxClock | None = None,
    mirakl: MiraklSandbox | None = None,
    ip: InventoryPlannerSandbox | None = None,
    **sync_kwargs: Any,
) -> World:
    clock = clock or SandboxClock()
    mirakl_sb = mirakl or MiraklSandbox(
        clock=clock, seed=seed, payment_delay=payment_delay, enforce_frequencies=enforce_frequencies
    )
    ip_sb = ip or InventoryPlannerSandbox(clock=clock, seed=seed)
    if ip is None:
        ip_sb.add_warehouse("main")

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    config = SyncConfig(
        shops=(
            ShopConfig(
                key=SHOP,
                marketplace="sandbox",
                base_url=MIRAKL_URL,
                api_key=Secret(DEFAULT_API_KEY),
                shop_id=DEFAULT_SHOP_ID,
                acceptance_window=timedelta(days=3),
                allow_refusal=allow_refusal,
                sales_order_on=sales_order_on,  # type: ignore[arg-type]
                safety_buffer=safety_buffer,
            ),
        ),
        feeds=FeedConfig(kind="starter", directory=str(tmp_path / "feeds")),
        jobs=JobIntervals.from_mapping({"sales_feed": "5m", "reconcile": "5m"}),
        storage=storage,
    )
    client = MiraklClient(
        MIRAKL_URL,
        DEFAULT_API_KEY,
        shop_id=DEFAULT_SHOP_ID,
        transport=mirakl_sb.transport(),
        now=clock.now,
        sleep=sleep,
    )
    ip_client = InventoryPlannerClient(
        DEFAULT_IP_KEY,
        DEFAULT_ACCOUNT,
        base_url=IP_URL,
        transport=ip_sb.transport(),
        now=clock.now,
        sleep=sleep,
    )
    sink = ListSink()
    sync = Synchronizer(
        config,
        mirakl=client,
        inventory_planner=ip_client,
        clock=clock.now,
        alerts=[sink],
        **sync_kwargs,
    )
    return World(
        clock=clock,
        mirakl=mirakl_sb,
        ip=ip_sb,
        sync=sync,
        sink=sink,
        feed_dir=tmp_path / "feeds" / SHOP,
    )


def stock(
    world: World, sku: str, quantity: int, *, offer: bool = True, price: str = "10.00"
) -> None:
    """An item in the inventory (IP) and, by default, its offer on Mirakl (quantity 0)."""
    if world.ip.variant(sku) is None:
        world.ip.add_variant(sku, stock={"main": quantity}, price=price)
    else:
        world.ip.set_stock(sku, "main", quantity)
    if offer and world.mirakl.offer(sku) is None:
        world.mirakl.add_offer(sku, quantity=0, price=price)
