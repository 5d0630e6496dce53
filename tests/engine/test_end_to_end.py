"""The synchronizer end to end against the Mirakl and Inventory Planner sandboxes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from mirakl_sync.core.models import Order, OrderId, OrderLineId
from mirakl_sync.engine.jobs.acceptance import pending_orders
from mirakl_sync.engine.jobs.reconcile import build_snapshots
from mirakl_sync.engine.runtime import FeedStatus, LedgerState
from tests.engine.world import SHOP, World, make_world, stock


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def _sto01_calls(world: World) -> int:
    return len(world.mirakl.calls.for_operation("STO01"))


def test_every_acceptable_order_is_accepted_before_its_deadline(world: World) -> None:
    for i in range(6):
        stock(world, f"SKU-{i}", 20)
    old = world.mirakl.place_order([("SKU-0", 2)])
    world.advance(days=2, hours=22)  # the first order has two hours left
    fresh = [world.mirakl.place_order([(f"SKU-{i}", 1), ("SKU-5", 1)]) for i in range(1, 5)]
    world.run_for(minutes=30)
    for placed in [old, *fresh]:
        order = world.mirakl.order(placed.order_id)
        assert order.state not in ("WAITING_ACCEPTANCE", "REFUSED"), placed.order_id
        assert order.acceptance_decision_date is not None
        assert order.acceptance_decision_date <= placed.created_date + timedelta(days=3)
    accepts = world.mirakl.calls.for_operation("OR21")
    assert Counter(c.path for c in accepts).most_common(1)[0][1] == 1  # one OR21 per order


def test_orders_with_unmapped_lines_go_manual_and_alert(world: World) -> None:
    stock(world, "MUG", 10)
    world.mirakl.add_offer("GHOST-1", quantity=4, price="5.00")  # no inventory item
    placed = world.mirakl.place_order([("MUG", 1), ("GHOST-1", 1)])
    world.run_for(minutes=20)
    assert world.mirakl.order(placed.order_id).state == "WAITING_ACCEPTANCE"
    record = world.sync.storage.get_order(SHOP, placed.order_id)
    assert record is not None
    assert record.ledger_state == LedgerState.MANUAL
    kinds = {a.kind for a in world.sink.alerts}
    assert "UNMAPPED_SKU" in kinds
    # Close to the deadline the order is flagged as at risk (well before Mirakl refuses it).
    world.advance(days=2, hours=14)
    world.run_for(minutes=10)
    assert "ACCEPTANCE_AT_RISK" in {a.kind for a in world.sink.alerts}
    assert world.mirakl.order(placed.order_id).state == "WAITING_ACCEPTANCE"


def test_mirakl_quantities_equal_the_publishable_quantities(tmp_path: Path) -> None:
    world = make_world(tmp_path, safety_buffer=1)
    for i, quantity in enumerate([0, 1, 5, 30]):
        stock(world, f"SKU-{i}", quantity)
    world.mirakl.place_order([("SKU-3", 4)])
    world.run_for(minutes=15)
    # available - reserved (4 accepted units of SKU-3) - buffer 1, never below 0
    assert world.mirakl_quantities() == {"SKU-0": 0, "SKU-1": 0, "SKU-2": 4, "SKU-3": 25}


def test_a_stock_change_reaches_mirakl_within_one_push_interval(world: World) -> None:
    stock(world, "SKU-1", 10)
    stock(world, "SKU-2", 10)
    world.run_for(minutes=15)
    assert world.mirakl_quantities()["SKU-1"] == 10
    world.ip.set_stock("SKU-1", "main", 3)
    interval = world.sync.config.jobs.interval("push_stock")
    world.run_for(minutes=int(interval.total_seconds() // 60) + 5)
    assert world.mirakl_quantities() == {"SKU-1": 3, "SKU-2": 10}


def test_nothing_is_pushed_when_nothing_changed(world: World) -> None:
    for i in range(3):
        stock(world, f"SKU-{i}", 7)
    world.run_for(minutes=20)
    pushes = _sto01_calls(world)
    assert pushes == 1
    world.run_for(minutes=60)
    assert _sto01_calls(world) == pushes


def test_sales_reach_the_inventory_planner_feed_exactly_once(world: World) -> None:
    for i in range(4):
        stock(world, f"SKU-{i}", 10)
    placed = [world.mirakl.place_order([(f"SKU-{i}", 2)]) for i in range(4)]
    for _ in range(3):  # the feed is written several times, IP pulls it every time
        world.run_for(minutes=10)
        products = (world.feed_dir / "products.csv").read_text(encoding="utf-8")
        sales = (world.feed_dir / "sales_orders.csv").read_text(encoding="utf-8")
        report = world.ip.connectors.import_starter("mirakl", products, sales)
        assert report.accepted, report
    rows = Counter((s.order_id, s.sku) for s in world.ip.state.sales)
    assert rows == Counter({(o.order_id, f"SKU-{i}"): 1 for i, o in enumerate(placed)})
    assert sum(s.quantity for s in world.ip.state.sales) == 8


class RecordingSink:
    deducts_stock = False

    def __init__(self) -> None:
        self.created: list[tuple[str, str, str]] = []

    def create_sales_order(self, order: Order, *, key: str) -> str:
        self.created.append((order.order_id, order.state, key))
        return f"SO-{order.order_id}"

    def find_sales_order(self, order: Order, *, key: str) -> str | None:
        return None

    def cancel_sales_order(self, order: Order, *, key: str, reference: str) -> None:
        return None


def test_pending_orders_create_their_sales_order_only_on_shipping(tmp_path: Path) -> None:
    sink = RecordingSink()
    world = make_world(tmp_path, order_sink=sink)
    stock(world, "SKU-1", 10)
    placed = world.mirakl.place_order([("SKU-1", 3)])
    world.run_for(minutes=20)
    assert world.mirakl.order(placed.order_id).state in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT")
    assert sink.created == []
    # Meanwhile its units are held back from Mirakl.
    assert world.mirakl_quantities()["SKU-1"] == 7
    world.mirakl.confirm_payment(placed.order_id)
    world.run_for(minutes=20)
    assert [(oid, state) for oid, state, _ in sink.created] == [(placed.order_id, "SHIPPING")]
    record = world.sync.storage.get_order(SHOP, placed.order_id)
    assert record is not None
    assert record.sales_order_ref == f"SO-{placed.order_id}"


def test_a_cancelled_order_releases_its_reservation(world: World) -> None:
    stock(world, "SKU-1", 10)
    placed = world.mirakl.place_order([("SKU-1", 4)])
    world.run_for(minutes=20)
    assert world.mirakl_quantities()["SKU-1"] == 6
    world.mirakl.refuse_payment(placed.order_id)
    world.run_for(minutes=20)
    lines = world.sync.storage.get_lines(SHOP, placed.order_id)
    assert all(line.reserved_quantity == 0 for line in lines)
    assert world.mirakl_quantities()["SKU-1"] == 10


def test_a_line_cancelled_alone_releases_its_own_units(world: World) -> None:
    """A line Mirakl refuses or cancels while its order goes on gives its units back; the
    other line keeps its reservation."""
    stock(world, "SKU-1", 10)
    stock(world, "SKU-2", 10)
    placed = world.mirakl.place_order([("SKU-1", 2), ("SKU-2", 3)])
    world.run_for(minutes=20)
    storage = world.sync.storage
    lines = storage.get_lines(SHOP, placed.order_id)
    assert sorted(line.reserved_quantity for line in lines) == [2, 3]
    gone = next(line for line in lines if line.reserved_quantity == 2)
    with storage.transaction():
        storage.put_lines([attrs.evolve(gone, mirakl_state="CANCELED")])
    counts = pending_orders(world.sync.runtimes[SHOP])
    assert counts["units_released"] == 2
    after = {
        line.line_id: line.reserved_quantity for line in storage.get_lines(SHOP, placed.order_id)
    }
    assert after[gone.line_id] == 0
    assert sorted(after.values()) == [0, 3]
    # Nothing left to release on the next run.
    assert pending_orders(world.sync.runtimes[SHOP])["units_released"] == 0


def test_competing_orders_never_share_a_unit(tmp_path: Path) -> None:
    world = make_world(tmp_path, allow_refusal=True)
    stock(world, "LAST-ONE", 1)
    first = world.mirakl.place_order([("LAST-ONE", 1)])
    world.advance(minutes=1)
    second = world.mirakl.place_order([("LAST-ONE", 1)])
    world.run_for(minutes=20)
    states = {world.mirakl.order(o.order_id).state for o in (first, second)}
    accepted = [o for o in (first, second) if world.mirakl.order(o.order_id).state != "REFUSED"]
    assert len(accepted) == 1, states
    assert world.mirakl_quantities()["LAST-ONE"] == 0


def test_health_report(world: World) -> None:
    stock(world, "SKU-1", 10)
    world.mirakl.place_order([("SKU-1", 1)])
    world.run_for(minutes=30)
    health = world.sync.health()
    assert health.ok, health.to_text()
    assert health.backlog == 0
    assert health.parked == 0
    assert all(not flow.stale for flow in health.flows)
    assert "HealthReport" in repr(health)
    assert "<table" in health._repr_html_()
    assert {r["job"] for r in health.to_records()} >= {"pull_orders", "push_stock"}


def test_one_round_reads_the_stock_source_once(tmp_path: Path) -> None:
    from mirakl_sync.engine import StaticStockSource
    from mirakl_sync.engine.config import ShopConfig

    class Counting(StaticStockSource):
        reads = 0

        def stock_levels(self, shop: ShopConfig) -> Mapping[str, Mapping[str, int]]:
            Counting.reads += 1
            return super().stock_levels(shop)

    source = Counting({"": {"SKU-1": 5}})
    world = make_world(tmp_path, stock_source=source)
    world.mirakl.add_offer("SKU-1", quantity=0, price="1.00")
    world.mirakl.place_order([("SKU-1", 1)])
    world.run()  # every job is due: acceptance, push, full check, feed, reconcile all need stock
    assert Counting.reads == 1
    source.set("SKU-1", 2)
    world.advance(minutes=5)
    world.run()  # a new round reads the source again
    assert Counting.reads == 2
    world.sync.run_job(SHOP, "sales_feed")  # a job on its own reads fresh stock
    assert Counting.reads == 3


def test_snapshots_give_every_order_its_own_ledger_lines(world: World) -> None:
    """build_snapshots reads every line of the shop at once; each order's ledger view and the
    forecast's line ids are those of its own lines, as read order by order."""
    for i in range(3):
        stock(world, f"SKU-{i}", 20)
    for placed in ([("SKU-0", 1), ("SKU-1", 2)], [("SKU-2", 3)], [("SKU-1", 1), ("SKU-2", 1)]):
        world.mirakl.place_order(placed)
    world.run_for(minutes=30)
    runtime = world.sync.runtimes[SHOP]
    snapshots = build_snapshots(runtime)
    storage = runtime.storage
    records = storage.list_orders(SHOP)
    assert len(records) == 3
    outbox = runtime.outbox_index()
    assert snapshots.ledger is not None
    published: set[OrderLineId] = set()
    for record in records:
        lines = storage.get_lines(SHOP, record.order_id)
        assert lines  # every order has lines to compare
        expected = runtime.ledger_view(record, lines, outbox.get(record.order_id, ()))
        assert snapshots.ledger[OrderId(record.order_id)] == expected
        published |= {
            OrderLineId(line.line_id) for line in lines if line.feed_status == FeedStatus.PUBLISHED
        }
    assert published  # the feed has run: some lines are in the forecast
    assert snapshots.forecast_line_ids == frozenset(published)


def test_open_ledger_states_are_every_state_but_closed() -> None:
    """The lifecycle job reads only LedgerState.OPEN orders: a new state must be listed there."""
    states = {
        value
        for name, value in vars(LedgerState).items()
        if name.isupper() and isinstance(value, str)
    }
    assert states - {LedgerState.CLOSED} == LedgerState.OPEN
