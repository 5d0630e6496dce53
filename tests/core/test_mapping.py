from __future__ import annotations

import io
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core.mapping import (
    MappingEntry,
    MappingTableError,
    Normalisation,
    Resolved,
    SkuMap,
    SkuRule,
    Unresolved,
    UnresolvedReason,
)
from mirakl_sync.core.models import OfferSku

ITEMS = ["ABC-1", "XYZ-2", "dup", "DUP ", "LONG-ITEM"]


def comps(res: Resolved | Unresolved) -> tuple[tuple[str, int], ...]:
    assert isinstance(res, Resolved), res
    return res.compact()


def make_map() -> SkuMap:
    return SkuMap(
        [
            MappingEntry.single("PACK-6", "ABC-1", pack_size=6),
            MappingEntry.bundle("KIT", {"ABC-1": 1, "XYZ-2": 2}),
            MappingEntry.single("CONF", "ABC-1"),
            MappingEntry.single("CONF", "XYZ-2"),
            MappingEntry.single("MP-ONLY", "XYZ-2", marketplace="conrad"),
            MappingEntry.single("ab", "ABC-1"),
            MappingEntry.single("AB", "XYZ-2"),
        ],
        items=ITEMS,
        rules=[
            SkuRule(name="conrad-prefix", marketplace="conrad", prefix="CO-"),
            SkuRule(name="six-pack", suffix="-6PK", pack_size=6),
            SkuRule(name="long", prefix="LONG-"),
        ],
    )


@pytest.mark.parametrize(
    ("offer", "marketplace", "expected"),
    [
        ("ABC-1", None, (("ABC-1", 1),)),
        ("abc-1", None, (("ABC-1", 1),)),  # case folded
        ("  ABC-1 ", None, (("ABC-1", 1),)),  # whitespace stripped
        ("PACK-6", None, (("ABC-1", 6),)),  # explicit multipack
        ("pack-6", None, (("ABC-1", 6),)),  # explicit, normalised
        ("KIT", None, (("ABC-1", 1), ("XYZ-2", 2))),  # bundle
        ("CO-XYZ-2", "conrad", (("XYZ-2", 1),)),  # marketplace prefix rule
        ("XYZ-2-6PK", None, (("XYZ-2", 6),)),  # multipack rule
        ("MP-ONLY", "conrad", (("XYZ-2", 1),)),  # marketplace-specific entry
        ("ab", None, (("ABC-1", 1),)),  # exact raw entry wins over the ambiguous key
        ("ITEM", None, UnresolvedReason.UNMAPPED),  # "LONG-" strips nothing that exists
        ("CO-XYZ-2", None, UnresolvedReason.UNMAPPED),  # prefix rule only on conrad
        ("MP-ONLY", None, UnresolvedReason.UNMAPPED),
        ("nope", None, UnresolvedReason.UNMAPPED),
        ("CONF", None, UnresolvedReason.CONFLICTING_RULES),  # two explicit entries
        ("Ab", None, UnresolvedReason.AMBIGUOUS),  # "ab" and "AB" both normalise to it
        ("DUP", None, UnresolvedReason.AMBIGUOUS),  # items "dup" and "DUP " collide
        ("LONG-ITEM", None, UnresolvedReason.CONFLICTING_RULES),  # identity vs "LONG-" -> ITEM?
    ],
)
def test_resolve_table(
    offer: str, marketplace: str | None, expected: tuple[tuple[str, int], ...] | UnresolvedReason
) -> None:
    m = make_map()
    if offer == "LONG-ITEM":  # give the "long" rule something to find: now two rules match
        m = SkuMap(items=[*ITEMS, "ITEM"], rules=[SkuRule(name="long", prefix="LONG-")])
    res = m.resolve(offer, marketplace)
    if isinstance(expected, UnresolvedReason):
        assert isinstance(res, Unresolved)
        assert res.reason is expected
        assert res.offer_sku == offer
        assert res.detail
    else:
        assert isinstance(res, Resolved)
        assert res.compact() == expected
        assert res.offer_sku == offer


def test_resolved_properties_and_source() -> None:
    m = make_map()
    single = m.resolve("abc-1")
    assert isinstance(single, Resolved)
    assert single.item == "ABC-1"
    assert single.pack_size == 1
    assert not single.is_bundle
    assert single.source == "rule:identity"
    kit = m.resolve("KIT")
    assert isinstance(kit, Resolved)
    assert kit.is_bundle
    assert kit.item is None
    assert kit.pack_size == 1
    assert kit.source == "explicit"
    assert m.resolve("pack-6").source == "explicit-normalised"  # type: ignore[union-attr]
    assert m.resolve("CO-XYZ-2", "conrad").source == "rule:conrad-prefix"  # type: ignore[union-attr]


def test_resolve_many_matches_resolve_and_partitions() -> None:
    m = make_map()
    offers = ["ABC-1", "abc-1", "PACK-6", "KIT", "CO-XYZ-2", "nope", "CONF", "Ab", "DUP", "XYZ-2"]
    table = m.resolve_many(offers, "conrad")
    assert len(table) == len(offers)
    for o in offers:
        one = m.resolve(o, "conrad")
        got = table.get(OfferSku(o))
        assert got is not None
        if isinstance(one, Resolved):
            assert isinstance(got, Resolved)
            assert got.compact() == one.compact()
        else:
            assert got == one
        assert o in table
    assert table.singles == {
        "ABC-1": "ABC-1",
        "abc-1": "ABC-1",
        "CO-XYZ-2": "XYZ-2",
        "XYZ-2": "XYZ-2",
    }
    assert table.packs == {"PACK-6": ("ABC-1", 6)}
    assert set(table.bundles) == {"KIT"}
    assert set(table.unresolved) == {"nope", "CONF", "Ab", "DUP"}
    assert table.components(OfferSku("missing")) is None
    assert table.get(OfferSku("missing")) is None
    assert "MappingTable" in repr(table)


def test_items_may_be_a_mapping_used_without_copy() -> None:
    available = {"A": 3, "b": 1}
    m = SkuMap(items=available)
    assert m.items is available
    assert comps(m.resolve("a")) == (("A", 1),)
    assert comps(m.resolve("B")) == (("b", 1),)


def test_identity_can_be_disabled() -> None:
    m = SkuMap(items=["A"], identity=False)
    res = m.resolve("A")
    assert isinstance(res, Unresolved)
    assert res.reason is UnresolvedReason.UNMAPPED


def test_whitespace_modes() -> None:
    assert Normalisation(whitespace="collapse").apply("  a   b ") == "a b"
    assert Normalisation(whitespace="remove").apply(" a b\tc ") == "abc"
    assert Normalisation(whitespace="keep", fold_case=False).apply(" A ") == " A "
    modes: list[Literal["keep", "strip", "collapse", "remove"]] = [
        "keep",
        "strip",
        "collapse",
        "remove",
    ]
    for mode in modes:
        n = Normalisation(whitespace=mode)
        samples = [" A  b ", "x", "\tY\n"]
        assert n.apply_many(samples) == [n.apply(x) for x in samples]


def test_from_csv_and_records_and_dict() -> None:
    text = (
        "offer_sku,item_sku,quantity,marketplace\n"
        "P6,ABC-1,6,\n"
        "KIT,ABC-1,1,\n"
        "KIT,XYZ-2,2,\n"
        "CO-ONLY,XYZ-2,,conrad\n"
    )
    m1 = SkuMap.from_csv(text, items=ITEMS)
    m2 = SkuMap.from_csv(io.StringIO(text.replace(",", ";")), delimiter=";", items=ITEMS)
    m3 = SkuMap.from_dict({"P6": ("ABC-1", 6), "KIT": {"ABC-1": 1, "XYZ-2": 2}}, items=ITEMS)
    for m in (m1, m2, m3):
        assert m.resolve("P6").compact() == (("ABC-1", 6),)  # type: ignore[union-attr]
        assert m.resolve("KIT").compact() == (("ABC-1", 1), ("XYZ-2", 2))  # type: ignore[union-attr]
    assert m1.resolve("CO-ONLY", "conrad").compact() == (("XYZ-2", 1),)  # type: ignore[union-attr]
    assert isinstance(m1.resolve("CO-ONLY"), Unresolved)
    m4 = SkuMap.from_records([{"offer_sku": "X", "item_sku": "ABC-1"}], items=ITEMS)
    assert m4.resolve("X").compact() == (("ABC-1", 1),)  # type: ignore[union-attr]
    m5 = SkuMap.from_dict({"X": "XYZ-2"}, marketplace="conrad")
    assert m5.resolve("X", "conrad").compact() == (("XYZ-2", 1),)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("offer,item_sku\nA,B\n", "lacks column"),
        ("offer_sku,item_sku\n,B\n", "required"),
        ("offer_sku,item_sku,quantity\nA,B,x\n", "not an integer"),
        ("offer_sku,item_sku,quantity\nA,B,0\n", ">= 1"),
        ("offer_sku,item_sku\nA,B\nA,B\n", "listed twice"),
    ],
)
def test_bad_csv(text: str, message: str) -> None:
    with pytest.raises(MappingTableError, match=message):
        SkuMap.from_csv(text)


def test_bad_entries() -> None:
    with pytest.raises(MappingTableError):
        MappingEntry.single("A", "B", pack_size=0)
    with pytest.raises(MappingTableError):
        MappingEntry.bundle("A", {})
    with pytest.raises(MappingTableError):
        SkuRule(name="x", pack_size=0)


# ------------------------------------------------------------------ property: never dropped

sku = st.text(alphabet="abAB12-_ ", min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(sku, max_size=12),
    explicit=st.dictionaries(sku, st.tuples(sku, st.integers(1, 4)), max_size=6),
    offers=st.lists(sku, max_size=25),
    prefix=st.sampled_from(["", "a", "B-"]),
)
def test_every_offer_is_mapped_exactly_or_reported(
    items: list[str], explicit: dict[str, tuple[str, int]], offers: list[str], prefix: str
) -> None:
    rules = [SkuRule(name="p", prefix=prefix)] if prefix else []
    m = SkuMap.from_dict(dict(explicit), items=items, rules=rules)
    table = m.resolve_many(offers)
    for o in offers:
        found = [
            o in table.singles,
            o in table.packs,
            o in table.bundles,
            o in table.unresolved,
        ]
        assert sum(found) == 1, o
        one = m.resolve(o)
        if isinstance(one, Resolved):
            assert table.components(OfferSku(o)) == one.compact()
            known = set(items) | {t[0] for t in explicit.values()}
            for item, _ in one.compact():
                assert item in known
        else:
            assert table.unresolved[OfferSku(o)].reason is one.reason
    assert len(table) == len(set(offers))


@settings(max_examples=300, deadline=None)
@given(
    skus=st.one_of(
        st.lists(st.text("ABcd-_.09", max_size=6), min_size=60, max_size=80),
        st.lists(
            st.one_of(
                st.text("ABcd-_.09", max_size=6),
                st.text("Ab \t\n\r\x0b\x1fé\u00a0ß", max_size=4),
            ),
            min_size=60,
            max_size=80,
        ),
    ),
    whitespace=st.sampled_from(["keep", "strip", "collapse", "remove"]),
    fold_case=st.booleans(),
)
def test_apply_many_equals_apply(
    skus: list[str],
    whitespace: Literal["keep", "strip", "collapse", "remove"],
    fold_case: bool,
) -> None:
    """Catalogue-sized lists, clean (ASCII without whitespace) or not (whitespace, newlines
    inside a SKU, non-ASCII letters), give what apply() gives SKU by SKU."""
    n = Normalisation(whitespace=whitespace, fold_case=fold_case)
    assert n.apply_many(skus) == [n.apply(x) for x in skus]
