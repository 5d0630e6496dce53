from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from mirakl_sync.sandbox import DEFAULT_API_KEY, MiraklSandbox
from tests.sandbox.conftest import BASE


def accept_all(
    client: httpx.Client, order_id: str, line_ids: list[str], ok: bool = True
) -> httpx.Response:
    lines = [{"id": i, "accepted": ok} for i in line_ids]
    return client.put(f"/api/orders/{order_id}/accept", json={"order_lines": lines})


def test_auth_and_shop_selection(mirakl: MiraklSandbox) -> None:
    raw = mirakl.client(BASE)
    r = raw.get("/api/orders")
    assert r.status_code == 401
    assert r.json()["status"] == 401
    assert (
        raw.get("/api/orders", headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).status_code
        == 401
    )
    mirakl.place_order([("SKU-1", 1)])
    auth = {"Authorization": DEFAULT_API_KEY}
    assert raw.get("/api/orders", headers=auth).json()["total_count"] == 1
    r = raw.get("/api/orders", params={"shop_id": 2002}, headers=auth)
    assert r.json()["total_count"] == 0
    assert raw.get("/api/orders", params={"shop_id": 999}, headers=auth).status_code == 403
    recorded = mirakl.calls[-1]
    assert dict(recorded.headers)["authorization"] == "***"


def test_or11_pagination_link_and_id_limit(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    ids = [mirakl.place_order([("SKU-1", 1)]).order_id for _ in range(25)]
    r = client.get("/api/orders", params={"max": 10})
    assert r.json()["total_count"] == 25
    assert [o["order_id"] for o in r.json()["orders"]] == ids[:10]
    link = r.headers["link"]
    assert 'rel="next"' in link
    assert "offset=10" in link
    seen = [o["order_id"] for o in r.json()["orders"]]
    url: str | None = link[1 : link.index(">")]
    while url:
        page = client.get(url)  # continuation pages (offset > 0) are not rate limited
        assert page.status_code == 200, page.text
        seen += [o["order_id"] for o in page.json()["orders"]]
        nxt = [p for p in page.headers.get("link", "").split(", ") if 'rel="next"' in p]
        url = nxt[0][1 : nxt[0].index(">")] if nxt else None
    assert seen == ids
    too_many = ",".join(f"X-{i}" for i in range(101))
    r = client.get("/api/orders", params={"order_ids": too_many})
    assert r.status_code == 400
    assert r.json()["message"] == "The limit of 100 is exceeded for the parameter : order_ids"
    r = client.get("/api/orders", params={"order_ids": ",".join(ids[:3]), "paginate": "false"})
    assert r.json()["total_count"] == 3


def test_or11_filters_and_update_overlap(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    mirakl.enforce_frequencies = False
    first = mirakl.place_order([("SKU-1", 1)])
    mirakl.clock.advance(minutes=10)
    cutoff = mirakl.clock.now()
    mirakl.clock.advance(seconds=30)
    second = mirakl.place_order([("SKU-1", 1)], channel_code="FR")

    def ids(**params: str) -> list[str]:
        return [o["order_id"] for o in client.get("/api/orders", params=params).json()["orders"]]

    stamp = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=stamp) == [second.order_id]
    assert ids(channel_codes="FR") == [second.order_id]
    assert ids(only_null_channel="true") == [first.order_id]
    # start_update_date has Mirakl's overlap delta (1 minute by default) subtracted
    late = (cutoff + timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_update_date=late) == [second.order_id]
    assert ids(customer_debited="true") == []
    assert client.get("/api/orders", params={"order_state_codes": "NOPE"}).status_code == 400


def test_or21_rules(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = mirakl.place_order([("SKU-1", 2), ("SKU-2", 1)])
    line_ids = [ln.order_line_id for ln in order.lines]
    assert mirakl.offer("SKU-1").quantity == 8  # type: ignore[union-attr]
    r = accept_all(client, order.order_id, line_ids[:1])
    assert r.json()["code"] == "ORDER_LINE_ACCEPTANCE_DECISION_MISSING"
    r = accept_all(client, order.order_id, [line_ids[0], line_ids[0], line_ids[1]])
    assert r.json()["code"] == "ORDER_LINE_DUPLICATE_ID"
    assert accept_all(client, "NOPE-A", line_ids).status_code == 404
    body = {
        "order_lines": [
            {"id": line_ids[0], "accepted": True},
            {"id": line_ids[1], "accepted": False},
        ]
    }
    assert client.put(f"/api/orders/{order.order_id}/accept", json=body).status_code == 204
    assert [ln.state for ln in order.lines] == ["WAITING_DEBIT", "REFUSED"]
    assert order.state == "WAITING_DEBIT"
    assert order.acceptance_decision_date == mirakl.clock.now()
    again = accept_all(client, order.order_id, line_ids)
    assert again.status_code == 400
    assert again.json()["code"] == "ORDER_INVALID_STATE"
    refused = mirakl.place_order([("SKU-1", 1)])
    accept_all(client, refused.order_id, [refused.lines[0].order_line_id], ok=False)
    assert refused.state == "REFUSED"
    assert mirakl.offer("SKU-1").quantity == 8  # type: ignore[union-attr]


def test_auto_refusal_at_the_deadline() -> None:
    sandbox = MiraklSandbox(acceptance_window=timedelta(days=3))
    sandbox.add_offer("SKU", quantity=3)
    order = sandbox.place_order([("SKU", 2)])
    sandbox.clock.advance(days=2, hours=23)
    assert order.state == "WAITING_ACCEPTANCE"
    sandbox.clock.advance(hours=2)
    assert order.state == "REFUSED"
    assert order.acceptance_decision_date is None
    assert order.last_updated_date == order.created_date + timedelta(days=3)
    assert sandbox.offer("SKU").quantity == 3  # type: ignore[union-attr]
    late = sandbox.place_order([("SKU", 1)])
    sandbox.clock.advance(timedelta(days=3) - timedelta(seconds=1))
    assert late.state == "WAITING_ACCEPTANCE"
    sandbox.clock.advance(seconds=1)
    assert late.state == "REFUSED"


def test_payment_ship_refund_cancel(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = mirakl.place_order([("SKU-1", 2)])
    line = order.lines[0]
    assert client.put(f"/api/orders/{order.order_id}/ship").json()["code"] == "ORDER_INVALID_STATE"
    accept_all(client, order.order_id, [line.order_line_id])
    mirakl.request_debit(order.order_id)
    assert order.state == "WAITING_DEBIT_PAYMENT"
    mirakl.confirm_payment(order.order_id)
    assert order.state == "SHIPPING"
    r = client.put(
        f"/api/orders/{order.order_id}/tracking",
        json={"carrier_code": "UPS", "tracking_number": "1Z9"},
    )
    assert r.status_code == 204
    assert order.carrier_url == "https://www.ups.com/track?tracknum=1Z9"
    refund = {
        "refunds": [
            {
                "order_line_id": line.order_line_id,
                "amount": 5,
                "shipping_amount": 0,
                "reason_code": "15",
            }
        ]
    }
    r = client.put("/api/orders/refund", json=refund)
    assert r.json()["code"] == "ORDER_LINE_INVALID_STATE"  # not shipped yet
    assert client.put(f"/api/orders/{order.order_id}/ship").status_code == 204
    assert order.state == "SHIPPED"
    bad = {"refunds": [{**refund["refunds"][0], "reason_code": "34"}]}
    assert client.put("/api/orders/refund", json=bad).status_code == 400
    r = client.put("/api/orders/refund", json=refund)
    assert r.status_code == 200
    assert r.json()["refunds"][0]["amount"] == 5.0
    full = {
        "refunds": [
            {
                "order_line_id": line.order_line_id,
                "amount": 20,
                "shipping_amount": 4.9,
                "reason_code": "16",
            }
        ]
    }
    assert client.put("/api/orders/refund", json=full).status_code == 200
    assert line.state == "REFUNDED"
    assert order.fully_refunded
    assert (
        client.put("/api/orders/refund", json=refund).json()["code"] == "ORDER_LINE_INVALID_STATE"
    )
    mirakl.clock.advance(hours=1)
    assert all(r.state == "REFUNDED" for r in line.refunds)
    # finance: order value = payout + commission + refunds (to the cent)
    rows = client.get(
        "/api/sellerpayment/transactions_logs", params={"limit": 100, "order_id": order.order_id}
    ).json()["data"]
    assert round(sum(r["amount"] for r in rows), 2) == round(
        -float(line.commission_fee + line.commission_vat)
        + float(sum(r.commission_amount + r.commission_tax_amount for r in line.refunds)),
        2,
    )


def test_or29_or30_cancellation(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = mirakl.place_order([("SKU-1", 3), ("SKU-2", 1)])
    ids = [ln.order_line_id for ln in order.lines]
    assert (
        client.put(f"/api/orders/{order.order_id}/cancel").json()["code"] == "ORDER_INVALID_STATE"
    )
    accept_all(client, order.order_id, ids)
    mirakl.confirm_payment(order.order_id)
    body = {
        "cancelations": [
            {
                "order_line_id": ids[0],
                "quantity": 1,
                "amount": 12.5,
                "shipping_amount": 0,
                "reason_code": "35",
            }
        ]
    }
    r = client.put("/api/orders/cancel", json=body)
    assert r.status_code == 200
    assert r.json()["cancelations"][0]["cancelation_id"]
    assert order.lines[0].state == "SHIPPING"
    assert mirakl.offer("SKU-1").quantity == 8  # type: ignore[union-attr]
    assert client.put(f"/api/orders/{order.order_id}/cancel").status_code == 204
    assert order.state == "CANCELED"
    assert {ln.state for ln in order.lines} == {"CANCELED"}
    assert mirakl.offer("SKU-1").quantity == 10  # type: ignore[union-attr]


def test_tl02_seek_pagination(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    for _ in range(4):
        order = mirakl.place_order([("SKU-1", 1)])
        accept_all(client, order.order_id, [order.lines[0].order_line_id])
        mirakl.confirm_payment(order.order_id)
        mirakl.clock.advance(seconds=5)
    assert len(mirakl.state.transactions) == 16
    collected = []
    params: dict[str, str] = {"limit": "5", "sort": "dateCreated"}
    while True:
        body = client.get("/api/sellerpayment/transactions_logs", params=params).json()
        collected += [row["id"] for row in body["data"]]
        if "next_page_token" not in body:
            break
        params = {"page_token": body["next_page_token"]}
    assert len(collected) == len(set(collected)) == 16
    assert (
        client.get("/api/sellerpayment/transactions_logs", params={"limit": 2001}).status_code
        == 400
    )
    types = client.get(
        "/api/sellerpayment/transactions_logs",
        params=[("transaction_type", "COMMISSION_FEE"), ("limit", "100")],
    ).json()["data"]
    assert len(types) == 4
    assert all(t["amount"] < 0 for t in types)


@pytest.mark.parametrize(
    ("op", "method", "path", "window"),
    [
        ("OR11", "GET", "/api/orders", 60),
        ("STO01", "POST", "/api/offers/stock/imports", 60),
        ("OF52", "POST", "/api/offers/export/async", 60),
    ],
)
def test_frequency_limits(
    mirakl: MiraklSandbox, client: httpx.Client, op: str, method: str, path: str, window: int
) -> None:
    kwargs: dict[str, object] = {}
    if op == "STO01":
        kwargs["files"] = {"file": ("s.csv", b'"offer-sku";"quantity"\n"SKU-1";"1"\n')}
    if op == "OF52":
        kwargs["json"] = {"export_type": "application/json"}
    assert client.request(method, path, **kwargs).status_code < 400  # type: ignore[arg-type]
    limited = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) == window
    mirakl.clock.advance(seconds=window)
    assert client.request(method, path, **kwargs).status_code < 400  # type: ignore[arg-type]
    mirakl.enforce_frequencies = False
    assert client.request(method, path, **kwargs).status_code < 400  # type: ignore[arg-type]


def test_or11_lookups_and_tl02_hourly_budget(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    order = mirakl.place_order([("SKU-1", 1)])
    assert client.get("/api/orders").status_code == 200
    for _ in range(3):  # order_ids lookups are exempt
        assert client.get("/api/orders", params={"order_ids": order.order_id}).status_code == 200
    statuses = []
    for _ in range(4):
        statuses += [
            client.get("/api/sellerpayment/transactions_logs").status_code for _ in range(21)
        ]
        mirakl.clock.advance(minutes=1)
    assert statuses.count(200) == 60
    assert client.get("/api/sellerpayment/transactions_logs").status_code == 429
