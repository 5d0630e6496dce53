"""The fast paths of the core give exactly what their reference (slow, obvious) paths give.

* ``SkuMap._resolve`` in bulk (C-level identity pass, suspects found on the item side) versus
  ``bulk=False`` (every offer resolved one by one), cold and with the full normalised index;
* ``_explicit_tables`` (``dict(zip(...))``) versus ``_explicit_tables_grouped``;
* ``resolve_and_publish`` versus ``publishable_quantities`` over the one-by-one table;
* ``stock_hash`` versus the per-line formula; ``sort_discrepancies`` versus ``sorted`` on
  ``(-rank, key)``; the stock and UNMAPPED_SKU findings versus records built by ``discrepancy()``.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mirakl_sync.core import OfferQuantities
from mirakl_sync.core import mapping as mapping_module
from mirakl_sync.core.discrepancy import (
    KIND_DEFAULTS,
    Discrepancy,
    DiscrepancyKind,
    FindingColumns,
    Severity,
    Thresholds,
    discrepancy,
    sort_discrepancies,
)
from mirakl_sync.core.mapping import (
    MappingEntry,
    MappingTable,
    Normalisation,
    SkuMap,
    SkuRule,
    _CatalogueKeys,
    _explicit_tables,
    _explicit_tables_grouped,
)
from mirakl_sync.core.models import ItemSku, OfferSku, WarehouseCode
from mirakl_sync.core.reconcile import (
    Snapshots,
    StockComparison,
    _stock_findings,
    compare_stock,
    detect_unmapped_skus,
)
from mirakl_sync.core.stock import (
    StockPolicy,
    publishable_by_warehouse,
    publishable_quantities,
    publishable_quantity,
    resolve_and_publish,
    stock_hash,
)

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
K = DiscrepancyKind

# Small alphabets so that case, whitespace, prefixes and suffixes collide often.
sku = st.text(alphabet="abAB1-_ ", min_size=1, max_size=5)
marketplaces = st.sampled_from([None, "mkp", "other"])


@st.composite
def entries_st(draw: st.DrawFn, items: list[str]) -> list[MappingEntry]:
    out: list[MappingEntry] = []
    targets = items or ["ZZ"]
    for _ in range(draw(st.integers(0, 8))):
        offer = draw(sku)
        mp = draw(marketplaces)
        if draw(st.booleans()):
            item = draw(st.sampled_from(targets))
            out.append(
                MappingEntry.single(offer, item, pack_size=draw(st.integers(1, 3)), marketplace=mp)
            )
        else:
            comps = draw(
                st.dictionaries(st.sampled_from(targets), st.integers(1, 3), min_size=1, max_size=3)
            )
            out.append(MappingEntry.bundle(offer, comps, marketplace=mp))
    return out


rules_st = st.lists(
    st.builds(
        SkuRule,
        name=st.sampled_from(["r1", "r2", "r3"]),
        marketplace=marketplaces,
        prefix=st.sampled_from(["", "a", "B-", "ab"]),
        suffix=st.sampled_from(["", "-1", "b"]),
        pack_size=st.integers(1, 3),
    ),
    max_size=3,
)
normalisations = st.sampled_from(
    [
        Normalisation(),
        Normalisation(whitespace="keep", fold_case=False),
        Normalisation(whitespace="remove"),
        Normalisation(whitespace="collapse", fold_case=False),
    ]
)


def _exact_ambiguous(items: list[str], offers: list[str], norm: Normalisation) -> bool:
    """An offer equal to an item whose normalised key another item shares.

    Known, pre-existing difference (not a fast-path change): the bulk pass (used whenever every
    rule has a prefix or suffix, and by ``resolve``) lets the exact match win, as documented; the
    one-by-one path reports AMBIGUOUS. Those inputs are left out of the comparison."""
    keys = norm.apply_many(items)
    shared = {k for k in keys if k and keys.count(k) > 1}
    return any(o in items and norm.apply(o) in shared for o in offers)


def _same_table(a: MappingTable, b: MappingTable) -> None:
    assert a.singles == b.singles
    assert a.packs == b.packs
    assert a.bundles == b.bundles
    assert a.unresolved == b.unresolved  # Unresolved records, details and candidates included
    assert a == b


# Item catalogues of one shape (upper- or lower-case ASCII without whitespace: the scans of
# _CatalogueKeys without a key per item) or of any.
item_alphabets = st.sampled_from(["AB1-_", "ab1-_", "abAB1-_ ", "aBé ß1"])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_bulk_resolution_equals_one_by_one(data: st.DataObject) -> None:
    with pytest.MonkeyPatch.context() as mp:
        # Every catalogue size takes the shape-checked scans (they start at 64 items).
        mp.setattr(mapping_module, "_SHAPE_MIN", data.draw(st.sampled_from([0, 64])))
        # And one-shape catalogues look the wanted keys up whatever their number.
        mp.setattr(mapping_module, "_LOOKUP_SHARE", data.draw(st.sampled_from([0, 4])))
        _check_bulk_resolution(data)


def _check_bulk_resolution(data: st.DataObject) -> None:
    alphabet = data.draw(item_alphabets)
    items = data.draw(
        st.lists(st.text(alphabet=alphabet, min_size=1, max_size=5), max_size=10, unique=True)
        | st.lists(sku, max_size=10, unique=True)
    )
    entries = data.draw(entries_st(items))
    # Items that differ from an entry's offer SKU by case or whitespace only: an offer equal to
    # such an item is mapped by the normalised entry, not by identity.
    for e in entries:
        twin = data.draw(st.sampled_from([None, e.offer_sku.swapcase(), e.offer_sku + " "]))
        if twin is not None and twin not in items:
            items.append(twin)
    rules = data.draw(rules_st)
    norm = data.draw(normalisations)
    mp = data.draw(marketplaces)
    # Offers: exact items (the bulk majority), variants of them, prefixed/suffixed ones, noise.
    variants = [
        *items,
        *(i.lower() for i in items),
        *(" " + i for i in items),
        *("B-" + i for i in items),
        *(i + "-1" for i in items),
        *(e.offer_sku for e in entries),
    ]
    offer_st = st.sampled_from(variants) | sku if variants else sku
    offers = data.draw(st.lists(offer_st, max_size=30))
    available = {ItemSku(i): data.draw(st.integers(-3, 9)) for i in items}
    assume(not _exact_ambiguous(items, offers, norm))

    cold = SkuMap(entries, items=available, rules=rules, normalisation=norm)
    reference, _ = cold._resolve(list(offers), mp, None, bulk=False)
    bulk, _ = cold._resolve(list(offers), mp, None)
    _same_table(bulk, reference)
    # With the availability as the lookup: values are None exactly where the bulk pass stopped.
    fresh = SkuMap(entries, items=available, rules=rules, normalisation=norm)
    looked, read = fresh._resolve(list(offers), mp, available)  # type: ignore[arg-type]
    _same_table(looked, reference)
    if read is not None:
        otherwise = set(looked._resolved_otherwise())
        for offer, v in zip(offers, read.values, strict=True):
            assert (v is None) == (offer in otherwise)
            if v is not None:
                assert v == available[ItemSku(offer)]
        assert read.todo_at == [j for j, v in enumerate(read.values) if v is None]
        assert looked._bulk_offers == tuple(offers)
        if read.distinct:
            assert len(set(offers)) == len(offers)
    # Warm: the full normalised index is built first (the suspects come from it).
    warm = SkuMap(entries, items=available, rules=rules, normalisation=norm)
    warm._normalised_items(None)
    _same_table(warm.resolve_many(offers, mp), reference)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_single_resolve_without_the_index_equals_with_it(data: st.DataObject) -> None:
    """``resolve()`` on a cold map (one-shape catalogues: keys looked up, no index built) gives
    what it gives once the full normalised index is built, source included."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mapping_module, "_SHAPE_MIN", 0)
        mp.setattr(mapping_module, "_LOOKUP_SHARE", 0)
        alphabet = data.draw(item_alphabets)
        items = data.draw(
            st.lists(st.text(alphabet=alphabet, min_size=1, max_size=5), max_size=10, unique=True)
        )
        entries = data.draw(entries_st(items))
        rules = data.draw(rules_st)
        norm = data.draw(normalisations)
        market = data.draw(marketplaces)
        variants = [*items, *(i.lower() for i in items), *("B-" + i for i in items)]
        offers = data.draw(st.lists(st.sampled_from(variants) | sku if variants else sku))
        cold = SkuMap(entries, items=frozenset(items), rules=rules, normalisation=norm)
        warm = SkuMap(entries, items=frozenset(items), rules=rules, normalisation=norm)
        warm._normalised_items(None)
        for offer in offers:
            assert cold.resolve(offer, market) == warm.resolve(offer, market)
        if cold._catalogue().looks_up:
            assert cold._norm_index is None  # answered without the full index


def _draw_catalogue(
    data: st.DataObject, *, max_items: int
) -> tuple[list[str], list[MappingEntry], list[SkuRule], str | None, list[str]]:
    """Items, explicit entries, rules, a marketplace and offers (items, their upper-case and
    prefixed variants, and noise)."""
    items = data.draw(st.lists(sku, min_size=1, max_size=max_items, unique=True))
    entries = data.draw(entries_st(items))
    rules = data.draw(rules_st)
    mp = data.draw(marketplaces)
    offers = data.draw(
        st.lists(st.sampled_from([*items, *(i.upper() for i in items), "B-" + items[0]]) | sku)
    )
    return items, entries, rules, mp, offers


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_resolve_and_publish_equals_reference(data: st.DataObject) -> None:
    items, entries, rules, mp, offers = _draw_catalogue(data, max_items=10)
    available = {ItemSku(i): data.draw(st.integers(-3, 12)) for i in items}
    reserved = {ItemSku(i): data.draw(st.integers(0, 4)) for i in items if data.draw(st.booleans())}
    policy = StockPolicy(
        safety_buffer=data.draw(st.integers(0, 3)),
        marketplace_buffers={"mkp": data.draw(st.integers(0, 3))},
        max_published=data.draw(st.none() | st.integers(0, 8)),
    )
    assume(not _exact_ambiguous(items, offers, Normalisation()))
    m = SkuMap(entries, items=available, rules=rules)
    table, got = resolve_and_publish(
        m, offers, available, reserved=reserved, policy=policy, marketplace=mp
    )
    reference, _ = m._resolve(list(offers), mp, None, bulk=False)
    _same_table(table, reference)
    expected = publishable_quantities(
        reference, available, reserved=reserved, policy=policy, marketplace=mp
    )
    assert got == expected
    assert isinstance(got, OfferQuantities)
    in_order = [OfferSku(o) for o in dict.fromkeys(offers) if o in expected]
    assert list(got.items()) == [(o, expected[o]) for o in in_order]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_publishable_by_warehouse_equals_the_formula(data: st.DataObject) -> None:
    """The bulk table's quantities (availability read in step with the offers, reservations
    applied afterwards) per pool equal the per-offer formula, with pools that lack some items
    and list them in any order."""
    items, entries, rules, mp, offers = _draw_catalogue(data, max_items=12)
    if data.draw(st.booleans()):
        offers.sort()
    pools = {
        WarehouseCode(wh): {
            ItemSku(i): data.draw(st.integers(-3, 12))
            for i in data.draw(st.permutations(items))
            if data.draw(st.booleans())
        }
        for wh in ("", "WH1")
    }
    reserved = {ItemSku(i): data.draw(st.integers(0, 4)) for i in items if data.draw(st.booleans())}
    policy = StockPolicy(
        safety_buffer=data.draw(st.integers(0, 3)),
        max_published=data.draw(st.none() | st.integers(0, 8)),
    )
    table = SkuMap(entries, items=items, rules=rules).resolve_many(offers, mp)
    got = publishable_by_warehouse(
        table,
        pools,
        reserved_by_warehouse=dict.fromkeys(pools, reserved),
        policy=policy,
        marketplace=mp,
    )
    buf = policy.buffer_for(mp)
    for wh, pool in pools.items():
        expected = {}
        for offer in dict.fromkeys(offers):
            comps = table.components(OfferSku(offer))
            if comps is not None:
                expected[offer] = publishable_quantity(
                    comps, pool, reserved, safety_buffer=buf, max_published=policy.max_published
                )
        assert got[wh] == expected


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(sku, st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 3))),
        max_size=8,
    ),
    norm=normalisations,
)
def test_explicit_tables_fast_equals_grouped(
    pairs: list[tuple[str, tuple[str, int]]], norm: Normalisation
) -> None:
    group = [MappingEntry.single(o, i, pack_size=k) for o, (i, k) in pairs]
    fast = _explicit_tables(norm, group)
    slow = _explicit_tables_grouped(norm, group)
    assert fast == slow
    assert [list(t) for t in fast] == [list(t) for t in slow]  # same order too


def _reference_hash(lines: list[tuple[WarehouseCode, OfferSku, int]]) -> str:
    h = hashlib.sha256()
    h.update("".join(f"{len(w)}:{w}{len(o)}:{o}{q};" for w, o, q in sorted(lines)).encode("utf-8"))
    return h.hexdigest()


@given(
    lines=st.dictionaries(
        st.tuples(
            st.sampled_from([WarehouseCode(""), WarehouseCode("W1"), WarehouseCode("é:2")]),
            st.text(max_size=4).map(OfferSku),
        ),
        st.integers(-5, 500),
        max_size=20,
    )
)
def test_stock_hash_equals_per_line_formula(
    lines: dict[tuple[WarehouseCode, OfferSku], int],
) -> None:
    flat = [(w, o, q) for (w, o), q in lines.items()]
    assert stock_hash(flat) == _reference_hash(flat)
    assert stock_hash(tuple(reversed(flat))) == _reference_hash(flat)


def _some_discrepancy(kind: K, entity: str, severity: Severity | None) -> Discrepancy:
    return discrepancy(
        kind, shop="s", entity=entity, entities=(), message="m", now=NOW, severity=severity
    )


@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(list(K)),
            st.text(alphabet="ab", max_size=3),
            st.none() | st.sampled_from(list(Severity)),
        ),
        max_size=25,
    )
)
def test_sort_discrepancies_equals_sorted_by_rank_then_key(
    specs: list[tuple[K, str, Severity | None]],
) -> None:
    found = [_some_discrepancy(k, e, s) for k, e, s in specs]
    expected = sorted(found, key=lambda d: (-d.severity.rank, d.key))
    got = sort_discrepancies(found)
    assert got == expected
    assert [id(d) for d in got] == [id(d) for d in expected]  # stable on ties


def _reference_findings(cmp: StockComparison, shop: str) -> list[Discrepancy]:
    """The stock findings as one ``discrepancy()`` call each (the reference)."""

    def ent(wh: str, o: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        if wh:
            return f"{o}@{wh}", (("offer_sku", o), ("warehouse", wh))
        return o, (("offer_sku", o),)

    out = []
    for wh, o, r, q in cmp.oversell:
        entity, ents = ent(wh, o)
        at = " at " + wh if wh else ""
        msg = (
            f"Mirakl offers {r} of {o}{at} but only {q} can be sold safely: push the stock now "
            "and check why the last push did not land."
        )
        sev = Severity.CRITICAL if q == 0 else Severity.ERROR
        facts = {"remote": r, "publishable": q}
        out.append(
            discrepancy(
                K.OVERSELL_RISK,
                shop=shop,
                entity=entity,
                entities=ents,
                message=msg,
                now=NOW,
                severity=sev,
                facts=facts,
            )
        )
    for wh, o, r, ref in cmp.drift:
        entity, ents = ent(wh, o)
        at = " at " + wh if wh else ""
        msg = (
            f"Mirakl shows {r} of {o}{at} where we last pushed {ref}: the offer is queued for a "
            "fresh push; if it keeps drifting, find who edits stock on Mirakl directly."
        )
        facts = {"remote": r, "expected": ref}
        out.append(
            discrepancy(
                K.STOCK_DRIFT,
                shop=shop,
                entity=entity,
                entities=ents,
                message=msg,
                now=NOW,
                facts=facts,
            )
        )
    for wh, o, q in cmp.missing:
        entity, ents = ent(wh, o)
        at = " at " + wh if wh else ""
        msg = (
            f"{o}{at} is mapped with {q} publishable but has no offer on Mirakl: create or "
            "re-activate the offer (stock is not pushed to a missing offer)."
        )
        sev = Severity.WARNING if q > 0 else Severity.INFO
        out.append(
            discrepancy(
                K.MISSING_OFFER,
                shop=shop,
                entity=entity,
                entities=ents,
                message=msg,
                now=NOW,
                severity=sev,
                facts={"publishable": q},
            )
        )
    return out


pools = st.dictionaries(
    st.sampled_from([WarehouseCode(""), WarehouseCode("W1")]),
    st.dictionaries(st.sampled_from([OfferSku(x) for x in "abcdefg"]), st.integers(0, 9)),
    max_size=2,
)


@settings(max_examples=200, deadline=None)
@given(target=pools, last=pools, remote=pools, shop=st.sampled_from(["", "shop-1"]))
def test_stock_findings_equal_discrepancy_records(
    target: dict[WarehouseCode, dict[OfferSku, int]],
    last: dict[WarehouseCode, dict[OfferSku, int]],
    remote: dict[WarehouseCode, dict[OfferSku, int]],
    shop: str,
) -> None:
    cmp = compare_stock(target, last, remote, Thresholds())
    kinds = frozenset({K.OVERSELL_RISK, K.STOCK_DRIFT, K.MISSING_OFFER})
    assert _stock_findings(cmp, shop, NOW, kinds) == _reference_findings(cmp, shop)
    # A target held by column (as resolve_and_publish returns it) is read the same way.
    by_column = {wh: OfferQuantities.from_mapping(pool) for wh, pool in target.items()}
    assert compare_stock(by_column, last, remote, Thresholds()) == cmp


def test_stock_findings_convert_non_plain_facts_like_discrepancy() -> None:
    w = WarehouseCode("W1")
    cmp = compare_stock(
        {w: {OfferSku("a"): Decimal(1)}},  # type: ignore[dict-item]
        {},
        {w: {OfferSku("a"): Decimal(7)}},  # type: ignore[dict-item]
    )
    kinds = frozenset({K.OVERSELL_RISK, K.STOCK_DRIFT, K.MISSING_OFFER})
    got = _stock_findings(cmp, "s", NOW, kinds)
    assert got == _reference_findings(cmp, "s")
    assert got[0].facts == {"remote": "7", "publishable": "1"}


def test_unmapped_findings_equal_discrepancy_records() -> None:
    m = SkuMap(
        [MappingEntry.single("C", "A"), MappingEntry.single("C", "B")],
        items=["A", "B", "b", "x"],
    )
    table = m.resolve_many(["nope", "C", "b", "B", "A"])
    snaps = Snapshots(shop="s", mapping=table)
    got = detect_unmapped_skus(snaps, NOW, Thresholds())
    assert {d.facts["reason"] for d in got} == {"UNMAPPED", "CONFLICTING_RULES"}
    expected = []
    for offer, bad in table.unresolved.items():
        unm = bad.reason == "UNMAPPED"
        what = "unmapped" if unm else "mapped by conflicting rules"
        todo = (
            "add it to the mapping table or fix the SKU on Mirakl"
            if unm
            else "fix the mapping table or the rules so only one item matches"
        )
        expected.append(
            discrepancy(
                K.UNMAPPED_SKU,
                shop="s",
                entity=offer,
                entities=(("offer_sku", offer),),
                message=(
                    f"Offer {offer} is {what} ({bad.detail}); its stock is not published: {todo}."
                ),
                now=NOW,
                severity=Severity.WARNING if unm else Severity.ERROR,
                facts={"reason": bad.reason.value, "candidates": "; ".join(bad.candidates)},
            )
        )
    assert got == expected
    # Unmapped offers are kept by name until ``unresolved`` is read; the findings are the same
    # before and after the records are made.
    assert detect_unmapped_skus(snaps, NOW, Thresholds()) == got


def test_rules_without_identity_file_packs_and_conflicts() -> None:
    m = SkuMap(
        items=["A", "B"],
        identity=False,
        rules=[SkuRule(name="six", prefix="6-", pack_size=6), SkuRule(name="two", suffix="-2")],
    )
    table = m.resolve_many(["6-A", "B-2", "6-B-2", "A", "6-X"])
    assert table.packs == {"6-A": ("A", 6)}
    assert table.singles == {"B-2": "B"}
    assert {o: u.reason for o, u in table.unresolved.items()} == {
        "6-B-2": "UNMAPPED",  # "b-2" and "6-b" are not items
        "A": "UNMAPPED",
        "6-X": "UNMAPPED",
    }
    both = SkuMap(
        items=["A-2", "6-A"],
        identity=False,
        rules=[SkuRule(name="six", prefix="6-", pack_size=6), SkuRule(name="two", suffix="-2")],
    )
    conflict = both.resolve_many(["6-A-2"]).unresolved[OfferSku("6-A-2")]
    assert conflict.reason == "CONFLICTING_RULES"
    assert conflict.candidates == ("six->6xA-2", "two->1x6-A")


@settings(max_examples=300, deadline=None)
@given(
    items=item_alphabets.flatmap(
        lambda a: st.lists(st.text(alphabet=a, max_size=5), max_size=80, unique=True)
    ),
    extra=st.lists(sku, max_size=3),
    affixes=st.lists(st.sampled_from(["a", "B", "ab", "-", "_1", "é", " a", "AB"]), max_size=3),
    norm=normalisations | st.just(Normalisation(whitespace="keep")),
    small=st.booleans(),
    hits=st.booleans(),
    lookup_share=st.sampled_from([0, 4]),  # 0: always look the keys up
)
def test_catalogue_scans_equal_key_by_key(
    items: list[str],
    extra: list[str],
    affixes: list[str],
    norm: Normalisation,
    small: bool,
    hits: bool,
    lookup_share: int,
) -> None:
    """_CatalogueKeys (items probed with folded keys, or their own keys, on one-shape ASCII
    catalogues) selects what comparing each item's normalised key selects."""
    keys = [norm.apply(i) for i in items]
    wanted = set(extra)
    if hits:
        wanted |= set(keys[::2]) | {k.upper() for k in keys[1::3]} | set(items[1::4])
    prefixes = tuple(norm.apply(a) for a in affixes[:2]) + tuple(affixes[2:])
    suffixes = tuple(affixes[1:])
    with pytest.MonkeyPatch.context() as mp:
        if small:
            mp.setattr(mapping_module, "_SHAPE_MIN", 0)
        cat = _CatalogueKeys(list(items), norm)
        expected = (
            [k for k in keys if k in wanted],
            [i for i, k in zip(items, keys, strict=True) if k in wanted],
        )
        assert cat.select(wanted) == expected
        # Given the items as a set, a one-shape catalogue looks the keys up (in another order).
        mp.setattr(mapping_module, "_LOOKUP_SHARE", lookup_share)
        looked_up = _CatalogueKeys(list(items), norm, members=frozenset(items))
        sel_keys, sel_items = looked_up.select(wanted)
        assert sorted(zip(sel_keys, sel_items, strict=True)) == sorted(zip(*expected, strict=True))
        assert cat.with_affix(prefixes, suffixes) == [
            i for i, k in zip(items, keys, strict=True) if k.startswith(prefixes)
        ] + [i for i, k in zip(items, keys, strict=True) if k.endswith(suffixes)]
        assert cat.keys() == keys


@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(list(K)),
    rows=st.lists(
        st.tuples(
            st.sampled_from(list(Severity)),
            st.text(max_size=5),
            st.lists(st.tuples(st.text(max_size=3), st.text(max_size=3)), max_size=2).map(tuple),
            st.text(max_size=8),
            st.dictionaries(st.text(max_size=3), st.integers() | st.text(max_size=3), max_size=2),
        ),
        max_size=5,
    ),
)
def test_finding_columns_make_the_constructed_records(
    kind: K,
    rows: list[tuple[Severity, str, tuple[tuple[str, str], ...], str, dict[str, int | str]]],
) -> None:
    cols = FindingColumns()
    for row in rows:
        cols.add(*row)
    assert len(cols) == len(rows)
    got = cols.records(kind, shop="s1", now=NOW)
    _, impact, owner = KIND_DEFAULTS[kind]
    expected = [
        Discrepancy(
            kind=kind,
            severity=severity,
            impact=impact,
            owner=owner,
            key=key,
            shop="s1",
            entities=entities,
            message=message,
            detected_at=NOW,
            facts=facts,
        )
        for severity, key, entities, message, facts in rows
    ]
    assert got == expected
    assert [repr(d) for d in got] == [repr(d) for d in expected]
    assert [hash(d) for d in got] == [hash(d) for d in expected]
    assert [pickle.loads(pickle.dumps(d)) for d in got] == expected  # noqa: S301 (our own bytes)
    assert [attrs.evolve(d, message="m").message for d in got] == ["m"] * len(got)
    for d in got:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            d.key = "changed"  # type: ignore[misc]


def test_finding_columns_of_different_lengths_are_refused() -> None:
    assert FindingColumns().records(K.UNMAPPED_SKU, shop="s", now=NOW) == []
    cols = FindingColumns()
    cols.add(Severity.INFO, "k", (), "m", {})
    cols.keys.append("k2")
    with pytest.raises(ValueError):
        cols.records(K.UNMAPPED_SKU, shop="s", now=NOW)


@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_rule_offers_spelt_as_their_only_item_skip_the_lookup(
    case: Callable[[str], str],
) -> None:
    """In a one-shape catalogue, a rule offer spelt like the only item its identity key could
    name is not looked up again (the exact pass decided it); the table is the reference's."""
    items = [case(f"it-{i:03d}") for i in range(80)]
    offers = [
        *items[:5],  # exact items
        case("it-005").swapcase(),  # the item in the other case: found by its key
        *(case(f"mkp-it-{i:03d}") for i in range(6, 12)),  # prefixed: the rule finds them
        case("kit-1"),  # nothing
        case("IT-007 "),  # whitespace: found by its key
    ]
    rules = [SkuRule(name="mkp", prefix=case("mkp-"))]
    m = SkuMap([MappingEntry.single(case("kit-2"), items[3])], items=items, rules=rules)
    blanked: list[list[str]] = []
    live = SkuMap._live_identity_keys

    def spy(self: SkuMap, rest: list[str], keys: list[str]) -> list[str]:
        out = live(self, rest, keys)
        blanked.append([o for o, k in zip(rest, out, strict=True) if k == ""])
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SkuMap, "_live_identity_keys", spy)
        table, _ = m._resolve(list(offers), None, None)
    assert blanked == [[case(f"mkp-it-{i:03d}") for i in range(6, 12)] + [case("kit-1")]]
    reference, _ = SkuMap(
        [MappingEntry.single(case("kit-2"), items[3])], items=items, rules=rules
    )._resolve(list(offers), None, None, bulk=False)
    _same_table(table, reference)
    assert table.singles[OfferSku(case("it-005").swapcase())] == items[5]
    assert table.singles[OfferSku(case("mkp-it-006"))] == items[6]
    assert table.singles[OfferSku(case("IT-007 "))] == items[7]
    assert OfferSku(case("kit-1")) in table.unresolved
