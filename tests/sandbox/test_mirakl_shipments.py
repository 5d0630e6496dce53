"""Multiple shipments in the Mirakl sandbox: ST01 partial shipments, ST11 listing, the PC01
switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mirakl_sync.sandbox import MiraklSandbox
from mirakl_sync.sandbox.mirakl.state import Order

JSON = Any


def _shipping_order(mirakl: MiraklSandbox, lines: list[tuple[str, int]]) -> Order:
    order = mirakl.place_order(lines)
    mirakl.state.accept(
        order.shop_id,
        order.order_id,
        [{"id": ln.order_line_id, "accepted": True} for ln in order.lines],
    )
    return mirakl.confirm_payment(order.order_id)


def _ship(client: httpx.Client, *shipments: dict[str, JSON]) -> JSON:
    response = client.post("/api/shipments", json={"shipments": list(shipments)})
    assert response.status_code == 201, response.text
    return response.json()


def _line(line_id: str, quantity: int) -> dict[str, JSON]:
    return {"order_line_id": line_id, "quantity": quantity}


def test_partial_shipments_ship_the_order_once_every_unit_is_shipped(
    mirakl: MiraklSandbox, client: httpx.Client
) -> None:
    order = _shipping_order(mirakl, [("SKU-1", 3), ("SKU-2", 2)])
    a, b = (ln.order_line_id for ln in order.lines)
    before = order.last_updated_date
    mirakl.clock.advance(minutes=5)

    body = _ship(
        client,
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(a, 2), _line(b, 1)],
            "shipped": True,
            "tracking": {"carrier_code": "DHL", "tracking_number": "JD01"},
        },
    )
    (first,) = body["shipment_success"]
    assert body["shipment_errors"] == []
    assert first["status"] == "SHIPPED"
    assert first["shipped_date"] is not None
    assert first["tracking"]["carrier_name"] == "DHL Express"
    assert first["tracking"]["tracking_url"] == "https://www.dhl.com/track?id=JD01"
    current = mirakl.order(order.order_id)
    assert current.state == "SHIPPING"  # partially shipped
    assert {ln.state for ln in current.lines} == {"SHIPPING"}
    assert current.last_updated_date > before  # OR11 incremental polls see the change

    # Not shipped on creation: the units are taken, the order still waits.
    body = _ship(client, {"order_id": order.order_id, "shipment_lines": [_line(a, 1)]})
    (pending,) = body["shipment_success"]
    assert pending["status"] == "SHIPPING"
    assert pending["shipped_date"] is None
    assert pending["tracking"]["validity_status"] == "MISSING_TRACKING"
    # line a is fully allocated now: one more unit is too many
    body = _ship(client, {"order_id": order.order_id, "shipment_lines": [_line(a, 1)]})
    assert body["shipment_errors"] == [
        {"order_id": order.order_id, "message": "Shipment quantity is invalid."}
    ]

    _ship(client, {"order_id": order.order_id, "shipment_lines": [_line(b, 1)], "shipped": True})
    assert mirakl.order(order.order_id).state == "SHIPPING"  # one shipment is not shipped yet
    mirakl.clock.advance(minutes=1)
    mirakl.ship_shipment(pending["id"])
    shipped = mirakl.order(order.order_id)
    assert shipped.state == "SHIPPED"
    assert {ln.state for ln in shipped.lines} == {"SHIPPED"}
    assert all(ln.shipped_date == mirakl.clock.now() for ln in shipped.lines)
    assert [s.status for s in mirakl.shipments(order.order_id)] == ["SHIPPED"] * 3

    or11 = client.get("/api/orders", params={"order_ids": order.order_id}).json()["orders"][0]
    assert or11["order_state"] == "SHIPPED"
    assert {ln["order_line_state"] for ln in or11["order_lines"]} == {"SHIPPED"}


def test_errors_are_per_shipment_and_partial_success_is_allowed(
    mirakl: MiraklSandbox, client: httpx.Client
) -> None:
    order = _shipping_order(mirakl, [("SKU-1", 2)])
    (line,) = order.lines
    waiting = mirakl.place_order([("SKU-1", 1)])
    body = _ship(
        client,
        {"order_id": order.order_id, "shipment_lines": [_line(line.order_line_id, 1)]},
        {"order_id": "NOPE-A", "shipment_lines": [_line("NOPE-A-1", 1)]},
        {
            "order_id": waiting.order_id,
            "shipment_lines": [_line(waiting.lines[0].order_line_id, 1)],
        },
        {"order_id": order.order_id, "shipment_lines": [_line(f"{order.order_id}-9", 1)]},
        {"order_id": order.order_id, "shipment_lines": [_line(line.order_line_id, 0)]},
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(line.order_line_id, 1)],
            "tracking": {"carrier_code": "NOPE"},
        },
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(line.order_line_id, 1)],
            "tracking": {"tracking_number": "1Z"},
        },
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(line.order_line_id, 1)],
            "shipping_from": {"warehouse": {"code": "NOWHERE"}},
        },
        # the same line twice in one shipment counts twice: 1 + 1 > the 1 unit left
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(line.order_line_id, 1), _line(line.order_line_id, 1)],
        },
        # the deprecated offer_sku designates the order's line for that offer
        {"order_id": order.order_id, "shipment_lines": [{"offer_sku": "SKU-1", "quantity": 1}]},
    )
    assert len(body["shipment_success"]) == 2
    assert [s["shipment_lines"][0]["order_line_id"] for s in body["shipment_success"]] == [
        line.order_line_id
    ] * 2
    messages = [(e["order_id"], e["message"]) for e in body["shipment_errors"]]
    assert messages == [
        ("NOPE-A", "Order with id 'NOPE-A' not found."),
        (waiting.order_id, "The order status must be 'SHIPPING' but it is 'WAITING_ACCEPTANCE'."),
        (order.order_id, f"Order line '{order.order_id}-9' not found in order '{order.order_id}'."),
        (order.order_id, "Shipment quantity is invalid."),
        (order.order_id, "Carrier with code 'NOPE' not found."),
        (order.order_id, "A carrier code or a carrier name is required."),
        (order.order_id, "Warehouse with code NOWHERE does not exist"),
        (order.order_id, "Shipment quantity is invalid."),
    ]
    assert len(mirakl.shipments(order.order_id)) == 2


def test_canceled_units_need_no_shipment(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = _shipping_order(mirakl, [("SKU-1", 3)])
    (line,) = order.lines
    cancel = {
        "order_line_id": line.order_line_id,
        "quantity": 1,
        "amount": str(line.price_unit),
        "shipping_amount": 0,
        "reason_code": "34",
    }
    assert client.put("/api/orders/cancel", json={"cancelations": [cancel]}).status_code == 200
    body = _ship(
        client,
        {"order_id": order.order_id, "shipment_lines": [_line(line.order_line_id, 3)]},
        {
            "order_id": order.order_id,
            "shipment_lines": [_line(line.order_line_id, 2)],
            "shipped": True,
        },
    )
    assert [e["message"] for e in body["shipment_errors"]] == ["Shipment quantity is invalid."]
    assert mirakl.order(order.order_id).state == "SHIPPED"


_ONE = {"order_id": "X", "shipment_lines": [{"order_line_id": "X-1", "quantity": 1}]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"shipments": []},
        {"shipments": [{"shipment_lines": [{"order_line_id": "X-1", "quantity": 1}]}]},
        {"shipments": [{"order_id": "X", "shipment_lines": []}]},
        {"shipments": [{"order_id": "X", "shipment_lines": [{"order_line_id": "X-1"}]}]},
        {"shipments": [{"order_id": "X", "shipment_lines": [{"quantity": 1}]}]},
        {
            "shipments": [
                {"order_id": "X", "shipment_lines": [{"order_line_id": "X-1", "quantity": "1"}]}
            ]
        },
        {
            "shipments": [
                {
                    "order_id": "X",
                    "shipment_lines": [{"order_line_id": "X-1", "quantity": 1}],
                    "invoice_reference": "with space",
                }
            ]
        },
        {"shipments": [_ONE] * 1001},
    ],
)
def test_malformed_bodies_are_refused_whole(client: httpx.Client, body: JSON) -> None:
    response = client.post("/api/shipments", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_st11_filters_and_seek_pagination(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    orders = [_shipping_order(mirakl, [("SKU-1", 2)]) for _ in range(3)]
    for order in orders:
        mirakl.clock.advance(minutes=1)
        line_id = order.lines[0].order_line_id
        _ship(
            client,
            {"order_id": order.order_id, "shipment_lines": [_line(line_id, 1)], "shipped": True},
            {"order_id": order.order_id, "shipment_lines": [_line(line_id, 1)]},
        )
    everything = [s.id for o in orders for s in mirakl.shipments(o.order_id)]

    def listing(params: list[tuple[str, str | int | float | bool | None]]) -> list[str]:
        ids: list[str] = []
        response = client.get("/api/shipments", params=params)
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            ids += [s["id"] for s in body["data"]]
            token = body.get("next_page_token")
            if not token:
                return ids
            response = client.get("/api/shipments", params={"page_token": token})

    assert listing([("limit", "4")]) == everything  # oldest first
    assert listing([("limit", "2"), ("sort", "dateCreated,DESC")]) == everything[::-1]
    assert listing([("order_id", orders[1].order_id)]) == everything[2:4]
    shipped = listing([("shipment_state_code", "SHIPPED"), ("limit", "1")])
    assert shipped == everything[0::2]
    pending = listing([("shipment_state_code", "SHIPPING")])
    assert pending == everything[1::2]
    since = mirakl.shipments(orders[2].order_id)[0].last_updated_date.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listing([("last_updated_from", since)]) == everything[4:]
    assert listing([("shipment_customer_debit_state_code", "DEBIT_OK")]) == []

    for params in (
        {"limit": "101"},
        {"limit": "0"},
        {"sort": "lastUpdated"},
        {"shipment_state_code": "LOST"},
        {"page_token": "garbage"},
    ):
        assert client.get("/api/shipments", params=params).status_code == 400, params
    too_many = httpx.QueryParams([("order_id", f"O-{i}") for i in range(101)])
    response = client.get("/api/shipments", params=too_many)
    assert response.status_code == 400
    assert "The limit of 100 is exceeded" in response.json()["message"]


def test_other_shops_shipments_are_invisible(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = _shipping_order(mirakl, [("SKU-1", 1)])
    _ship(
        client,
        {"order_id": order.order_id, "shipment_lines": [_line(order.lines[0].order_line_id, 1)]},
    )
    response = client.get("/api/shipments", params={"shop_id": 2002})
    assert response.json()["data"] == []
    body = client.post(
        "/api/shipments",
        params={"shop_id": 2002},
        json={"shipments": [{"order_id": order.order_id, "shipment_lines": [_line("x", 1)]}]},
    ).json()
    assert body["shipment_errors"][0]["message"] == f"Order with id '{order.order_id}' not found."


def test_the_feature_switch_is_pc01_multi_shipment(
    client: httpx.Client, mirakl: MiraklSandbox
) -> None:
    features = client.get("/api/platform/configuration").json()["features"]
    assert features["shipment"]["multi_shipment"] is True
    assert mirakl.multi_shipment

    mirakl.multi_shipment = False
    features = client.get("/api/platform/configuration").json()["features"]
    assert features["shipment"]["multi_shipment"] is False
    order = _shipping_order(mirakl, [("SKU-1", 1)])
    body = {"shipments": [{"order_id": order.order_id, "shipment_lines": [_line("x", 1)]}]}
    for response in (client.post("/api/shipments", json=body), client.get("/api/shipments")):
        assert response.status_code == 400
        assert response.json()["code"] == "MULTI_SHIPMENT_FEATURE_DISABLED"
    # OR23 + OR24 still ship whole orders
    assert client.put(f"/api/orders/{order.order_id}/ship").status_code == 204

    off = MiraklSandbox(multi_shipment=False)
    assert off.platform_configuration["features"]["shipment"]["multi_shipment"] is False
    assert not off.multi_shipment


def test_st01_and_st11_have_no_frequency_limit(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = _shipping_order(mirakl, [("SKU-1", 10)])
    for _ in range(5):
        _ship(
            client,
            {
                "order_id": order.order_id,
                "shipment_lines": [_line(order.lines[0].order_line_id, 1)],
            },
        )
        assert client.get("/api/shipments").status_code == 200
