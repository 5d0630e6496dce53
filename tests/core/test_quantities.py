"""``OfferQuantities`` behaves as the dict of its pairs in every read, built by column."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core import OfferQuantities
from mirakl_sync.core.models import OfferSku

pairs = st.lists(st.tuples(st.text("ABCab-", max_size=3), st.integers(-2, 300)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(pairs=pairs, probes=st.lists(st.text("ABCab-", max_size=3), max_size=5))
def test_reads_as_the_dict_of_its_pairs(pairs: list[tuple[str, int]], probes: list[str]) -> None:
    offers, quantities = [o for o, _ in pairs], [q for _, q in pairs]
    reference = dict(zip(offers, quantities, strict=True))  # first position, last quantity
    got = OfferQuantities(offers, quantities)
    assert len(got) == len(reference)
    assert list(got) == list(reference)
    assert list(got.keys()) == list(reference.keys())
    assert list(got.values()) == list(reference.values())
    assert list(got.items()) == list(reference.items())
    assert got.offers == tuple(reference)
    assert got.quantities == tuple(reference.values())
    assert got.to_dict() == reference
    assert got == reference
    assert reference == got
    assert got == OfferQuantities.from_mapping(reference)
    for probe in [*offers, *probes]:
        assert (probe in got) == (probe in reference)
        assert got.get(OfferSku(probe)) == reference.get(probe)
        assert got.get(OfferSku(probe), "none") == reference.get(probe, "none")
    for q in list(reference.values())[:3]:
        assert q in got.values()
    assert (-3 in got.values()) is False
    assert pickle.loads(pickle.dumps(got)) == got  # noqa: S301 - our own bytes


def test_lookups_build_the_index_once_and_reading_in_order_builds_none() -> None:
    got = OfferQuantities(["B", "A", "C"], [2, 1, 3])
    assert list(got.items()) == [("B", 2), ("A", 1), ("C", 3)]
    assert got._index is None  # iteration and len() read the columns
    assert len(got) == 3
    assert got[OfferSku("A")] == 1
    index = got._lookup()  # built by the lookup above, kept since
    assert index == {"B": 2, "A": 1, "C": 3}
    assert got[OfferSku("C")] == 3
    assert got._lookup() is index
    with pytest.raises(KeyError):
        got[OfferSku("Z")]


def test_equality_order_and_mismatches() -> None:
    a = OfferQuantities(["A", "B"], [1, 2])
    assert a == OfferQuantities(["B", "A"], [2, 1])  # a mapping: order does not matter
    assert a != OfferQuantities(["A", "B"], [1, 3])
    assert a != OfferQuantities(["A"], [1])
    assert a != OfferQuantities(["A", "C"], [1, 2])
    assert a != {"A": 1}
    assert a != [("A", 1), ("B", 2)]
    with pytest.raises(TypeError):
        hash(a)


def test_misaligned_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="2 offers but 1 quantities"):
        OfferQuantities(["A", "B"], [1])


def test_repr_shows_the_first_entries_and_the_count() -> None:
    assert repr(OfferQuantities(["A"], [1])) == "OfferQuantities({'A': 1})"
    many = OfferQuantities([f"O{i:02d}" for i in range(20)], range(20))
    assert repr(many) == (
        "OfferQuantities({'O00': 0, 'O01': 1, 'O02': 2, 'O03': 3, 'O04': 4, 'O05': 5,"
        " 'O06': 6, 'O07': 7, ... (20 offers)})"
    )
