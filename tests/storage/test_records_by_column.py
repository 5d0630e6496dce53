"""``records_by_column`` makes the same frozen records as their constructor, and refuses the
classes and columns it cannot make faithfully."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from itertools import repeat
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync._records import records_by_column
from mirakl_sync.core.discrepancy import Discrepancy
from mirakl_sync.storage.records import PublishedStock

T0 = datetime(2026, 11, 27, tzinfo=UTC)


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.text(max_size=4), st.text(max_size=3), st.integers(), st.integers(0, 9)),
        max_size=6,
    )
)
def test_published_stock_by_column_equals_constructed(
    rows: list[tuple[str, str, int, int]],
) -> None:
    expected = [
        PublishedStock(
            shop="s1",
            offer_sku=sku,
            warehouse=wh,
            quantity=q,
            content_hash="h",
            confirmed_at=T0 + timedelta(minutes=m),
        )
        for sku, wh, q, m in rows
    ]
    got = records_by_column(
        PublishedStock,
        len(rows),
        {
            "shop": repeat("s1"),
            "offer_sku": [r[0] for r in rows],
            "warehouse": [r[1] for r in rows],
            "quantity": [r[2] for r in rows],
            "content_hash": repeat("h"),
            "confirmed_at": [T0 + timedelta(minutes=r[3]) for r in rows],
        },
    )
    assert got == expected
    assert [repr(r) for r in got] == [repr(r) for r in expected]
    assert [hash(r) for r in got] == [hash(r) for r in expected]
    assert [pickle.loads(pickle.dumps(r)) for r in got] == expected  # noqa: S301 - our own bytes
    for record in got:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            record.quantity = 1  # type: ignore[misc]


def _columns(n: int) -> dict[str, list[Any]]:
    return {
        "shop": ["s"] * n,
        "offer_sku": ["A"] * n,
        "warehouse": [""] * n,
        "quantity": [1] * n,
        "content_hash": ["h"] * n,
        "confirmed_at": [T0] * n,
    }


def test_every_field_and_only_fields_must_be_given() -> None:
    columns = _columns(2)
    del columns["warehouse"]
    with pytest.raises(ValueError, match="warehouse"):
        records_by_column(PublishedStock, 2, columns)
    with pytest.raises(ValueError, match="colour"):
        records_by_column(PublishedStock, 2, {**_columns(2), "colour": ["red"] * 2})


def test_a_column_of_another_length_is_refused() -> None:
    columns = _columns(3)
    columns["quantity"] = [1, 2]
    with pytest.raises(ValueError, match="quantity"):
        records_by_column(PublishedStock, 3, columns)
    assert records_by_column(PublishedStock, 0, _columns(0)) == []


def test_classes_it_cannot_make_faithfully_are_refused() -> None:
    @attrs.frozen
    class Checked:
        x: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Converted:
        x: int = attrs.field(converter=int)

    @attrs.frozen
    class PostInit:
        x: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(slots=False)
    class NoSlots:
        x: int

    for cls in (Checked, Converted, PostInit, NoSlots):
        with pytest.raises(TypeError):
            records_by_column(cls, 1, {"x": [1]})
    # The discrepancy record qualifies (its detectors make it by column).
    assert (
        records_by_column(Discrepancy, 0, dict.fromkeys(attrs.fields_dict(Discrepancy), ())) == []
    )
