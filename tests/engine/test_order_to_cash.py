"""Dispatch, refunds, cancellations and finance end to end on the sandboxes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from mirakl_sync.engine.jobs.dispatch import HostFulfilment, ReturnLine
from mirakl_sync.engine.jobs.finance import export_statement
from mirakl_sync.storage.records import OutboxItem
from tests.engine.world import SHOP, World, make_world, stock


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, payment_delay=timedelta(minutes=10))


def _paid_order(world: World, lines: list[tuple[str, int]]) -> str:
    placed = world.mirakl.place_order(lines)
    world.run_for(minutes=30)  # pulled, accepted, paid (payment_delay), pulled again
    assert world.mirakl.order(placed.order_id).state == "SHIPPING"
    return placed.order_id


def _history(world: World, order_id: str) -> list[str]:
    return [
        c.operation or ""
        for c in world.mirakl.calls
        if c.operation in ("OR23", "OR24") and order_id in c.path and c.status == 204
    ]


def test_shipment_sends_tracking_then_ship(world: World) -> None:
    stock(world, "SKU-1", 10)
    order_id = _paid_order(world, [("SKU-1", 2)])
    outcome = world.sync.record_shipment(order_id, carrier_code="UPS", tracking_number="1Z999")
    assert set(outcome.values()) == {"confirmed"}
    order = world.mirakl.order(order_id)
    assert order.state == "SHIPPED"
    assert order.tracking_number == "1Z999"
    assert _history(world, order_id) == ["OR23", "OR24"]
    # The same fulfilment reported again plans nothing new.
    world.sync.record_shipment(order_id, carrier_code="UPS", tracking_number="1Z999")
    assert _history(world, order_id) == ["OR23", "OR24"]


def test_tracking_precedes_ship_even_when_tracking_fails_first(world: World) -> None:
    stock(world, "SKU-1", 10)
    order_id = _paid_order(world, [("SKU-1", 1)])
    world.mirakl.faults.add("server_error", "OR23", times=2, status=503)
    outcome = world.sync.record_shipment(order_id, carrier_name="Local", tracking_number="L-1")
    assert outcome[f"OR24:{order_id}"] in ("waiting", None)
    assert world.mirakl.order(order_id).state == "SHIPPING"
    world.run_for(minutes=60)
    assert world.mirakl.order(order_id).state == "SHIPPED"
    assert _history(world, order_id) == ["OR23", "OR24"]


def test_a_fulfilment_source_is_polled(tmp_path: Path) -> None:
    class Warehouse:
        def __init__(self) -> None:
            self.parcels: list[HostFulfilment] = []

        def fulfilments(self, shop: str, since: object) -> list[HostFulfilment]:
            return list(self.parcels)

    warehouse = Warehouse()
    world = make_world(tmp_path, payment_delay=timedelta(minutes=10), fulfilment_source=warehouse)
    stock(world, "SKU-1", 10)
    order_id = _paid_order(world, [("SKU-1", 1)])
    warehouse.parcels.append(
        HostFulfilment(event_id="P-1", order_id=order_id, carrier_code="DHL", tracking_number="D1")
    )
    world.run_for(minutes=15)
    assert world.mirakl.order(order_id).state == "SHIPPED"
    assert _history(world, order_id) == ["OR23", "OR24"]


def test_shipped_without_tracking_raises_tracking_missing(world: World) -> None:
    stock(world, "SKU-1", 10)
    order_id = _paid_order(world, [("SKU-1", 1)])
    world.sync.record_shipment(order_id)
    assert world.mirakl.order(order_id).state == "SHIPPED"
    world.run_for(minutes=90)
    assert "TRACKING_MISSING" in {a.kind for a in world.sink.alerts}


def _shipped(world: World, lines: list[tuple[str, int]]) -> str:
    order_id = _paid_order(world, lines)
    world.sync.record_shipment(order_id, carrier_code="UPS", tracking_number=f"T-{order_id}")
    world.run_for(minutes=10)
    return order_id


def _refunds(world: World, order_id: str) -> list[Decimal]:
    order = world.mirakl.order(order_id)
    return [r.amount for line in order.lines for r in line.refunds]


def test_full_and_partial_refunds_and_repeated_events(world: World) -> None:
    stock(world, "SKU-1", 10, price="20.00")
    stock(world, "SKU-2", 10, price="15.00")
    order_id = _shipped(world, [("SKU-1", 2), ("SKU-2", 1)])
    order = world.mirakl.order(order_id)
    first, second = order.lines[0], order.lines[1]
    # Partial refund of line 1 (one of two units).
    outcome = world.sync.record_return(
        order_id,
        [ReturnLine(order_line_id=first.order_line_id, amount=Decimal("20.00"), quantity=1)],
        "16",
        return_id="R-1",
    )
    assert outcome == "confirmed"
    # Full refund of line 2, reported twice by the host: one refund.
    for _ in range(2):
        world.sync.record_return(
            order_id, {second.order_line_id: Decimal("15.00")}, "16", return_id="R-2"
        )
    world.run_for(minutes=30)
    assert sorted(_refunds(world, order_id)) == [Decimal("15.00"), Decimal("20.00")]
    refunds = [c for c in world.mirakl.calls.for_operation("OR28") if c.applied]
    assert len(refunds) == 2
    assert "REFUND_NOT_PROPAGATED" not in {a.kind for a in world.sink.alerts}


def test_a_lost_refund_response_is_not_refunded_twice(world: World) -> None:
    stock(world, "SKU-1", 10, price="30.00")
    order_id = _shipped(world, [("SKU-1", 1)])
    line = world.mirakl.order(order_id).lines[0]
    world.mirakl.faults.add("response_lost", "OR28", times=1)
    outcome = world.sync.record_return(
        order_id, {line.order_line_id: Decimal("30.00")}, "16", return_id="R-9"
    )
    assert outcome == "confirmed"  # verified by re-reading the order
    world.run_for(minutes=30)
    assert _refunds(world, order_id) == [Decimal("30.00")]
    assert len([c for c in world.mirakl.calls.for_operation("OR28") if c.applied]) == 1


def test_cancellations(world: World) -> None:
    stock(world, "SKU-1", 10)
    stock(world, "SKU-2", 10)
    whole = _paid_order(world, [("SKU-1", 1)])
    assert world.sync.record_cancellation(whole) == "confirmed"
    assert world.mirakl.order(whole).state == "CANCELED"
    partial = _paid_order(world, [("SKU-1", 1), ("SKU-2", 1)])
    line = world.mirakl.order(partial).lines[1]
    outcome = world.sync.record_cancellation(partial, [line.order_line_id], reason_code="35")
    assert outcome == "confirmed"
    states = {ln.order_line_id: ln.state for ln in world.mirakl.order(partial).lines}
    assert states[line.order_line_id] == "CANCELED"
    assert len(world.mirakl.calls.for_operation("OR30")) == 1


def test_finance_statement_balances_to_the_cent(world: World) -> None:
    for i in range(5):
        stock(world, f"SKU-{i}", 100, price=f"{9 + i}.99")
    orders = []
    for day in range(30):  # a month of orders
        lines = [(f"SKU-{day % 5}", 1 + day % 3), (f"SKU-{(day + 2) % 5}", 1)]
        orders.append(world.mirakl.place_order(lines))
        world.run_for(minutes=30)
        world.advance(hours=23)
    world.run_for(minutes=30)
    # Some returns, refunded on Mirakl.
    for placed in orders[:4]:
        order_id = placed.order_id
        world.sync.record_shipment(order_id, carrier_code="UPS", tracking_number=f"T{order_id}")
        line = world.mirakl.order(order_id).lines[0]
        world.sync.record_return(
            order_id,
            {line.order_line_id: Decimal(line.price) / (line.quantity or 1)},
            "16",
            return_id=f"R-{order_id}",
        )
    world.run_for(minutes=120)
    report = world.sync.finance_statement(SHOP)
    assert len(report.orders) == 30
    assert report.discrepancies == ()
    for result in report.orders:
        assert result.difference == Decimal("0.00"), result
    kinds = Counter(a.kind for a in world.sink.alerts)
    assert kinds["COMMISSION_MISMATCH"] == 0
    assert report.to_records()
    orders_csv, periods_csv = export_statement(report, world.feed_dir.parent / "finance")
    rows = orders_csv.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 31  # header + 30 orders
    assert rows[0].startswith("order_id,currency,created_at,value,commission")
    assert periods_csv.read_text(encoding="utf-8").count("\n") >= 2


def test_partial_shipments_use_st01_when_the_operator_enables_it(world: World) -> None:
    stock(world, "SKU-1", 10)
    stock(world, "SKU-2", 10)
    order_id = _paid_order(world, [("SKU-1", 1), ("SKU-2", 2)])
    first, second = (line.order_line_id for line in world.mirakl.order(order_id).lines)
    out = world.sync.record_shipment(order_id, [first], carrier_code="UPS", tracking_number="P1")
    assert set(out.values()) == {"confirmed"}
    assert world.mirakl.order(order_id).state == "SHIPPING"  # one line still to ship
    world.sync.record_shipment(order_id, [second], carrier_code="UPS", tracking_number="P2")
    assert world.mirakl.order(order_id).state == "SHIPPED"
    shipments = world.mirakl.shipments(order_id)
    assert sorted(str(s.tracking_number) for s in shipments) == ["P1", "P2"]
    assert world.mirakl.calls.for_operation("OR24") == []
    world.run_for(minutes=60)
    kinds = {a.kind for a in world.sink.alerts}
    assert not kinds & {"SHIPMENT_NOT_CONFIRMED", "TRACKING_MISSING"}


def test_partial_shipments_wait_for_the_whole_order_without_multi_shipment(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, payment_delay=timedelta(minutes=10))
    world.mirakl.multi_shipment = False
    stock(world, "SKU-1", 10)
    stock(world, "SKU-2", 10)
    order_id = _paid_order(world, [("SKU-1", 1), ("SKU-2", 1)])
    first, second = (line.order_line_id for line in world.mirakl.order(order_id).lines)
    assert (
        world.sync.record_shipment(order_id, [first], carrier_code="UPS", tracking_number="A") == {}
    )
    assert world.mirakl.order(order_id).state == "SHIPPING"
    world.sync.record_shipment(order_id, [second], carrier_code="UPS", tracking_number="B")
    assert world.mirakl.order(order_id).state == "SHIPPED"
    assert _history(world, order_id) == ["OR23", "OR24"]


def test_the_outbox_index_gives_the_ledger_views_of_every_item(world: World) -> None:
    """outbox_index() reads only confirmed items of the kinds ledger_view looks at (stock
    pushes, acceptances... are left in storage): the views it gives equal those from every
    item of each order."""
    stock(world, "SKU-1", 10, price="20.00")
    stock(world, "SKU-2", 10, price="15.00")
    shipped = _shipped(world, [("SKU-1", 2), ("SKU-2", 1)])
    line = world.mirakl.order(shipped).lines[0]
    world.sync.record_return(shipped, {line.order_line_id: Decimal("20.00")}, "16", return_id="R")
    _paid_order(world, [("SKU-2", 1)])  # paid, not shipped
    world.run_for(minutes=30)
    runtime = world.sync.runtimes[SHOP]
    storage = runtime.storage
    every: dict[str, list[OutboxItem]] = {}
    for item in storage.list_items(shop=SHOP):
        if isinstance(item.payload, dict) and "order_id" in item.payload:
            every.setdefault(str(item.payload["order_id"]), []).append(item)
    kinds = {item.kind for item in storage.list_items(shop=SHOP)}
    assert {"STO01", "OR21", "OR23", "OR24", "OR28"} <= kinds  # a history of every kind
    index = runtime.outbox_index()
    views = []
    for record in storage.list_orders(SHOP):
        lines = storage.get_lines(SHOP, record.order_id)
        view = runtime.ledger_view(record, lines, index.get(record.order_id, ()))
        assert view == runtime.ledger_view(record, lines, every.get(record.order_id, ()))
        views.append(view)
    assert any(v.ship_sent and v.tracking_sent and v.refunded_return_ids for v in views)
    assert any(not v.ship_sent for v in views)
