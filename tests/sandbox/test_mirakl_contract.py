"""Every sandbox response for the operations the client implements validates against the
response schemas of Mirakl's OpenAPI document (nulls tolerated, as real Mirakl sends them)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mirakl_sync.sandbox import MiraklSandbox, place_orders, seed_catalogue, simulate_returns
from tests.openapi_spec import operation, response_validator, strip_nulls
from tests.sandbox.conftest import stock_file

pytestmark = pytest.mark.contract

CLIENT_OPERATIONS = (
    "OR11",
    "OR13",
    "OR14",
    "OR15",
    "OR21",
    "OR23",
    "OR24",
    "OR28",
    "OR29",
    "OR30",
    "OF01",
    "OF02",
    "OF03",
    "OF21",
    "OF52",
    "OF53",
    "OF54",
    "STO01",
    "STO02",
    "STO03",
    "TL02",
    "PC01",
    "RE01",
    "SH21",
    "ST01",
    "ST11",
)


def check(op: str, response: httpx.Response, status: str = "200") -> Any:
    assert response.status_code == int(status), response.text
    body = response.json()
    errors = sorted(
        response_validator(op, status).iter_errors(strip_nulls(body)), key=lambda e: e.json_path
    )
    assert not errors, [f"{e.json_path}: {e.message}" for e in errors[:5]]
    return body


def test_every_client_operation_is_routed(mirakl: MiraklSandbox) -> None:
    routed = {route.operation for route in mirakl._routes}
    assert set(CLIENT_OPERATIONS) <= routed
    for op in CLIENT_OPERATIONS:
        method, path, _ = operation(op)
        if path.startswith("/dynamic-url"):
            continue
        probe = httpx.Request(method, "https://x" + path.replace("{", "").replace("}", ""))
        assert mirakl.operation_for(probe) == op, (op, path)


def test_responses_validate_against_the_spec(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    mirakl.enforce_frequencies = False
    mirakl.clock.advance(days=1)
    seed_catalogue(15, mirakl=mirakl, mirakl_warehouses=("WH-A",))
    orders = place_orders(mirakl, 40)
    simulate_returns(mirakl, 3)
    simulate_returns(mirakl, 2, partial=True)
    order, line = next((o, ln) for o in orders for ln in o.lines if ln.state == "SHIPPED")
    mirakl.open_incident(order.order_id, line.order_line_id)
    mirakl.clock.advance(days=4)  # auto-refusals, refunds paid

    body = check("OR11", client.get("/api/orders", params={"max": 100, "paginate": "true"}))
    states = {o["order_state"] for o in body["orders"]}
    assert {"SHIPPING", "SHIPPED", "RECEIVED", "REFUSED", "CANCELED"} <= states
    check("OR11", client.get("/api/orders", params={"order_state_codes": "REFUSED"}))

    new = mirakl.place_order([("SKU-1", 1), ("SKU-2", 1)])
    lines = [{"id": ln.order_line_id, "accepted": True} for ln in new.lines]
    assert (
        client.put(f"/api/orders/{new.order_id}/accept", json={"order_lines": lines}).status_code
        == 204
    )
    mirakl.confirm_payment(new.order_id)
    assert (
        client.put(
            f"/api/orders/{new.order_id}/tracking",
            json={"carrier_code": "UPS", "tracking_number": "1Z1"},
        ).status_code
        == 204
    )
    cancel = {
        "cancelations": [
            {
                "order_line_id": new.lines[1].order_line_id,
                "quantity": 1,
                "amount": 30,
                "shipping_amount": 0,
                "reason_code": "34",
            }
        ]
    }
    check("OR30", client.put("/api/orders/cancel", json=cancel))
    assert client.put(f"/api/orders/{new.order_id}/ship").status_code == 204
    refund = {
        "refunds": [
            {
                "order_line_id": new.lines[0].order_line_id,
                "amount": 5,
                "shipping_amount": 1,
                "reason_code": "15",
                "quantity": 1,
            }
        ]
    }
    check("OR28", client.put("/api/orders/refund", json=refund))
    other = mirakl.place_order([("SKU-1", 1)])
    lines = [{"id": ln.order_line_id, "accepted": True} for ln in other.lines]
    client.put(f"/api/orders/{other.order_id}/accept", json={"order_lines": lines})
    mirakl.confirm_payment(other.order_id)
    assert client.put(f"/api/orders/{other.order_id}/cancel").status_code == 204
    check(
        "OR11", client.get("/api/orders", params={"order_ids": f"{new.order_id},{other.order_id}"})
    )

    tracking = check(
        "OR13",
        client.post(
            "/api/orders/async-export",
            json={"start_date": "2025-06-01T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
        ),
    )["tracking_id"]
    check("OR14", client.get(f"/api/orders/async-export/status/{tracking}"))
    mirakl.clock.advance(seconds=30)
    status = check("OR14", client.get(f"/api/orders/async-export/status/{tracking}"))
    chunk = check("OR15", client.get(status["urls"][0]))
    assert len(chunk["orders"]) == len(mirakl.state.orders)

    check("OF21", client.get("/api/offers", params={"max": 100}))
    for export_type in ("application/json", "text/csv"):
        tid = check(
            "OF52", client.post("/api/offers/export/async", json={"export_type": export_type})
        )["tracking_id"]
        check("OF53", client.get(f"/api/offers/export/async/status/{tid}"))
        mirakl.clock.advance(seconds=30)
        urls = check("OF53", client.get(f"/api/offers/export/async/status/{tid}"))["urls"]
        data = client.get(urls[0])
        if export_type == "application/json":
            items = data.json()
            assert isinstance(items, list)
            assert items
            for item in items:
                assert not list(response_validator("OF54").iter_errors(strip_nulls(item)))
        else:
            assert data.text.startswith("offer-id;shop-sku")

    offers_csv = (
        b"sku;product-id;product-id-type;price;quantity;state\nSKU-1;;;13.00;4;11\nNEW;;;1;1;11\n"
    )
    created = client.post(
        "/api/offers/imports", files={"file": ("o.csv", offers_csv)}, data={"import_mode": "NORMAL"}
    )
    import_id = check("OF01", created, "201")["import_id"]
    check("OF02", client.get(f"/api/offers/imports/{import_id}"))
    mirakl.clock.advance(seconds=30)
    assert check("OF02", client.get(f"/api/offers/imports/{import_id}"))["lines_in_error"] == 1
    assert "error-message" in client.get(f"/api/offers/imports/{import_id}/error_report").text

    sto = client.post("/api/offers/stock/imports", files=stock_file(("SKU-1", "3", "", "")))
    sto_id = check("STO01", sto, "201")["import_id"]
    check("STO02", client.get(f"/api/offers/stock/imports/{sto_id}/status"))

    multi = mirakl.place_order([("SKU-1", 3), ("SKU-2", 1)])
    lines = [{"id": ln.order_line_id, "accepted": True} for ln in multi.lines]
    client.put(f"/api/orders/{multi.order_id}/accept", json={"order_lines": lines})
    mirakl.confirm_payment(multi.order_id)
    first, second = (ln.order_line_id for ln in multi.lines)
    created = check(
        "ST01",
        client.post(
            "/api/shipments",
            json={
                "shipments": [
                    {
                        "order_id": multi.order_id,
                        "shipment_lines": [
                            {"order_line_id": first, "quantity": 2, "package_reference": "P1"}
                        ],
                        "tracking": {"carrier_code": "UPS", "tracking_number": "1Z9"},
                        "shipped": True,
                        "invoice_reference": "INV-1",
                        "shipping_from": {"warehouse": {"code": "WH-A"}},
                        "shipment_additional_information": [
                            {"code": "DELIVERY_BILL_ID", "type": "STRING", "value": "B-1"}
                        ],
                    },
                    {
                        "order_id": multi.order_id,
                        "shipment_lines": [{"order_line_id": second, "quantity": 1}],
                        "tracking": {"carrier_name": "Coursier", "tracking_url": "https://c.test"},
                    },
                    {
                        "order_id": multi.order_id,
                        "shipment_lines": [{"order_line_id": first, "quantity": 5}],
                    },
                    {
                        "order_id": new.order_id,
                        "shipment_lines": [{"offer_sku": "SKU-1", "quantity": 1}],
                    },
                ]
            },
        ),
        "201",
    )
    assert len(created["shipment_success"]) == 2
    assert len(created["shipment_errors"]) == 2
    listed = check("ST11", client.get("/api/shipments", params={"limit": 1}))
    assert listed["next_page_token"]
    check("ST11", client.get("/api/shipments", params={"page_token": listed["next_page_token"]}))
    check(
        "ST11",
        client.get(
            "/api/shipments",
            params=[
                ("order_id", multi.order_id),
                ("shipment_state_code", "SHIPPED"),
                ("shipment_customer_debit_state_code", "NO_DEBIT"),
                ("last_updated_from", "2020-01-01T00:00:00Z"),
                ("sort", "dateCreated,DESC"),
            ],
        ),
    )
    check("OR11", client.get("/api/orders", params={"order_ids": multi.order_id}))

    check("TL02", client.get("/api/sellerpayment/transactions_logs", params={"limit": 50}))
    assert check("PC01", client.get("/api/platform/configuration"))["features"]["shipment"][
        "multi_shipment"
    ]
    check("RE01", client.get("/api/reasons"))
    check("SH21", client.get("/api/shipping/carriers"))
