from __future__ import annotations

import httpx

from mirakl_sync.sandbox import MiraklSandbox
from tests.sandbox.conftest import stock_file


def test_stock_import_lifecycle_and_error_report(
    mirakl: MiraklSandbox, client: httpx.Client
) -> None:
    files = stock_file(
        ("SKU-1", "4", "", ""),
        ("UNKNOWN", "3", "", ""),
        ("SKU-2", "7", "WH-A", ""),
        ("SKU-2", "", "WH-B", "delete"),
        ("SKU-3", "-1", "", ""),
        ("SKU-3", "2", "WH-NOPE", ""),
    )
    created = client.post("/api/offers/stock/imports", files=files)
    assert created.status_code == 201
    import_id = created.json()["import_id"]
    assert isinstance(import_id, str)
    assert created.headers["location"].endswith(f"/{import_id}/status")
    status = client.get(f"/api/offers/stock/imports/{import_id}/status").json()
    assert status["status"] == "WAITING"
    assert client.get(f"/api/offers/stock/imports/{import_id}/error_report").status_code == 404
    mirakl.clock.advance(seconds=15)
    assert client.get(f"/api/offers/stock/imports/{import_id}/status").json()["status"] == "RUNNING"
    assert mirakl.offer("SKU-1").quantity == 10  # type: ignore[union-attr]  # not applied yet
    mirakl.clock.advance(seconds=15)
    status = client.get(f"/api/offers/stock/imports/{import_id}/status").json()
    assert (status["status"], status["lines_in_success"], status["lines_in_error"]) == (
        "COMPLETE",
        3,
        3,
    )
    assert status["has_error_report"] is True
    mirakl.clock.advance(seconds=60)
    report = client.get(f"/api/offers/stock/imports/{import_id}/error_report")
    assert report.headers["content-type"].startswith("text/csv")
    lines = report.text.strip().splitlines()
    assert lines[0] == '"error-line";"error-message"'
    assert [line.split(";")[0] for line in lines[1:]] == ['"3"', '"6"', '"7"']
    assert "UNKNOWN" in lines[1]
    assert mirakl.offer("SKU-1").available == 4  # type: ignore[union-attr]
    assert mirakl.offer("SKU-2").warehouses == {"WH-A": 7}  # type: ignore[union-attr]
    assert client.get("/api/offers/stock/imports/nope/status").status_code == 404


def test_stock_import_poll_frequency(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    import_id = client.post(
        "/api/offers/stock/imports", files=stock_file(("SKU-1", "1", "", ""))
    ).json()["import_id"]
    url = f"/api/offers/stock/imports/{import_id}/status"
    assert client.get(url).status_code == 200
    limited = client.get(url)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "15"
    mirakl.clock.advance(seconds=15)
    assert client.get(url).status_code == 200


def test_stock_import_without_file_or_header(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    assert client.post("/api/offers/stock/imports", files={"other": ("x", b"")}).status_code == 400
    mirakl.clock.advance(minutes=1)
    bad = client.post("/api/offers/stock/imports", files={"file": ("s.csv", b"sku;qty\nA;1\n")})
    mirakl.clock.advance(minutes=1)
    assert (
        client.get(f"/api/offers/stock/imports/{bad.json()['import_id']}/status").json()["status"]
        == "FAILED"
    )


def test_offer_import_modes(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    content = (
        b"sku;product-id;price;quantity;update-delete\n"
        b"SKU-1;;15.00;9;\nNEW;PRD-NEW;3.50;2;\nGHOST;;1;1;\n"
    )
    r = client.post(
        "/api/offers/imports", files={"file": ("o.csv", content)}, data={"import_mode": "REPLACE"}
    )
    assert r.status_code == 201
    import_id = r.json()["import_id"]
    assert isinstance(import_id, int)
    mirakl.clock.advance(seconds=30)
    status = client.get(f"/api/offers/imports/{import_id}").json()
    assert (status["offer_inserted"], status["offer_updated"], status["offer_deleted"]) == (1, 1, 2)
    assert status["lines_in_error"] == 1
    mirakl.clock.advance(seconds=60)
    report = client.get(f"/api/offers/imports/{import_id}/error_report").text
    assert "GHOST" in report
    assert '"4"' in report
    assert {o.shop_sku for o in mirakl.state.shop_offers(2001)} == {"SKU-1", "NEW"}
    assert (
        client.post(
            "/api/offers/imports", files={"file": ("o.csv", content)}, data={"import_mode": "X"}
        ).status_code
        == 400
    )


def test_offer_export_differential(mirakl: MiraklSandbox, client: httpx.Client) -> None:
    since = mirakl.clock.advance(minutes=1)
    mirakl.clock.advance(minutes=5)
    mirakl.add_offer("SKU-1", quantity=1)
    offer = mirakl.offer("SKU-3")
    assert offer is not None
    offer.deleted = True
    offer.last_updated = mirakl.clock.now()
    body = {"export_type": "application/json", "last_request_date": since.isoformat()}
    tid = client.post("/api/offers/export/async", json=body).json()["tracking_id"]
    mirakl.clock.advance(seconds=30)
    urls = client.get(f"/api/offers/export/async/status/{tid}").json()["urls"]
    rows = client.get(urls[0]).json()
    assert {(r["shop_sku"], r["deleted"]) for r in rows} == {("SKU-1", False), ("SKU-3", True)}
    assert client.get(urls[0], headers={"Authorization": "wrong"}).status_code == 401


def test_order_export_chunks_and_rules() -> None:
    sandbox = MiraklSandbox(export_chunk_size=2, enforce_frequencies=False)
    sandbox.add_offer("SKU", quantity=100)
    for _ in range(5):
        sandbox.place_order([("SKU", 1)])
    client = sandbox.client(headers={"Authorization": "sandbox-shop-key"})
    assert client.post("/api/orders/async-export", json={}).status_code == 400
    assert (
        client.post(
            "/api/orders/async-export", json={"start_date": "2026-01-01T00:00:00Z"}
        ).status_code
        == 400
    )
    too_long = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
    assert client.post("/api/orders/async-export", json=too_long).status_code == 400
    body = {"start_update_date": "2026-01-01T00:00:00Z", "end_update_date": "2026-02-01T00:00:00Z"}
    tid = client.post("/api/orders/async-export", json=body).json()["tracking_id"]
    assert client.post("/api/orders/async-export", json=body).status_code == 400  # one at a time
    sandbox.clock.advance(seconds=30)
    status = client.get(f"/api/orders/async-export/status/{tid}").json()
    assert status["status"] == "COMPLETED"
    assert len(status["urls"]) == 3
    assert status["urls"][0].startswith("https://sandbox.invalid/sandbox/exports/orders/")
    total = sum(len(client.get(u).json()["orders"]) for u in status["urls"])
    assert total == 5


def test_offer_export_honours_megabytes_per_chunk() -> None:
    """OF52 ``megabytes_per_chunk``: no chunk is larger than asked, offers stay in order and
    none is lost (JSON and CSV)."""
    sandbox = MiraklSandbox(enforce_frequencies=False)
    for i in range(6_000):
        sandbox.add_offer(f"SKU-{i:05d}-{'x' * 100}", quantity=i % 7)
    client = sandbox.client(headers={"Authorization": "sandbox-shop-key"})
    for export_type in ("application/json", "text/csv"):
        body = {"export_type": export_type, "megabytes_per_chunk": 1}
        tid = client.post("/api/offers/export/async", json=body).json()["tracking_id"]
        sandbox.clock.advance(seconds=30)
        urls = client.get(f"/api/offers/export/async/status/{tid}").json()["urls"]
        assert len(urls) > 1
        skus: list[str] = []
        for url in urls:
            chunk = client.get(url)
            assert len(chunk.content) <= 1024 * 1024
            if export_type == "application/json":
                skus.extend(row["shop_sku"] for row in chunk.json())
            else:
                lines = chunk.text.splitlines()[1:]
                header = chunk.text.splitlines()[0].split(";")
                col = header.index("shop-sku") if "shop-sku" in header else header.index("sku")
                skus.extend(line.split(";")[col] for line in lines)
        assert skus == sorted(skus)
        assert len(skus) == 6_000
        sandbox.clock.advance(minutes=5)


def test_offer_by_sku_follows_deletes_re_adds_and_dropped_offers() -> None:
    sandbox = MiraklSandbox(enforce_frequencies=False)
    state = sandbox.state
    shop_id = next(iter(state.shops))
    first = state.add_offer(shop_id, "SKU-X", quantity=1)
    assert state.offer_by_sku(shop_id, "SKU-X") is first
    assert state.add_offer(shop_id, "SKU-X", quantity=5) is first  # updated in place
    assert first.quantity == 5
    first.deleted = True
    assert state.offer_by_sku(shop_id, "SKU-X") is None
    second = state.add_offer(shop_id, "SKU-X", quantity=2)
    assert second is not first
    assert state.offer_by_sku(shop_id, "SKU-X") is second
    state.offers.pop(second.offer_id)  # an offer that vanished on the operator's side
    assert state.offer_by_sku(shop_id, "SKU-X") is None
    assert state.offer_by_sku(shop_id, "NOPE") is None
