"""``mirakl-sync demo``: the whole loop against the sandboxes, on the embedded SQLite default.

It starts the Mirakl and Inventory Planner simulators in-process on one simulated clock, seeds a
catalogue and an order flow (including an offer nobody mapped, an order close to its acceptance
deadline, a stock change and a cancellation), runs the synchronizer for a few simulated hours
and prints what happened, the health report and the open discrepancies.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from mirakl_sync._http import Secret
from mirakl_sync.alerts import Alert
from mirakl_sync.engine.config import FeedConfig, ShopConfig, SyncConfig
from mirakl_sync.engine.reports import HealthReport, RunReport
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
    seed_catalogue,
)
from mirakl_sync.storage.records import DiscrepancyStatus

__all__ = ["run_demo"]

MIRAKL_URL = "https://mirakl.sandbox"
IP_URL = "https://inventory-planner.sandbox"
SHOP = "sandbox-shop"


class _CollectingSink:
    """Keeps the alerts of the demo to print them at the end."""

    name = "demo"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


_HIGHLIGHTS = (
    "new",
    "updated",
    "accept",
    "refuse_lines",
    "lines_planned",
    "lines_confirmed",
    "lines_in_error",
    "sales_order_confirmed",
    "units_released",
    "lines_newly_published",
    "opened",
    "resolved",
)


def _progress(out: TextIO, clock: SandboxClock, report: RunReport) -> None:
    ran = [r for r in report.results if r.outcome != "skipped"]
    if not ran:
        return
    highlights: Counter[str] = Counter()
    for result in ran:
        for key in _HIGHLIGHTS:
            highlights[f"{result.job}.{key}"] += result.counts.get(key, 0)
    failed = [f"{r.job}: {r.error}" for r in ran if r.outcome == "failed"]
    text = ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in highlights.items() if v)
    if not text and not failed:
        return
    stamp = clock.now().strftime("%a %H:%M")
    out.write(f"  {stamp}  {len(ran)} job(s)  {text}\n")
    for failure in failed:
        out.write(f"           FAILED {failure}\n")


def run_demo(
    *,
    hours: float = 6.0,
    directory: Path | None = None,
    out: TextIO | None = None,
    seed: int = 7,
    skus: int = 40,
) -> HealthReport:
    """Run the demo and return the final health report (``out`` defaults to stdout)."""
    write = out or sys.stdout
    workdir = (
        Path(directory)
        if directory is not None
        else Path(tempfile.mkdtemp(prefix="mirakl-sync-demo-"))
    )
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "sync.db"
    clock = SandboxClock()
    mirakl_sb = MiraklSandbox(clock=clock, seed=seed, payment_delay=timedelta(minutes=45))
    ip_sb = InventoryPlannerSandbox(clock=clock, seed=seed)

    write.write("mirakl_sync demo: Mirakl and Inventory Planner sandboxes, simulated clock\n")
    catalogue = seed_catalogue(skus, mirakl=mirakl_sb, ip=ip_sb, warehouse="main", max_quantity=30)
    mirakl_sb.add_offer("GIFTBOX-RED", quantity=5, price="24.90")  # no item in the inventory
    for sku in catalogue[:3]:
        ip_sb.set_stock(sku, "main", 12)

    # An order placed almost three days ago: its acceptance deadline is close.
    early = mirakl_sb.place_order([(catalogue[0], 1)])
    clock.advance(days=2, hours=20)
    orders = [mirakl_sb.place_order([(catalogue[i % 10 + 1], 1 + i % 2)]) for i in range(8)]
    unmapped = mirakl_sb.place_order([("GIFTBOX-RED", 1), (catalogue[2], 1)])
    write.write(
        f"  seeded {len(catalogue) + 1} offers and {len(orders) + 2} orders "
        f"(order {early.order_id} is 68h old; {unmapped.order_id} has an unmapped offer)\n"
    )
    write.write(f"  storage: sqlite:///{db}\n\n")

    config = SyncConfig(
        shops=(
            ShopConfig(
                key=SHOP,
                marketplace="sandbox",
                base_url=MIRAKL_URL,
                api_key=Secret(DEFAULT_API_KEY),
                shop_id=DEFAULT_SHOP_ID,
                acceptance_window=timedelta(days=3),
                safety_buffer=1,
            ),
        ),
        feeds=FeedConfig(kind="starter", directory=str(workdir / "feeds")),
        storage=f"sqlite:///{db}",
    )

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    mirakl = MiraklClient(
        MIRAKL_URL, DEFAULT_API_KEY, transport=mirakl_sb.transport(), now=clock.now, sleep=sleep
    )
    ip = InventoryPlannerClient(
        DEFAULT_IP_KEY,
        DEFAULT_ACCOUNT,
        base_url=IP_URL,
        transport=ip_sb.transport(),
        now=clock.now,
        sleep=sleep,
    )
    sink = _CollectingSink()
    sync = Synchronizer(config, mirakl=mirakl, inventory_planner=ip, clock=clock.now, alerts=[sink])
    steps = int(hours * 12)
    cancelled = False
    try:
        for step in range(steps):
            minute = step * 5
            if minute == 30:
                ip_sb.set_stock(catalogue[5], "main", 2)
                write.write(f"  -- the warehouse counts {catalogue[5]}: 2 left\n")
            if minute == 20 and not cancelled:
                target = orders[1].order_id
                state = str(mirakl_sb.order(target).state)
                if state in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"):
                    mirakl_sb.refuse_payment(target)
                    cancelled = True
                    write.write(f"  -- the customer's payment for {target} fails: cancelled\n")
            _progress(write, clock, sync.run_once())
            clock.advance(minutes=5)
        health = sync.health()
        write.write("\n" + health.to_text() + "\n\n")
        open_items = sync.storage.list_discrepancies(shop=SHOP, status=DiscrepancyStatus.OPEN)
        write.write(f"Open discrepancies ({len(open_items)}):\n")
        for record in open_items[:15]:
            message = record.details.get("message", "") if isinstance(record.details, dict) else ""
            write.write(f"  {record.severity:<8} {record.kind:<22} {message}\n")
        if len(open_items) > 15:
            write.write(f"  ... and {len(open_items) - 15} more\n")
        accepted = sum(
            1
            for o in [early, *orders, unmapped]
            if mirakl_sb.order(o.order_id).state != "WAITING_ACCEPTANCE"
        )
        write.write(
            f"\nOrders decided on Mirakl: {accepted}/{len(orders) + 2}; alerts sent: "
            f"{len(sink.alerts)}; feed files in {workdir / 'feeds' / SHOP}\n"
        )
        return health
    finally:
        sync.close()
        mirakl.close()
        ip.close()
