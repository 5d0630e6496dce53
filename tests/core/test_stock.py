from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core import OfferQuantities
from mirakl_sync.core.mapping import MappingEntry, SkuMap, SkuRule
from mirakl_sync.core.models import GLOBAL_WAREHOUSE, ItemSku, OfferSku, WarehouseCode
from mirakl_sync.core.stock import (
    StockDelta,
    StockPolicy,
    publishable_by_warehouse,
    publishable_quantities,
    publishable_quantity,
    resolve_and_publish,
    single_pool,
    stock_delta,
    stock_hash,
)

It = ItemSku
Of = OfferSku
W = WarehouseCode


@pytest.mark.parametrize(
    ("components", "available", "reserved", "buffer", "cap", "expected"),
    [
        (((It("A"), 1),), {"A": 10}, {}, 0, None, 10),
        (((It("A"), 1),), {"A": 10}, {"A": 3}, 2, None, 5),
        (((It("A"), 6),), {"A": 13}, {}, 0, None, 2),  # floor(13 / 6)
        (((It("A"), 6),), {"A": 13}, {}, 2, None, 1),  # floor(11 / 6)
        (((It("A"), 1), (It("B"), 2)), {"A": 10, "B": 7}, {}, 0, None, 3),  # bundle: min
        (((It("A"), 1), (It("B"), 2)), {"A": 10}, {}, 0, None, 0),  # missing component
        (((It("A"), 1),), {"A": 2}, {"A": 5}, 0, None, 0),  # clamped at 0
        (((It("A"), 1),), {"A": 200}, {}, 0, 50, 50),  # clamped at max_published
        ((), {}, {}, 0, None, 0),
    ],
)
def test_publishable_quantity_table(
    components: tuple[tuple[ItemSku, int], ...],
    available: dict[ItemSku, int],
    reserved: dict[ItemSku, int],
    buffer: int,
    cap: int | None,
    expected: int,
) -> None:
    got = publishable_quantity(
        components, available, reserved, safety_buffer=buffer, max_published=cap
    )
    assert got == expected


def test_policy_marketplace_buffers_and_warehouses() -> None:
    m = SkuMap(items=["A", "B"])
    table = m.resolve_many(["A", "B"], "conrad")
    policy = StockPolicy(safety_buffer=1, marketplace_buffers={"conrad": 3})
    assert policy.buffer_for("conrad") == 3
    assert policy.buffer_for("other") == 1
    assert policy.buffer_for(None) == 1
    got = publishable_by_warehouse(
        table,
        {GLOBAL_WAREHOUSE: {It("A"): 10, It("B"): 2}, W("WH1"): {It("A"): 4}},
        reserved_by_warehouse={W("WH1"): {It("A"): 1}},
        policy=policy,
    )
    assert got == {"": {"A": 7, "B": 0}, "WH1": {"A": 0, "B": 0}}


def test_delta_basics_and_hash() -> None:
    last = {GLOBAL_WAREHOUSE: {Of("A"): 1, Of("B"): 2, Of("GONE"): 9}}
    target = {GLOBAL_WAREHOUSE: {Of("A"): 1, Of("B"): 3, Of("NEW"): 0}, W("WH"): {Of("A"): 4}}
    d = stock_delta(target, last)
    assert d.lines == (("", "B", 3), ("", "NEW", 0), ("WH", "A", 4))
    assert len(d) == 3
    assert not d.is_empty
    applied = d.apply(last)
    assert applied[GLOBAL_WAREHOUSE][Of("GONE")] == 9  # quarantined offers are not zeroed
    assert d.by_warehouse() == {"": {"B": 3, "NEW": 0}, "WH": {"A": 4}}
    assert d.content_hash == stock_hash(list(reversed(d.lines)))
    assert len(d.content_hash) == 64
    assert stock_delta(target, target).is_empty
    assert "StockDelta 3 line(s)" in repr(d)
    assert d.to_records()[0] == {"warehouse": "", "offer_sku": "B", "quantity": 3}
    assert "<table>" in d._repr_html_()
    assert single_pool({Of("A"): 1}) == {"": {"A": 1}}


def test_hash_separates_fields() -> None:
    a = stock_hash([(W(""), Of("ab"), 1)])
    b = stock_hash([(W("a"), Of("b"), 1)])
    assert a != b


# ------------------------------------------------------------------ properties

items_st = st.lists(st.sampled_from(["A", "B", "C", "D", "E"]), unique=True, min_size=1)


@st.composite
def catalogues(draw: st.DrawFn) -> tuple[SkuMap, list[str], dict[ItemSku, int], dict[ItemSku, int]]:
    items = draw(items_st)
    entries = []
    offers = [*list(items), "a", "zz", "P-" + items[0]]
    for n in range(draw(st.integers(0, 4))):
        offer = f"X{n}"
        comps = draw(
            st.dictionaries(st.sampled_from(items), st.integers(1, 5), min_size=1, max_size=3)
        )
        entries.append(MappingEntry.bundle(offer, comps))
        offers.append(offer)
    available = {It(i): draw(st.integers(-5, 60)) for i in items}
    reserved = {It(i): draw(st.integers(0, 10)) for i in items if draw(st.booleans())}
    m = SkuMap(entries, items=available, rules=[SkuRule(name="p", prefix="P-")])
    return m, offers, available, reserved


@settings(max_examples=200, deadline=None)
@given(
    cat=catalogues(),
    buffer=st.integers(0, 5),
    cap=st.none() | st.integers(0, 40),
)
def test_published_never_exceeds_safely_available(
    cat: tuple[SkuMap, list[str], dict[ItemSku, int], dict[ItemSku, int]],
    buffer: int,
    cap: int | None,
) -> None:
    m, offers, available, reserved = cat
    policy = StockPolicy(safety_buffer=buffer, max_published=cap)
    table = m.resolve_many(offers)
    got = publishable_quantities(table, available, reserved=reserved, policy=policy)
    # the fused path gives the same answer, with the catalogue as items and without
    t2, fused = resolve_and_publish(m, offers, available, reserved=reserved, policy=policy)
    assert fused == got
    assert t2 == table
    other = SkuMap(items=set(available), rules=[SkuRule(name="p", prefix="P-")])
    _, plain = resolve_and_publish(other, offers, dict(available), reserved=reserved, policy=policy)
    assert plain == publishable_quantities(
        other.resolve_many(offers), available, reserved=reserved, policy=policy
    )
    assert set(got) == set(table.singles) | set(table.packs) | set(table.bundles)
    for offer, q in got.items():
        comps = table.components(offer)
        assert comps is not None
        assert q >= 0
        if cap is not None:
            assert q <= cap
        for item, k in comps:
            safe = available.get(item, 0) - reserved.get(item, 0) - buffer
            assert q * k <= max(safe, 0)
        assert q == publishable_quantity(
            comps, available, reserved, safety_buffer=buffer, max_published=cap
        )


states = st.dictionaries(
    st.sampled_from([W(""), W("WH1"), W("WH2")]),
    st.dictionaries(st.sampled_from([Of(x) for x in "abcdef"]), st.integers(0, 9), max_size=6),
    max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(target=states, last=states)
def test_delta_applied_to_last_gives_target(
    target: dict[WarehouseCode, dict[OfferSku, int]],
    last: dict[WarehouseCode, dict[OfferSku, int]],
) -> None:
    d = stock_delta(target, last)
    by_column = {wh: OfferQuantities.from_mapping(pool) for wh, pool in target.items()}
    assert stock_delta(by_column, last) == d  # a target held by column
    applied = d.apply(last)
    for wh, pool in target.items():
        for offer, q in pool.items():
            assert applied[wh][offer] == q
    # only changed offers, each once, with absolute quantities
    keys = [(w, o) for w, o, _ in d.lines]
    assert len(keys) == len(set(keys))
    for w, o, q in d.lines:
        assert last.get(w, {}).get(o) != q
    # nothing changed -> empty delta
    assert stock_delta(applied, applied).is_empty
    assert stock_delta(target, d.apply(last)).is_empty
    # deterministic and order-independent
    again = stock_delta(dict(reversed(list(target.items()))), last)
    assert again.content_hash == d.content_hash
    assert isinstance(again, StockDelta)


@settings(max_examples=200, deadline=None)
@given(target=states, last=states)
def test_columnar_delta_equals_the_line_reference(
    target: dict[WarehouseCode, dict[OfferSku, int]],
    last: dict[WarehouseCode, dict[OfferSku, int]],
) -> None:
    """``stock_delta`` keeps its lines by column; every view of it equals the per-line
    reference (sorted tuples of the changed offers, hashed by ``stock_hash``)."""
    reference = sorted(
        (w, o, q)
        for w, pool in target.items()
        for o, q in pool.items()
        if last.get(w, {}).get(o) != q
    )
    d = stock_delta(target, last)
    assert len(d) == len(reference)
    assert list(d.iter_lines()) == reference
    assert d.to_records() == [
        {"warehouse": w, "offer_sku": o, "quantity": q} for w, o, q in reference
    ]
    assert d.content_hash == stock_hash(reference)
    by_line = StockDelta(lines=reference, content_hash=stock_hash(reference))
    assert d.by_warehouse() == by_line.by_warehouse()
    assert d.apply(last) == by_line.apply(last)
    assert d.lines == tuple(reference)
    assert d == by_line
    assert hash(d) == hash(by_line)
    assert repr(d) == repr(by_line)


def test_stock_delta_is_immutable_and_pickles() -> None:
    import pickle

    d = stock_delta({W(""): {Of("B"): 2, Of("A"): 1}}, {W(""): {Of("A"): 1}})
    with pytest.raises(AttributeError):
        d.content_hash = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.extra = 1  # type: ignore[attr-defined]
    copy = pickle.loads(pickle.dumps(d))  # noqa: S301 - our own bytes
    assert copy == d
    assert copy.lines == ((W(""), Of("B"), 2),)
    assert StockDelta.from_columns([]).is_empty
    assert StockDelta.from_columns([]).content_hash == stock_hash([])


def test_delta_from_columns_sorts_and_checks_its_input() -> None:
    ordered = StockDelta.from_columns([("", ["A", "B"], [1, 2]), ("WH", ["C"], [3])])
    shuffled = StockDelta.from_columns([("WH", ["C"], [3]), ("", ["B", "A"], [2, 1])])
    assert shuffled == ordered
    assert shuffled.lines == ((W(""), Of("A"), 1), (W(""), Of("B"), 2), (W("WH"), Of("C"), 3))
    assert shuffled.content_hash == stock_hash(list(ordered.lines))
    with pytest.raises(ValueError, match="listed twice"):
        StockDelta.from_columns([("", ["A", "A"], [1, 2])])
    with pytest.raises(ValueError, match="warehouse is listed twice"):
        StockDelta.from_columns([("WH", ["A"], [1]), ("", ["B"], [1]), ("WH", ["C"], [1])])
    with pytest.raises(ValueError, match="2 offers but 1 quantities"):
        StockDelta.from_columns([("", ["A", "B"], [1])])
