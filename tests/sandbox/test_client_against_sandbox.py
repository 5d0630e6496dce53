"""The Mirakl client, every operation, against the sandbox (in-process transport), plus one run
over the loopback server. The client's clock and sleep are the sandbox clock, so call budgets,
polling and deadlines run in simulated time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from mirakl_sync.errors import BadRequestError, InvalidStateError, NotFoundError
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient
from mirakl_sync.mirakl.models import (
    CancelationRequest,
    OfferExportRequest,
    OrderExportRequest,
    RefundRequest,
    ShipmentCreate,
    ShipmentLineCreate,
    ShipmentState,
    ShipmentTrackingCreate,
    StockUpdate,
)
from mirakl_sync.sandbox import DEFAULT_API_KEY, MiraklSandbox, place_orders, seed_catalogue
from tests.openapi_spec import operation
from tests.sandbox.test_mirakl_contract import CLIENT_OPERATIONS

BASE = "https://mirakl.sandbox.test"


def make_client(sandbox: MiraklSandbox, base_url: str = BASE, **kwargs: object) -> MiraklClient:
    def sleep(seconds: float) -> None:
        sandbox.clock.advance(seconds=seconds)

    return MiraklClient(
        base_url,
        DEFAULT_API_KEY,
        transport=sandbox.transport() if base_url == BASE else None,
        now=sandbox.clock.now,
        sleep=sleep,
        rand=lambda: 0.5,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def sandbox() -> MiraklSandbox:
    sandbox = MiraklSandbox(seed=11)
    seed_catalogue(12, mirakl=sandbox)
    sandbox.add_offer("WH-SKU", warehouses={"WH-A": 1, "WH-B": 2})
    return sandbox


@pytest.fixture
def client(sandbox: MiraklSandbox) -> Iterator[MiraklClient]:
    with make_client(sandbox) as c:
        yield c


def test_order_operations(sandbox: MiraklSandbox, client: MiraklClient) -> None:
    place_orders(sandbox, 30)
    orders = list(client.orders.list())  # OR11, all pages
    assert {o.order_id for o in orders} == set(sandbox.state.orders)
    waiting = [o for o in orders if o.order_state == "WAITING_ACCEPTANCE"]
    target = waiting[0]
    client.orders.accept(
        target.order_id, {ln.order_line_id: True for ln in target.order_lines}
    )  # OR21
    with pytest.raises(InvalidStateError):
        client.orders.accept(target.order_id, {ln.order_line_id: True for ln in target.order_lines})
    sandbox.confirm_payment(target.order_id)
    client.orders.update_tracking(
        target.order_id, carrier_code="UPS", tracking_number="1Z5"
    )  # OR23
    line = target.order_lines[0]
    if (line.quantity or 0) > 1:
        cancel = CancelationRequest(
            order_line_id=line.order_line_id,
            quantity=1,
            amount=Decimal(str(line.price_unit)),
            shipping_amount=Decimal("0"),
            reason_code="35",
        )
        assert client.orders.cancel_lines([cancel]).cancelations  # OR30
    client.orders.ship(target.order_id)  # OR24
    with pytest.raises(InvalidStateError):
        client.orders.ship(target.order_id)
    refund = RefundRequest(
        order_line_id=line.order_line_id,
        amount=Decimal("1.00"),
        shipping_amount=Decimal("0"),
        reason_code="16",
        quantity=1,
    )
    created = client.orders.refund([refund])  # OR28
    assert created.refunds[0].order_line_id == line.order_line_id
    fetched = client.orders.get(target.order_id)  # OR11 by order_ids
    assert fetched.order_state == "SHIPPED"
    assert fetched.shipping_tracking == "1Z5"
    shipping = sandbox.state.orders_in("SHIPPING")[0]
    client.orders.cancel(shipping.order_id)  # OR29
    assert sandbox.order(shipping.order_id).state == "CANCELED"
    with pytest.raises(NotFoundError):
        client.orders.get("NOPE-A")
    sandbox.clock.advance(minutes=5)
    start = sandbox.clock.now() - timedelta(days=30)
    exported = list(
        client.orders.export(  # OR13 + OR14 + OR15
            OrderExportRequest(start_date=start, end_date=sandbox.clock.now()), poll_interval=10
        )
    )
    assert {o.order_id for o in exported} == set(sandbox.state.orders)
    ops = set(sandbox.calls.operations())
    assert {"OR11", "OR21", "OR23", "OR24", "OR28", "OR29", "OR30", "OR13", "OR14", "OR15"} <= ops


def test_offer_and_stock_operations(sandbox: MiraklSandbox, client: MiraklClient) -> None:
    offers = list(client.offers.list())  # OF21
    assert len(offers) == 13
    result = client.stock.import_quantities(
        [  # STO01
            StockUpdate(offer_sku="SKU-0001", quantity=42),
            StockUpdate(offer_sku="WH-SKU", quantity=5, warehouse_code="WH-A"),
            StockUpdate(offer_sku="MISSING", quantity=1),
        ]
    )
    sandbox.clock.advance(seconds=30)
    status = client.stock.import_status(result.import_id)  # STO02
    assert status.status == "COMPLETE"
    assert status.lines_in_error == 1
    errors = client.stock.import_error_report(result.import_id)  # STO03
    assert [e.reason for e in errors] == ["The offer with SKU 'MISSING' does not exist"]
    assert sandbox.offer("SKU-0001").available == 42  # type: ignore[union-attr]
    assert sandbox.offer("WH-SKU").warehouses == {"WH-A": 5, "WH-B": 2}  # type: ignore[union-attr]

    imported = client.offers.import_file(b"sku;price;quantity\nSKU-0002;9.99;3\nNOPE;1;1\n")  # OF01
    sandbox.clock.advance(seconds=60)
    offer_status = client.offers.import_status(imported.import_id)  # OF02
    assert (offer_status.lines_in_success, offer_status.lines_in_error) == (1, 1)
    sandbox.clock.advance(seconds=60)
    assert b"NOPE" in client.offers.import_error_report(imported.import_id)  # OF03

    exported = list(client.offers.export(OfferExportRequest(export_type="application/json")))
    by_sku = {o.shop_sku: o for o in exported}  # OF52 + OF53 + OF54
    assert by_sku["SKU-0002"].quantity == 3
    ops = set(sandbox.calls.operations())
    assert {
        "OF21",
        "STO01",
        "STO02",
        "STO03",
        "OF01",
        "OF02",
        "OF03",
        "OF52",
        "OF53",
        "OF54",
    } <= ops
    assert {w.code for w in by_sku["WH-SKU"].warehouses or ()} == {"WH-A", "WH-B"}


def test_finance_and_platform_operations(sandbox: MiraklSandbox, client: MiraklClient) -> None:
    place_orders(sandbox, 20, mix={"SHIPPED": 1.0})
    rows = list(client.finance.transactions(page_size=7))  # TL02, several pages
    assert len(rows) == len(sandbox.state.transactions)
    assert sum((r.amount or Decimal(0) for r in rows), Decimal(0)) == sum(
        (t.amount for t in sandbox.state.transactions), Decimal(0)
    )
    assert client.platform.configuration().timezone == "Europe/Paris"  # PC01
    assert any(r.code == "16" for r in client.platform.reasons())  # RE01
    assert "UPS" in {c.code for c in client.platform.carriers()}  # SH21


def _shipping_order(
    sandbox: MiraklSandbox, client: MiraklClient, lines: list[tuple[str, int]]
) -> str:
    order = sandbox.place_order(lines)
    client.orders.accept(order.order_id, {ln.order_line_id: True for ln in order.lines})
    sandbox.confirm_payment(order.order_id)
    return order.order_id


def test_shipment_operations(sandbox: MiraklSandbox, client: MiraklClient) -> None:
    config = client.platform.configuration()  # PC01
    assert config.features is not None
    assert config.features.shipment is not None
    assert config.features.shipment.multi_shipment is True
    order_id = _shipping_order(sandbox, client, [("SKU-0001", 3), ("SKU-0002", 1)])
    other_id = _shipping_order(sandbox, client, [("SKU-0003", 1)])
    first, second = (f"{order_id}-1", f"{order_id}-2")
    result = client.shipments.create(  # ST01: partial shipment + an error
        [
            ShipmentCreate(
                order_id=order_id,
                shipment_lines=[ShipmentLineCreate(order_line_id=first, quantity=2)],
                tracking=ShipmentTrackingCreate(carrier_code="UPS", tracking_number="1Z7"),
                shipped=True,
                invoice_reference="INV-7",
            ),
            ShipmentCreate(
                order_id=order_id,
                shipment_lines=[ShipmentLineCreate(order_line_id=second, quantity=2)],
            ),
            ShipmentCreate(
                order_id=other_id,
                shipment_lines=[ShipmentLineCreate(order_line_id=f"{other_id}-1", quantity=1)],
            ),
        ]
    )
    assert [s.order_id for s in result.shipment_success] == [order_id, other_id]
    created = result.shipment_success[0]
    assert created.status is ShipmentState.SHIPPED
    assert created.tracking is not None
    assert created.tracking.tracking_url == "https://www.ups.com/track?tracknum=1Z7"
    assert [(e.order_id, e.message) for e in result.shipment_errors] == [
        (order_id, "Shipment quantity is invalid.")
    ]
    assert client.orders.get(order_id).order_state == "SHIPPING"  # partially shipped

    rest = client.shipments.create(
        [
            ShipmentCreate(
                order_id=order_id,
                shipment_lines=[
                    ShipmentLineCreate(order_line_id=first, quantity=1),
                    ShipmentLineCreate(order_line_id=second, quantity=1),
                ],
                tracking=ShipmentTrackingCreate(
                    carrier_name="Coursier", tracking_url="https://c.test/1"
                ),
                shipped=True,
            )
        ]
    )
    assert not rest.shipment_errors
    shipped = client.orders.get(order_id)
    assert shipped.order_state == "SHIPPED"
    assert all(line.shipped_date is not None for line in shipped.order_lines)

    listed = list(client.shipments.list(page_size=1))  # ST11, several pages
    in_creation_order = sorted(sandbox.state.shipments.values(), key=lambda s: s.seq)
    assert [s.id for s in listed] == [s.id for s in in_creation_order]
    assert len(listed) == 3
    mine = list(client.shipments.list(order_ids=[order_id], shipment_state_codes=["SHIPPED"]))
    assert [[(ln.order_line_id, ln.quantity) for ln in s.shipment_lines] for s in mine] == [
        [(first, 2)],
        [(first, 1), (second, 1)],
    ]
    waiting = list(client.shipments.list(shipment_state_codes=[ShipmentState.SHIPPING]))
    assert [s.order_id for s in waiting] == [other_id]
    sandbox.clock.advance(minutes=1)
    since = sandbox.clock.now()
    sandbox.ship_shipment(waiting[0].id)
    updated = list(client.shipments.list(last_updated_from=since, sort_order="desc"))
    assert [s.id for s in updated] == [waiting[0].id]
    assert client.orders.get(other_id).order_state == "SHIPPED"
    assert {"ST01", "ST11"} <= set(sandbox.calls.operations())


def test_shipments_when_the_platform_has_no_multi_shipment(sandbox: MiraklSandbox) -> None:
    sandbox.multi_shipment = False
    with make_client(sandbox) as client:
        config = client.platform.configuration()
        assert config.features is not None
        assert config.features.shipment is not None
        assert config.features.shipment.multi_shipment is False
        order_id = _shipping_order(sandbox, client, [("SKU-0001", 1)])
        shipment = ShipmentCreate(
            order_id=order_id,
            shipment_lines=[ShipmentLineCreate(order_line_id=f"{order_id}-1", quantity=1)],
        )
        with pytest.raises(BadRequestError) as info:
            client.shipments.create([shipment])
        assert info.value.error_code == "MULTI_SHIPMENT_FEATURE_DISABLED"
        with pytest.raises(BadRequestError):
            list(client.shipments.list())
        client.orders.ship(order_id)  # OR24 still ships whole orders
    assert sandbox.order(order_id).state == "SHIPPED"


def test_async_shipments(sandbox: MiraklSandbox) -> None:
    with make_client(sandbox) as client:
        order_id = _shipping_order(sandbox, client, [("SKU-0001", 2)])

    async def main() -> list[int | None]:
        async with AsyncMiraklClient(
            BASE, DEFAULT_API_KEY, transport=sandbox.transport(), now=sandbox.clock.now
        ) as aclient:
            for _ in range(2):
                result = await aclient.shipments.create(
                    [
                        ShipmentCreate(
                            order_id=order_id,
                            shipment_lines=[
                                ShipmentLineCreate(order_line_id=f"{order_id}-1", quantity=1)
                            ],
                            shipped=True,
                        )
                    ]
                )
                assert not result.shipment_errors
            return [
                s.shipment_lines[0].quantity
                async for s in aclient.shipments.list(order_ids=[order_id], page_size=1)
            ]

    assert asyncio.run(main()) == [1, 1]
    assert sandbox.order(order_id).state == "SHIPPED"


def test_the_sandbox_serves_every_client_operation(sandbox: MiraklSandbox) -> None:
    from mirakl_sync.mirakl import OPERATIONS

    assert set(OPERATIONS) == set(CLIENT_OPERATIONS)
    routed = {route.operation for route in sandbox._routes}
    assert set(OPERATIONS) <= routed
    for code in OPERATIONS:
        operation(code)


def test_client_over_the_loopback_server(sandbox: MiraklSandbox) -> None:
    order = sandbox.place_order([("SKU-0001", 1)])
    with sandbox.serve() as server, make_client(sandbox, server.url) as client:
        found = client.orders.get(order.order_id)
        client.orders.accept(order.order_id, {ln.order_line_id: True for ln in found.order_lines})
    assert sandbox.order(order.order_id).state == "WAITING_DEBIT"


def test_async_client(sandbox: MiraklSandbox) -> None:
    async def main() -> int:
        async with AsyncMiraklClient(
            BASE, DEFAULT_API_KEY, transport=sandbox.transport(), now=sandbox.clock.now
        ) as client:
            return len([o async for o in client.offers.list()])

    assert asyncio.run(main()) == 13
