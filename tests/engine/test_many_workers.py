"""Three worker processes serve ten shops from one Postgres database: every side effect once."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mirakl_sync.sandbox import InventoryPlannerSandbox, MiraklSandbox, SandboxClock
from mirakl_sync.storage import open_storage
from mirakl_sync.storage.records import OutboxStatus
from tests.engine.multi_worker import api_key, shop_id, shop_key
from tests.storage.conftest import drop_schema, postgres_dsn

ROOT = Path(__file__).resolve().parents[2]
SHOPS = 10
WORKERS = 3
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_three_workers_serve_ten_shops_without_duplicates(tmp_path: Path) -> None:
    dsn = postgres_dsn()
    schema = f"mirakl_sync_mw_{secrets.token_hex(5)}"
    storage_url = f"{dsn}?schema={schema}"
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=21, default_shop=False)
    ip = InventoryPlannerSandbox(clock=clock, seed=21)
    ip.add_warehouse("main")
    for sku in ("A", "B", "C"):
        ip.add_variant(f"SKU-{sku}", stock={"main": 40}, price="5.00")
    for i in range(SHOPS):
        mirakl.add_shop(shop_id(i), name=shop_key(i), api_key=api_key(i))
        for sku in ("A", "B", "C"):
            mirakl.add_offer(f"SKU-{sku}", shop_id=shop_id(i), quantity=0, price="5.00")
        for k in range(3):
            mirakl.place_order([(f"SKU-{'ABC'[k]}", 1 + i % 2)], shop_id=shop_id(i))
    try:
        with mirakl.serve() as m, ip.serve() as i_server:
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tests.engine.multi_worker",
                        m.url,
                        i_server.url,
                        storage_url,
                        str(tmp_path / "feeds"),
                        "12",
                        str(SHOPS),
                    ],
                    cwd=ROOT,
                    env=dict(os.environ),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(WORKERS)
            ]
            for worker in workers:
                _, err = worker.communicate(timeout=300)
                assert worker.returncode == 0, err[-3000:]
        # Every order of every shop accepted exactly once.
        applied = Counter(c.path for c in mirakl.calls.for_operation("OR21") if c.applied)
        assert len(mirakl.state.orders) == SHOPS * 3
        for order in mirakl.state.orders.values():
            assert order.state != "WAITING_ACCEPTANCE", order.order_id
            assert applied[f"/api/orders/{order.order_id}/accept"] == 1
        # Every shop's stock pushed once per planned push, none twice; quantities right.
        storage = open_storage(storage_url)
        try:
            items = storage.list_items()
            assert {item.status for item in items} == {OutboxStatus.CONFIRMED}
            planned = Counter(item.shop for item in items if item.kind == "STO01")
            pushed = Counter(
                dict(c.query).get("shop_id")
                for c in mirakl.calls.for_operation("STO01")
                if c.applied
            )
            assert sorted(pushed.values()) == sorted(planned.values())
            assert len(planned) == SHOPS
            runs = [r for i in range(SHOPS) for r in storage.list_runs(shop_key(i), limit=500)]
            assert {r.outcome for r in runs} <= {"success"}
        finally:
            storage.close()
        for i in range(SHOPS):
            quantities = {o.shop_sku: o.quantity for o in mirakl.state.shop_offers(shop_id(i))}
            assert quantities == {f"SKU-{s}": 40 - (1 + i % 2) for s in "ABC"}, i
    finally:
        drop_schema(dsn, schema)
