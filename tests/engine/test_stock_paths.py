"""Stock edge paths (OF01 fallback, re-push after refusal, import errors) and OR13 backfill."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from mirakl_sync.engine.jobs.reconcile import build_snapshots
from mirakl_sync.engine.jobs.stock import (
    CATALOGUE_FLOW,
    OFFERS_FLOW,
    STO01,
    offer_catalogue,
    stored_catalogue,
)
from mirakl_sync.engine.runtime import LedgerState
from mirakl_sync.sandbox import InventoryPlannerSandbox, MiraklSandbox, SandboxClock
from mirakl_sync.storage.records import OutboxStatus
from tests.engine.world import SHOP, make_world, stock


def test_operators_without_the_stock_api_get_of01(tmp_path: Path) -> None:
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=2, stock_api=False)
    world = make_world(tmp_path, clock=clock, mirakl=mirakl)
    stock(world, "SKU-1", 8)
    stock(world, "SKU-2", 3)
    world.run_for(minutes=20)
    assert world.mirakl_quantities() == {"SKU-1": 8, "SKU-2": 3}
    operations = world.mirakl.calls.operations()
    assert "OF01" in operations
    assert [c.status for c in world.mirakl.calls.for_operation("STO01")] == [404]
    # The fallback is remembered: later pushes go straight to OF01.
    world.ip.set_stock("SKU-1", "main", 2)
    world.run_for(minutes=15)
    assert world.mirakl_quantities()["SKU-1"] == 2
    assert len(world.mirakl.calls.for_operation("STO01")) == 1


def test_stock_is_pushed_again_after_a_refusal(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 5)
    world.run_for(minutes=15)
    assert world.mirakl_quantities()["SKU-1"] == 5
    placed = world.mirakl.place_order([("SKU-1", 1)], state="STAGING")
    # The operator refuses it (and, as some operators do, zeroes the offer's stock).
    world.mirakl.validate_order(placed.order_id)
    world.advance(days=4)  # nobody accepted in time: auto-refused at the deadline
    offer = world.mirakl.offer("SKU-1")
    assert offer is not None
    offer.quantity = 0
    world.run_for(minutes=20)
    assert world.mirakl.order(placed.order_id).state == "REFUSED"
    assert world.mirakl_quantities()["SKU-1"] == 5


def test_import_errors_become_discrepancies(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 5)
    stock(world, "SKU-2", 5)
    # The catalogue is read, the push is planned and sent (not yet processed).
    world.run(jobs=["pull_orders", "push_stock"])
    assert len(world.mirakl.calls.for_operation("STO01")) == 1
    # The offer disappears on Mirakl while the import waits: its line fails.
    offer = world.mirakl.offer("SKU-2")
    assert offer is not None
    world.mirakl.state.offers.pop(offer.offer_id, None)
    world.run_for(minutes=20)
    kinds = {a.kind for a in world.sink.alerts}
    assert kinds & {"STOCK_IMPORT_ERROR", "MISSING_OFFER"}, kinds


def test_backfill_loads_old_orders_through_the_async_export(tmp_path: Path) -> None:
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=4)
    ip = InventoryPlannerSandbox(clock=clock, seed=4)
    ip.add_warehouse("main")
    mirakl.add_offer("OLD-1", quantity=5, price="3.00")
    old = [mirakl.place_order([("OLD-1", 1)]) for _ in range(3)]
    clock.advance(days=40)  # far beyond the first pull's look-back
    world = make_world(tmp_path, clock=clock, mirakl=mirakl, ip=ip)
    world.run(jobs=["pull_orders"])
    assert world.sync.storage.list_orders(SHOP) == []

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    counts = world.sync.backfill(SHOP, since=clock.now() - timedelta(days=60), sleep=sleep)
    assert counts["new"] == 3
    records = {r.order_id: r for r in world.sync.storage.list_orders(SHOP)}
    assert set(records) == {o.order_id for o in old}
    assert {r.mirakl_state for r in records.values()} == {"REFUSED"}  # auto-refused long ago
    assert all(r.ledger_state == LedgerState.NEW for r in records.values())
    assert world.mirakl.calls.operations().count("OR13") == 1


def test_the_nightly_full_check_finds_drift(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 5)
    stock(world, "SKU-2", 5)
    world.run_for(minutes=15)
    offer = world.mirakl.offer("SKU-1")
    assert offer is not None
    offer.quantity = 40  # someone edited the offer in the back office
    world.run(jobs=["stock_full"], force=True)
    kinds = {a.kind for a in world.sink.alerts}
    assert kinds & {"STOCK_DRIFT", "OVERSELL_RISK"}, kinds
    # A regular reconciliation (no Mirakl quantities) does not resolve it...
    world.run(jobs=["reconcile"], force=True)
    open_kinds = {
        r.kind for r in world.sync.storage.list_discrepancies(shop=SHOP) if r.status == "OPEN"
    }
    assert open_kinds & {"STOCK_DRIFT", "OVERSELL_RISK"}


def test_the_catalogue_is_stored_again_only_when_the_offers_change(tmp_path: Path) -> None:
    """Each cycle's differential export mostly lists offers whose stock was just pushed: the
    cursor moves on, the stored catalogue stays as it is until an offer comes or goes."""
    world = make_world(tmp_path)
    for sku in ("SKU-1", "SKU-2"):
        stock(world, sku, 5)
    world.run_for(minutes=20)
    runtime = world.sync.runtimes[SHOP]
    storage = runtime.storage

    def stored() -> tuple[list[str], datetime, datetime]:
        catalogue = storage.get_checkpoint(SHOP, CATALOGUE_FLOW)
        cursor = storage.get_checkpoint(SHOP, OFFERS_FLOW)
        assert catalogue is not None
        assert cursor is not None
        assert isinstance(cursor.cursor, dict)
        assert "skus" not in cursor.cursor
        return stored_catalogue(runtime), catalogue.updated_at, cursor.updated_at

    skus, written, moved = stored()
    assert skus == ["SKU-1", "SKU-2"]
    stock(world, "SKU-1", 9)  # pushed: the next differential export lists SKU-1
    world.run_for(minutes=20)
    assert world.mirakl_quantities()["SKU-1"] != world.mirakl_quantities()["SKU-2"]
    skus, written_after, moved_after = stored()
    assert skus == ["SKU-1", "SKU-2"]
    assert written_after == written  # not rewritten
    assert moved_after > moved  # the export cursor moved on
    stock(world, "SKU-0", 3)  # a new offer on Mirakl
    world.run_for(minutes=10)
    skus, written_new, _ = stored()
    assert skus == ["SKU-0", "SKU-1", "SKU-2"]
    assert written_new > written
    gone = world.mirakl.offer("SKU-2")
    assert gone is not None
    gone.deleted, gone.active, gone.last_updated = True, False, world.clock.now()
    world.run_for(minutes=10)
    assert stored()[0] == ["SKU-0", "SKU-1"]


def test_a_catalogue_stored_in_the_export_cursor_is_moved_out(tmp_path: Path) -> None:
    """Before 0.1.0 the catalogue lived in the export cursor: it is read from there, and the
    next cycle moves it to its own checkpoint."""
    world = make_world(tmp_path)
    stock(world, "SKU-1", 5)
    runtime = world.sync.runtimes[SHOP]
    now = world.clock.now()
    runtime.storage.set_checkpoint(
        SHOP,
        OFFERS_FLOW,
        {"skus": ["SKU-1"], "full_at": now.isoformat(), "exported_at": now.isoformat()},
        now=now,
    )
    assert stored_catalogue(runtime) == ["SKU-1"]
    world.advance(minutes=5)
    assert offer_catalogue(runtime) == ["SKU-1"]
    cursor = runtime.storage.get_checkpoint(SHOP, OFFERS_FLOW)
    assert cursor is not None
    assert isinstance(cursor.cursor, dict)
    assert "skus" not in cursor.cursor
    moved = runtime.storage.get_checkpoint(SHOP, CATALOGUE_FLOW)
    assert moved is not None
    assert moved.cursor == {"skus": ["SKU-1"]}


def test_a_confirmed_stock_push_keeps_no_lines_in_the_outbox(tmp_path: Path) -> None:
    """A sent STO01 item keeps the count and hash of its lines, not the lines: the pending
    import has them until its report is read, so the outbox does not grow by a catalogue of
    JSON per push; the published stock is confirmed from the import as before."""
    world = make_world(tmp_path)
    for i in range(3):
        stock(world, f"SKU-{i}", 5 + i)
    world.run(jobs=["pull_orders", "push_stock"])
    runtime = world.sync.runtimes[SHOP]
    (item,) = runtime.storage.list_items(shop=SHOP, kinds=[STO01])
    assert item.status is OutboxStatus.CONFIRMED
    assert isinstance(item.payload, dict)
    assert set(item.payload) == {"count", "hash"}
    (pending,) = runtime.storage.list_pending_imports(SHOP)
    assert isinstance(pending.lines, dict)
    assert item.payload["count"] == len(pending.lines["lines"]) >= 3
    assert item.payload["hash"] == pending.lines["hash"]
    world.run_for(minutes=20)
    published = {r.offer_sku: r.quantity for r in runtime.storage.list_published(SHOP)}
    on_mirakl = {}
    for i in range(3):
        offer = world.mirakl.offer(f"SKU-{i}")
        assert offer is not None
        on_mirakl[f"SKU-{i}"] = offer.quantity
    assert {sku: published.get(sku) for sku in on_mirakl} == on_mirakl
    assert len(set(on_mirakl.values())) == 3  # three distinct pushed quantities


def test_a_finished_import_keeps_its_errors_not_its_lines(tmp_path: Path) -> None:
    """Once its report is read, a stock import keeps the count and hash of its lines and the
    failed rows (for STOCK_IMPORT_ERROR), not the lines: reconciliation reads it every run."""
    world = make_world(tmp_path)
    stock(world, "SKU-1", 5)
    stock(world, "SKU-2", 5)
    world.run(jobs=["pull_orders", "push_stock"])
    offer = world.mirakl.offer("SKU-2")
    assert offer is not None
    world.mirakl.state.offers.pop(offer.offer_id, None)
    world.run_for(minutes=20)
    runtime = world.sync.runtimes[SHOP]
    (kept,) = runtime.storage.list_pending_imports(SHOP)
    assert kept.status == "COMPLETE"
    assert isinstance(kept.lines, dict)
    assert set(kept.lines) == {"count", "hash"}
    assert isinstance(kept.lines["count"], int)
    assert kept.lines["count"] >= 1
    assert kept.error is not None
    assert [row["offer_sku"] for row in json.loads(kept.error)] == ["SKU-2"]
    imports = build_snapshots(runtime).stock_imports
    assert [e.offer_sku for i in imports for e in i.errors] == ["SKU-2"]
