"""Feed writers and batches: documented column sets, multi-warehouse stock, cancellations,
negative-quantity returns, incrementality, idempotence and resumability."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from mirakl_sync.inventory_planner.feeds import (
    ADVANCED,
    STARTER,
    DirectoryPublisher,
    FeedBatch,
    FeedPurchaseOrderLine,
    FeedState,
    SalesLine,
    StockLevel,
    build_advanced_feed,
    build_starter_feed,
    check_file,
    check_header,
    write_advanced_sales,
    write_advanced_stock,
    write_starter_purchase_orders,
    write_starter_sales,
)
from tests.inventory_planner import feed_data as data


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def written(write: object, *args: object, **kwargs: object) -> str:
    out = io.StringIO()
    write(*args, out, **kwargs)  # type: ignore[operator]
    return out.getvalue()


# -- column sets -------------------------------------------------------------------------------


def test_every_emitted_header_is_exactly_a_documented_set() -> None:
    for spec in (*STARTER.values(), *ADVANCED.values()):
        assert set(spec.required) <= set(spec.emitted), spec.name
        assert set(spec.emitted) <= set(spec.required) | set(spec.optional), spec.name


def test_the_validator_catches_what_ip_would_drop() -> None:
    spec = ADVANCED["sales_order"]
    assert spec.problems([*spec.emitted, "MARKETPLACE"]) == [
        "sales_order: unknown column MARKETPLACE"
    ]
    missing = [c for c in spec.emitted if c != "WAREHOUSE"]
    assert spec.problems(missing) == ["sales_order: missing column WAREHOUSE"]
    assert spec.problems([*spec.emitted, "ID"]) == ["sales_order: duplicate column ID"]
    # Advanced columns are upper case; Starter ones are matched case-insensitively like IP.
    assert spec.problems([c.lower() for c in spec.emitted])
    assert not STARTER["sales_orders"].problems(
        [c.upper() for c in STARTER["sales_orders"].emitted]
    )
    with pytest.raises(ValueError, match="unknown column"):
        check_header(spec, [*spec.emitted, "X"])


def test_starter_sales_file(tmp_path: Path) -> None:
    text = written(write_starter_sales, data.sales())
    assert check_file(STARTER["sales_orders"], text) == []
    assert rows(text) == [
        {
            "order_number": "ORD-1-A",
            "product_id": "P-1",
            "SKU": "SKU-1",
            "date": "2026-03-01",
            "price": "12.50",
            "quantity": "3",
            "currency": "EUR",
            "canceled": "false",
        },
        {
            "order_number": "ORD-1-A",
            "product_id": "SKU-2",
            "SKU": "SKU-2",
            "date": "2026-03-01",
            "price": "30.00",
            "quantity": "1",
            "currency": "EUR",
            "canceled": "true",
        },
        {
            "order_number": "ORD-2-B",
            "product_id": "P-1",
            "SKU": "SKU-1",
            "date": "2026-03-02",
            "price": "11.90",
            "quantity": "1",  # net of the return
            "currency": "EUR",
            "canceled": "false",
        },
    ]


def test_starter_feed_is_a_full_snapshot_and_idempotent(tmp_path: Path) -> None:
    stock = {"SKU-1": 7}
    pos = [
        FeedPurchaseOrderLine(
            po_id="PO-1",
            sku="SKU-1",
            ordered=10,
            received=4,
            date=dt.date(2026, 3, 2),
            status="partially_received",
            vendor="Acme",
            cost_price=Decimal("4.10"),
        )
    ]
    first = build_starter_feed(
        tmp_path / "a",
        products=data.products(),
        stock=stock,
        sales=data.sales(),
        purchase_orders=pos,
    )
    second = build_starter_feed(
        tmp_path / "b",
        products=iter(data.products()),
        stock=stock,
        sales=iter(data.sales()),
        purchase_orders=pos,
    )
    assert [f.name for f in first.files] == [
        "products.csv",
        "sales_orders.csv",
        "purchase_orders.csv",
    ]
    assert [f.sha256 for f in first.files] == [f.sha256 for f in second.files]
    for file in first.files:
        assert check_file(STARTER[file.entity], file.path) == []
    products = rows(first.files[0].path.read_text())
    assert [(p["SKU"], p["stock_quantity"]) for p in products] == [("SKU-1", "7"), ("SKU-2", "0")]
    assert products[1]["title"] == 'Poster "big"'
    assert first.files[1].rows == 3
    assert first.files[2].rows == 1
    assert rows(written(write_starter_purchase_orders, pos))[0]["status"] == "partially_received"


# -- Advanced connector ------------------------------------------------------------------------


def test_advanced_sales_rows_cancellations_and_returns() -> None:
    text = written(write_advanced_sales, data.sales())
    assert check_file(ADVANCED["sales_order"], text) == []
    got = [
        (r["ORDER_ID"], r["ID"], r["WAREHOUSE"], r["QUANTITY"], r["CANCELLED"]) for r in rows(text)
    ]
    assert got == [
        ("ORD-1-A-1", "ORD-1-A", "mirakl-fr", "3", "false"),
        ("ORD-1-A-2", "ORD-1-A", "mirakl-fr", "1", "true"),
        ("ORD-2-B-1", "ORD-2-B", "mirakl-de", "2", "false"),
        ("ORD-2-B-1-RETURN", "ORD-2-B", "mirakl-de", "-1", "false"),
    ]
    last = rows(text)[-1]
    assert last["PRICE"] == "11.90"
    assert last["VARIANT_ID"] == "SKU-1"
    assert last["CREATED_AT"] == "2026-03-02T09:30:00Z"
    assert last["UPDATED_AT"] == "2026-03-04T09:30:00Z"
    assert {r["REMOVED"] for r in rows(text)} == {"false"}


def test_advanced_sales_need_a_warehouse() -> None:
    line = SalesLine(
        order_id="O",
        order_line_id="O-1",
        sku="S",
        created_at=data.T0,
        unit_price=Decimal(1),
        quantity=1,
        currency="EUR",
    )
    with pytest.raises(ValueError, match="no warehouse"):
        written(write_advanced_sales, [line])
    text = written(write_advanced_sales, [line], default_warehouse="wh")
    assert rows(text)[0]["WAREHOUSE"] == "wh"


def test_multi_warehouse_stock() -> None:
    text = written(write_advanced_stock, data.stock(), as_of=data.AS_OF)
    assert check_file(ADVANCED["variant_warehouse"], text) == []
    assert [(r["VARIANT_ID"], r["WAREHOUSE_ID"], r["IN_STOCK"]) for r in rows(text)] == [
        ("SKU-1", "mirakl-fr", "7"),
        ("SKU-1", "mirakl-de", "2.5"),
        ("SKU-2", "mirakl-fr", "-1"),
    ]
    assert {r["UPDATED_AT"] for r in rows(text)} == {"2026-03-05T02:00:00Z"}


def test_only_changed_rows_are_written_and_vanished_stock_is_removed() -> None:
    out = io.StringIO()
    first = write_advanced_stock(data.stock(), out, as_of=data.AS_OF)
    assert first.rows == 3
    changed = [
        StockLevel(sku="SKU-1", warehouse="mirakl-fr", quantity=5),  # changed
        StockLevel(sku="SKU-1", warehouse="mirakl-de", quantity=Decimal("2.5")),  # same
    ]  # SKU-2 @ mirakl-fr vanished
    text = written(write_advanced_stock, changed, as_of=data.AS_OF, previous=first.fingerprints)
    assert [
        (r["VARIANT_ID"], r["WAREHOUSE_ID"], r["IN_STOCK"], r["REMOVED"]) for r in rows(text)
    ] == [
        ("SKU-1", "mirakl-fr", "5", "false"),
        ("SKU-2", "mirakl-fr", "0", "true"),
    ]


def test_sales_since_and_fingerprints() -> None:
    out = io.StringIO()
    first = write_advanced_sales(data.sales(), out)
    again = write_advanced_sales(data.sales(), io.StringIO(), previous=first.fingerprints)
    assert again.rows == 0
    # A line gets cancelled and the return grows: only those rows go again.
    lines = data.sales()
    lines[0] = attrs.evolve(lines[0], canceled=True)
    lines[2] = attrs.evolve(lines[2], returned_quantity=2)
    text = written(write_advanced_sales, lines, previous=first.fingerprints)
    assert [(r["ORDER_ID"], r["QUANTITY"], r["CANCELLED"]) for r in rows(text)] == [
        ("ORD-1-A-1", "3", "true"),
        ("ORD-2-B-1-RETURN", "-2", "false"),
    ]
    # since: only lines changed at/after the date.
    text = written(write_advanced_sales, data.sales(), since=data.T0 + dt.timedelta(days=2))
    assert [r["ORDER_ID"] for r in rows(text)] == ["ORD-2-B-1", "ORD-2-B-1-RETURN"]


def test_an_undone_return_removes_its_row() -> None:
    first = write_advanced_sales(data.sales(), io.StringIO())
    lines = data.sales()
    lines[2] = attrs.evolve(lines[2], returned_quantity=0)
    text = written(write_advanced_sales, lines, previous=first.fingerprints)
    got = [(r["ORDER_ID"], r["REMOVED"]) for r in rows(text)]
    assert got == [("ORD-2-B-1-RETURN", "true")]


def test_records_validate_their_input() -> None:
    base = data.sales()[0]
    with pytest.raises(ValueError, match="quantity"):
        attrs.evolve(base, quantity=0)
    with pytest.raises(ValueError, match="more returned"):
        attrs.evolve(base, returned_quantity=9)
    with pytest.raises(ValueError, match="timezone-aware"):
        attrs.evolve(base, created_at=dt.datetime(2026, 1, 1))


def _advanced(tmp: Path, state: FeedState | None = None, **overrides: object) -> FeedBatch:
    inputs: dict[str, object] = {
        "warehouses": data.warehouses(),
        "products": data.products(),
        "stock": data.stock(),
        "sales": data.sales(),
    }
    inputs.update(overrides)
    return build_advanced_feed(tmp, as_of=data.AS_OF, state=state, **inputs)  # type: ignore[arg-type]


def test_advanced_batch_order_names_and_idempotence(tmp_path: Path) -> None:
    first = _advanced(tmp_path / "a")
    second = _advanced(tmp_path / "b")
    assert [f.entity for f in first.files] == [
        "warehouse",
        "variant",
        "variant_warehouse",
        "sales_order",
    ]
    assert [f.name for f in first.files] == [f.name for f in second.files]
    assert [f.path.read_bytes() for f in first.files] == [f.path.read_bytes() for f in second.files]
    assert len({f.name for f in first.files}) == 4
    assert first.files[3].name.startswith("mirakl-sales_order-20260305T020000Z-")
    for file in first.files:
        assert check_file(ADVANCED[file.entity], file.path) == [], file.entity
    assert FeedState.from_json(first.state.to_json()) == first.state
    # Nothing changed: no file at all (IP wants none).
    assert _advanced(tmp_path / "c", first.state).files == ()
    # Skipped inputs keep their fingerprints.
    partial = _advanced(tmp_path / "d", first.state, warehouses=None, products=None)
    assert partial.state.fingerprints["warehouse"] == first.state.fingerprints["warehouse"]


class FlakyPublisher:
    """Publishes through a DirectoryPublisher but fails on the n-th file."""

    def __init__(self, root: Path, fail_at: int) -> None:
        self.inner = DirectoryPublisher(root)
        self.fail_at = fail_at

    def publish(self, batch: FeedBatch) -> list[str]:
        done: list[str] = []
        for index, file in enumerate(batch.files):
            if index == self.fail_at:
                raise ConnectionError("link lost")
            done += self.inner.publish(FeedBatch((file,)))
        return done


def test_a_failed_publish_loses_nothing(tmp_path: Path) -> None:
    store: dict[str, FeedState] = {}

    def run(publisher: DirectoryPublisher | FlakyPublisher, stage: str) -> FeedBatch:
        batch = _advanced(tmp_path / stage, store.get("state"))
        publisher.publish(batch)
        store["state"] = batch.state  # committed only after delivery
        return batch

    with pytest.raises(ConnectionError):
        run(FlakyPublisher(tmp_path / "remote", fail_at=2), "run1")
    assert "state" not in store
    retry = run(DirectoryPublisher(tmp_path / "remote"), "run2")
    assert retry.rows == 2 + 2 + 3 + 4  # everything is resent
    published = sorted(
        p.relative_to(tmp_path / "remote").as_posix() for p in (tmp_path / "remote").rglob("*.csv")
    )
    assert len(published) == 4  # same content-addressed names: the early files were replaced
    assert run(DirectoryPublisher(tmp_path / "remote"), "run3").files == ()


def test_directory_publisher_is_atomic_and_uses_subdirectories(tmp_path: Path) -> None:
    batch = _advanced(tmp_path / "stage")
    publisher = DirectoryPublisher(tmp_path / "out", subdirectories={"sales_order": "sales_orders"})
    paths = publisher.publish(batch)
    assert Path(paths[-1]).parent.name == "sales_orders"
    assert Path(paths[0]).parent.name == "warehouse"
    assert not list((tmp_path / "out").rglob(".publishing-*"))
    starter = build_starter_feed(
        tmp_path / "s", products=data.products(), stock={}, sales=data.sales()
    )
    assert DirectoryPublisher(tmp_path / "out2").publish(starter) == [
        str(tmp_path / "out2" / "products.csv"),
        str(tmp_path / "out2" / "sales_orders.csv"),
    ]


def test_writers_stream(tmp_path: Path) -> None:
    """The writers consume a generator lazily: rows reach the stream before the input ends."""
    seen: list[int] = []
    out = io.StringIO()

    def lines() -> Iterator[SalesLine]:
        for i in range(3):
            seen.append(len(out.getvalue().splitlines()))
            yield SalesLine(
                order_id=f"O{i}",
                order_line_id=f"O{i}-1",
                sku="S",
                created_at=data.T0,
                unit_price=Decimal("1.5"),
                quantity=1,
                currency="EUR",
            )

    write_starter_sales(lines(), out)
    assert seen == [1, 2, 3]  # header, then one more row before each next record


def test_since_only_mode_keeps_no_fingerprints() -> None:
    out = io.StringIO()
    result = write_advanced_sales(
        data.sales(), out, since=data.T0 + dt.timedelta(days=2), fingerprints=False
    )
    assert result.rows == 2
    assert result.fingerprints == {}
