"""Offer SKU -> inventory item mapping.

A :class:`SkuMap` resolves a Mirakl offer SKU to the inventory item(s) it sells, or says exactly
why it cannot. Resolution order:

1. **Explicit entries** (a mapping table) on the raw offer SKU: an entry for the marketplace wins
   over an entry for every marketplace. Two different entries for the same SKU are
   ``CONFLICTING_RULES``.
2. **Explicit entries on the normalised SKU** (case and whitespace folded): two different entries
   that normalise to the same key are ``AMBIGUOUS``.
3. **Rules** (identity plus the configured :class:`SkuRule` list for the marketplace): each rule
   strips its prefix/suffix from the normalised SKU and looks the rest up among the known items
   (normalised too). No hit is ``UNMAPPED``; a key shared by two items is ``AMBIGUOUS``; two rules
   giving different answers is ``CONFLICTING_RULES``.

There is never a fuzzy guess. Multipacks are ``offer = k x item``; bundles are
``offer = {component: quantity}``.

For large catalogues use :meth:`SkuMap.resolve_many`, which returns a compact
:class:`MappingTable` (plain dicts, no per-offer objects for the resolved offers).
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Collection, Container, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from enum import StrEnum
from itertools import chain, compress, repeat
from operator import methodcaller
from string import ascii_lowercase, ascii_uppercase
from typing import Final, Literal, NamedTuple, TypeAlias, cast

import attrs

from mirakl_sync.core._in_step import read_in_step
from mirakl_sync.core.models import ItemSku, Marketplace, OfferSku
from mirakl_sync.errors import ConfigurationError

__all__ = [
    "Component",
    "Components",
    "MappingEntry",
    "MappingTable",
    "MappingTableError",
    "Normalisation",
    "Resolution",
    "Resolved",
    "SkuMap",
    "SkuRule",
    "Unresolved",
    "UnresolvedReason",
]

Whitespace: TypeAlias = Literal["keep", "strip", "collapse", "remove"]
Components: TypeAlias = tuple[tuple[ItemSku, int], ...]
"""Compact form of a mapping target: ``((item, quantity), ...)``."""


class MappingTableError(ConfigurationError):
    """A mapping table (CSV or Python data) is malformed."""


class UnresolvedReason(StrEnum):
    UNMAPPED = "UNMAPPED"
    AMBIGUOUS = "AMBIGUOUS"
    CONFLICTING_RULES = "CONFLICTING_RULES"


@attrs.frozen(kw_only=True)
class Component:
    item: ItemSku
    quantity: int = 1


@attrs.frozen(kw_only=True)
class Resolved:
    """The offer maps to these components (one component = single item or multipack)."""

    offer_sku: OfferSku
    components: tuple[Component, ...]
    source: str
    """``"explicit"``, ``"explicit-normalised"`` or ``"rule:<name>[,<name>...]"``."""

    @property
    def is_bundle(self) -> bool:
        return len(self.components) > 1

    @property
    def item(self) -> ItemSku | None:
        """The single item for single/multipack offers, ``None`` for bundles."""
        return self.components[0].item if len(self.components) == 1 else None

    @property
    def pack_size(self) -> int:
        """Units of the item per offer unit (1 for a plain offer; bundles report 1)."""
        return self.components[0].quantity if len(self.components) == 1 else 1

    def compact(self) -> Components:
        return tuple((c.item, c.quantity) for c in self.components)


@attrs.frozen(kw_only=True)
class Unresolved:
    """The offer cannot be mapped; ``reason`` says why, ``candidates`` lists what competed."""

    offer_sku: OfferSku
    reason: UnresolvedReason
    detail: str
    candidates: tuple[str, ...] = ()


Resolution: TypeAlias = Resolved | Unresolved


def _check_components(offer: str, comps: Iterable[tuple[str, int]]) -> Components:
    out: list[tuple[ItemSku, int]] = []
    seen: set[str] = set()
    for item, qty in comps:
        if not isinstance(item, str) or not item:
            raise MappingTableError(f"offer {offer!r}: empty item SKU")
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise MappingTableError(f"offer {offer!r}: quantity for {item!r} must be an int >= 1")
        if item in seen:
            raise MappingTableError(f"offer {offer!r}: item {item!r} listed twice")
        seen.add(item)
        out.append((ItemSku(item), qty))
    if not out:
        raise MappingTableError(f"offer {offer!r}: no component")
    return tuple(sorted(out))


def _opt_marketplace(value: str | None) -> Marketplace | None:
    return Marketplace(value) if value else None


@attrs.frozen(kw_only=True)
class MappingEntry:
    """One explicit mapping-table entry. ``marketplace=None`` applies to every marketplace."""

    offer_sku: OfferSku
    components: Components = attrs.field()
    marketplace: Marketplace | None = attrs.field(default=None, converter=_opt_marketplace)

    @components.validator
    def _validate(self, _attribute: object, value: Components) -> None:
        _check_components(self.offer_sku, value)

    @classmethod
    def single(
        cls, offer_sku: str, item: str, *, pack_size: int = 1, marketplace: str | None = None
    ) -> MappingEntry:
        """``offer = pack_size x item`` (a plain offer when ``pack_size`` is 1)."""
        return cls(
            offer_sku=OfferSku(offer_sku),
            components=_check_components(offer_sku, [(item, pack_size)]),
            marketplace=Marketplace(marketplace) if marketplace else None,
        )

    @classmethod
    def bundle(
        cls, offer_sku: str, components: Mapping[str, int], *, marketplace: str | None = None
    ) -> MappingEntry:
        """``offer = {component: quantity}``."""
        return cls(
            offer_sku=OfferSku(offer_sku),
            components=_check_components(offer_sku, components.items()),
            marketplace=Marketplace(marketplace) if marketplace else None,
        )


@attrs.frozen(kw_only=True)
class Normalisation:
    """How SKUs are folded before comparison (applies to offers, items, prefixes, suffixes).

    ``whitespace``: ``keep`` (as is), ``strip`` (ends only, default), ``collapse`` (strip and turn
    inner runs into one space), ``remove`` (drop every whitespace character).
    """

    fold_case: bool = True
    whitespace: Whitespace = "strip"

    def apply(self, sku: str) -> str:
        ws = self.whitespace
        if ws == "strip":
            sku = sku.strip()
        elif ws == "collapse":
            sku = " ".join(sku.split())
        elif ws == "remove":
            sku = "".join(sku.split())
        return sku.casefold() if self.fold_case else sku

    def apply_many(self, skus: Iterable[str]) -> list[str]:
        """:meth:`apply` over SKUs (C-level ``map`` calls: fast on large lists)."""
        ws = self.whitespace
        it: Iterable[str] = skus
        if ws == "strip":
            it = map(str.strip, it)
        elif ws == "collapse":
            it = map(" ".join, map(str.split, it))
        elif ws == "remove":
            it = map("".join, map(str.split, it))
        if self.fold_case:
            it = map(str.casefold, it)
        return it if isinstance(it, list) else list(it)


@attrs.frozen(kw_only=True)
class SkuRule:
    """A configured normalisation rule.

    On ``marketplace`` (``None`` = every marketplace), an offer SKU ``<prefix><item><suffix>``
    maps to ``pack_size x item``. Example: ``SkuRule(name="conrad", marketplace="conrad",
    prefix="CO-")``, or a multipack rule ``SkuRule(name="6pk", suffix="-6PK", pack_size=6)``.
    """

    name: str
    marketplace: Marketplace | None = attrs.field(default=None, converter=_opt_marketplace)
    prefix: str = ""
    suffix: str = ""
    pack_size: int = attrs.field(default=1)

    @pack_size.validator
    def _check_pack(self, _attribute: object, value: int) -> None:
        if value < 1:
            raise MappingTableError(f"rule {self.name!r}: pack_size must be >= 1")


# Compiled rule: (prefix, suffix, pack_size, name, is_identity), prefix/suffix normalised.
_CRule: TypeAlias = tuple[str, str, int, str, bool]
# Explicit target: compact components, or an Unresolved when the table conflicts.
_Target: TypeAlias = "Components | Unresolved"

_IDENTITY: Final = "identity"


class MappingTable:
    """Compact result of :meth:`SkuMap.resolve_many` for many offers of one marketplace.

    * ``singles``: offer -> item (plain 1:1 offers, the common case);
    * ``packs``: offer -> (item, pack_size) for multipacks (pack_size > 1);
    * ``bundles``: offer -> ((item, quantity), ...);
    * ``unresolved``: offer -> :class:`Unresolved`.

    Every input offer is in exactly one of the four. For speed, offers resolved in bulk by the
    identity rule are kept as two parallel lists and ``singles`` is built on first access;
    :meth:`iter_singles` walks them without building the dict. Likewise, plainly unmapped offers
    are kept by name and their :class:`Unresolved` records are made on first access to
    ``unresolved`` (a large catalogue can hold tens of thousands of them).
    """

    __slots__ = (
        "_bulk_items",
        "_bulk_offers",
        "_extra_singles",
        "_singles",
        "_unmapped",
        "_unresolved",
        "bundles",
        "marketplace",
        "packs",
    )

    def __init__(
        self,
        *,
        marketplace: Marketplace | None,
        singles: dict[OfferSku, ItemSku] | None = None,
        packs: dict[OfferSku, tuple[ItemSku, int]] | None = None,
        bundles: dict[OfferSku, Components] | None = None,
        unresolved: dict[OfferSku, Unresolved] | None = None,
        unmapped: dict[OfferSku, None] | None = None,
        bulk: tuple[Sequence[OfferSku], Sequence[ItemSku | None]] | None = None,
    ) -> None:
        self.marketplace = marketplace
        self.packs = packs if packs is not None else {}
        self.bundles = bundles if bundles is not None else {}
        self._unresolved = unresolved if unresolved is not None else {}
        # Offers unresolved for the plain UNMAPPED reason (no entry, no rule), by name only.
        self._unmapped = unmapped if unmapped is not None else {}
        self._extra_singles = singles if singles is not None else {}
        if bulk is None:
            bulk = ([], [])
        # Bulk identity hits: offers[i] -> items[i], except the offers resolved otherwise
        # (their entry is in one of the other dicts, see _resolved_otherwise).
        self._bulk_offers, self._bulk_items = bulk
        self._singles: dict[OfferSku, ItemSku] | None = None if bulk[0] else self._extra_singles

    @property
    def singles(self) -> dict[OfferSku, ItemSku]:
        if self._singles is None:
            out = dict(zip(self._bulk_offers, self._bulk_items, strict=True))
            for offer in self._resolved_otherwise():
                out.pop(offer, None)
            out.update(self._extra_singles)
            self._singles = out  # type: ignore[assignment]
        assert self._singles is not None
        return self._singles

    @property
    def unresolved(self) -> dict[OfferSku, Unresolved]:
        if self._unmapped:
            made = {
                offer: Unresolved(
                    offer_sku=offer, reason=UnresolvedReason.UNMAPPED, detail=_UNMAPPED_DETAIL
                )
                for offer in self._unmapped
            }
            made.update(self._unresolved)
            self._unresolved, self._unmapped = made, {}
        return self._unresolved

    def _resolved_otherwise(self) -> Iterable[OfferSku]:
        """The offers not resolved by the bulk pass (each once: an offer is in one dict)."""
        return chain(
            self._extra_singles, self.packs, self.bundles, self._unresolved, self._unmapped
        )

    def _share_bulk(self, offers: Sequence[OfferSku]) -> None:
        """Take ``offers`` as the bulk lists: the same offers in the same order, less some of
        those resolved one by one (e.g. the unresolved ones). The caller keeps its own
        sequence of the offers (it must not change it), and the table's copy is freed."""
        self._bulk_offers = offers
        self._bulk_items = cast("Sequence[ItemSku]", offers)  # a bulk offer is its own item

    def _compact_unresolved(self) -> tuple[Iterable[OfferSku], Mapping[OfferSku, Unresolved]]:
        """The unresolved offers without making their records: the plainly unmapped ones (their
        record would be ``Unresolved(offer, UNMAPPED, _UNMAPPED_DETAIL)``) and the others."""
        return self._unmapped, self._unresolved

    def iter_singles(self) -> Iterable[tuple[OfferSku, ItemSku]]:
        """The ``(offer, item)`` pairs of ``singles`` (bulk ones first)."""
        return self.singles.items()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MappingTable):
            return NotImplemented
        return (
            self.marketplace == other.marketplace
            and self.singles == other.singles
            and self.packs == other.packs
            and self.bundles == other.bundles
            and self.unresolved == other.unresolved
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"<MappingTable marketplace={self.marketplace!r} singles={len(self.singles)}"
            f" packs={len(self.packs)} bundles={len(self.bundles)}"
            f" unresolved={len(self.unresolved)}>"
        )

    def __len__(self) -> int:
        return len(self.singles) + len(self.packs) + len(self.bundles) + len(self.unresolved)

    def __contains__(self, offer: object) -> bool:
        return (
            offer in self.singles
            or offer in self.packs
            or offer in self.bundles
            or offer in self.unresolved
        )

    def components(self, offer: OfferSku) -> Components | None:
        """The compact components of a resolved offer, ``None`` if unresolved or unknown."""
        item = self.singles.get(offer)
        if item is not None:
            return ((item, 1),)
        pack = self.packs.get(offer)
        if pack is not None:
            return (pack,)
        return self.bundles.get(offer)

    def get(self, offer: OfferSku) -> Resolution | None:
        """The :data:`Resolution` of one offer (``None`` when the offer was not in the input)."""
        bad = self.unresolved.get(offer)
        if bad is not None:
            return bad
        comps = self.components(offer)
        if comps is None:
            return None
        return Resolved(
            offer_sku=offer,
            components=tuple(Component(item=i, quantity=q) for i, q in comps),
            source="table",
        )


class SkuMap:
    """Offer SKU -> inventory item(s), from explicit entries and rules. Immutable once built.

    Args:
        entries: explicit mapping-table entries (they win over rules).
        items: the known inventory item SKUs (needed for rule-based mapping). A ``set``,
            ``frozenset`` or mapping (e.g. the ``available`` dict keyed by item SKU) is used as
            is, without a copy: do not mutate it while the map is in use.
        rules: configured :class:`SkuRule` list (prefix/suffix per marketplace, multipacks).
        normalisation: how case and whitespace are folded.
        identity: whether an offer SKU equal to an item SKU maps to it. An exact match wins;
            otherwise the normalised SKUs are compared (two items with the same normalised SKU
            make it ``AMBIGUOUS``).
    """

    __slots__ = (
        "_catalogue_keys",
        "_explicit",
        "_explicit_norm",
        "_merged_cache",
        "_norm_ambiguous",
        "_norm_index",
        "_rules",
        "_suspect_cache",
        "identity",
        "items",
        "normalisation",
    )

    def __init__(
        self,
        entries: Iterable[MappingEntry] = (),
        *,
        items: Iterable[str] | AbstractSet[str] | Mapping[str, object] = (),
        rules: Iterable[SkuRule] = (),
        normalisation: Normalisation | None = None,
        identity: bool = True,
    ) -> None:
        self.items: AbstractSet[str] | Mapping[str, object] = (
            items if isinstance(items, AbstractSet | Mapping) else frozenset(items)
        )
        self._norm_index: dict[str, ItemSku] | None = None
        self._norm_ambiguous: dict[str, tuple[ItemSku, ...]] = {}
        self._catalogue_keys: _CatalogueKeys | None = None
        self._suspect_cache: dict[Marketplace | None, frozenset[str]] = {}
        self.normalisation = normalisation or Normalisation()
        self.identity = identity
        self._rules: tuple[SkuRule, ...] = tuple(rules)
        norm = self.normalisation

        # Explicit entries per marketplace (None = all): raw offer -> target.
        entry_list = entries if isinstance(entries, list | tuple) else list(entries)
        grouped: dict[Marketplace | None, list[MappingEntry]] = {}
        mps = set(map(_ENTRY_MARKETPLACE, entry_list))
        if len(mps) == 1:
            grouped[next(iter(mps))] = list(entry_list)
        elif mps:
            for e in entry_list:
                grouped.setdefault(e.marketplace, []).append(e)
        self._explicit: dict[Marketplace | None, dict[str, _Target]] = {}
        self._explicit_norm: dict[Marketplace | None, dict[str, _Target]] = {}
        for mp, group in grouped.items():
            self._explicit[mp], self._explicit_norm[mp] = _explicit_tables(norm, group)

        self._merged_cache: dict[
            Marketplace | None, tuple[dict[str, _Target], dict[str, _Target], tuple[_CRule, ...]]
        ] = {}

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, object]],
        *,
        items: Iterable[str] = (),
        rules: Iterable[SkuRule] = (),
        normalisation: Normalisation | None = None,
        identity: bool = True,
    ) -> SkuMap:
        """Build from rows ``{"offer_sku", "item_sku", "quantity"?, "marketplace"?}``.

        Rows sharing ``(marketplace, offer_sku)`` form a bundle; a single row with
        ``quantity = k`` is a multipack.
        """
        return cls(
            _entries_from_rows(records),
            items=items,
            rules=rules,
            normalisation=normalisation,
            identity=identity,
        )

    @classmethod
    def from_csv(
        cls,
        source: str | Iterable[str],
        *,
        delimiter: str = ",",
        items: Iterable[str] = (),
        rules: Iterable[SkuRule] = (),
        normalisation: Normalisation | None = None,
        identity: bool = True,
    ) -> SkuMap:
        """Build from CSV text (a ``str``) or lines (an open text file).

        Header columns: ``offer_sku``, ``item_sku``, optional ``quantity`` (default 1) and
        ``marketplace`` (blank = every marketplace). The caller opens the file: the core does no
        I/O (``with open(path, newline="") as f: SkuMap.from_csv(f)``).
        """
        lines = io.StringIO(source) if isinstance(source, str) else source
        reader = csv.DictReader(lines, delimiter=delimiter)
        fields = set(reader.fieldnames or ())
        missing = {"offer_sku", "item_sku"} - fields
        if missing:
            raise MappingTableError(f"mapping CSV lacks column(s): {', '.join(sorted(missing))}")
        rows: list[Mapping[str, object]] = []
        for n, row in enumerate(reader, start=2):
            rows.append({**row, "_line": n})
        return cls.from_records(
            rows, items=items, rules=rules, normalisation=normalisation, identity=identity
        )

    @classmethod
    def from_dict(
        cls,
        table: Mapping[str, str | tuple[str, int] | Mapping[str, int]],
        *,
        marketplace: str | None = None,
        items: Iterable[str] = (),
        rules: Iterable[SkuRule] = (),
        normalisation: Normalisation | None = None,
        identity: bool = True,
    ) -> SkuMap:
        """Build from plain Python data: ``{"OFFER": "ITEM", "OFFER-6": ("ITEM", 6),
        "KIT": {"A": 1, "B": 2}}``."""
        entries: list[MappingEntry] = []
        for offer, target in table.items():
            if isinstance(target, str):
                entries.append(MappingEntry.single(offer, target, marketplace=marketplace))
            elif isinstance(target, tuple):
                item, k = target
                entries.append(
                    MappingEntry.single(offer, item, pack_size=k, marketplace=marketplace)
                )
            else:
                entries.append(MappingEntry.bundle(offer, target, marketplace=marketplace))
        return cls(
            entries, items=items, rules=rules, normalisation=normalisation, identity=identity
        )

    # ------------------------------------------------------------------ resolution

    def _merged(
        self, marketplace: Marketplace | None
    ) -> tuple[dict[str, _Target], dict[str, _Target], tuple[_CRule, ...]]:
        cached = self._merged_cache.get(marketplace)
        if cached is not None:
            return cached
        raw = dict(self._explicit.get(None, {}))
        normed = dict(self._explicit_norm.get(None, {}))
        if marketplace is not None:
            raw.update(self._explicit.get(marketplace, {}))
            normed.update(self._explicit_norm.get(marketplace, {}))
        norm = self.normalisation.apply
        crules: list[_CRule] = [("", "", 1, _IDENTITY, True)] if self.identity else []
        for r in self._rules:
            if r.marketplace is None or r.marketplace == marketplace:
                crules.append((norm(r.prefix), norm(r.suffix), r.pack_size, r.name, False))
        result = (raw, normed, tuple(crules))
        self._merged_cache[marketplace] = result
        return result

    def resolve(self, offer_sku: str, marketplace: str | None = None) -> Resolution:
        """Resolve one offer SKU on ``marketplace`` (``None`` = rules for every marketplace).

        Many single calls stay cheap: on a catalogue of one shape (ASCII SKUs without
        whitespace, all in one case) each call looks its few keys up in the items; on any other,
        the first call builds (and caches) the normalised item index. For many offers at once
        prefer :meth:`resolve_many`.
        """
        mp = Marketplace(marketplace) if marketplace is not None else None
        if not self._catalogue().looks_up:
            self._normalised_items(None)
        table = self.resolve_many([offer_sku], mp)
        result = table.get(OfferSku(offer_sku))
        assert result is not None
        if isinstance(result, Resolved):
            return attrs.evolve(result, source=self._source(offer_sku, mp))
        return result

    def _normalised_items(
        self, needed: AbstractSet[str] | None
    ) -> tuple[Mapping[str, ItemSku], Mapping[str, tuple[ItemSku, ...]]]:
        """Normalised key -> item (and ambiguous keys). With ``needed``, only those keys are
        looked for (no full index); otherwise the full index is built once and cached."""
        if self._norm_index is not None:
            return self._norm_index, self._norm_ambiguous
        if needed is not None and not needed:
            return {}, {}
        cat = self._catalogue()
        keys: Collection[str]
        item_list: Collection[str]
        if needed is not None:
            keys, item_list = cat.select(needed)
        else:
            keys, item_list = cat.keys(), cat.items
        index = cast("dict[str, ItemSku]", dict(zip(keys, item_list, strict=True)))
        ambiguous: dict[str, tuple[ItemSku, ...]] = {}
        if len(index) == len(keys):
            # No key shared by two items (the common case): the C-level dict is the index.
            index.pop("", None)
        else:
            index, ambiguous = _group_keys(keys, item_list)
        if needed is None:
            self._norm_index, self._norm_ambiguous = index, ambiguous
        return index, ambiguous

    def _catalogue(self) -> _CatalogueKeys:
        """The known items, to scan by normalised key (made on first use, then kept)."""
        cat = self._catalogue_keys
        if cat is None:
            # The items as they are (no copy: a container of a million strings costs the
            # garbage collector a pass over them on every collection that sees it).
            cat = _CatalogueKeys(self.items, self.normalisation, members=self.items)
            self._catalogue_keys = cat
        return cat

    def _suspect_items(
        self,
        mp: Marketplace | None,
        raw: Mapping[str, _Target],
        normed: Mapping[str, _Target],
        rules: tuple[_CRule, ...],
    ) -> frozenset[str]:
        """The known items an equal offer SKU must *not* be resolved to by identity in bulk:
        their normalised key has an explicit entry, or a prefix/suffix rule applies to it
        (an offer equal to an item has that item's normalised key). Cached per marketplace."""
        cached = self._suspect_cache.get(mp)
        if cached is not None:
            return cached
        # Ordered (the entries' order): see _resolve_by_rules.
        explicit_keys = dict.fromkeys(chain(normed, self.normalisation.apply_many(raw))).keys()
        prefixes = tuple(r[0] for r in rules if r[0])
        suffixes = tuple(r[1] for r in rules if r[1])
        found: set[str] = set()
        if explicit_keys or prefixes or suffixes:
            index = self._norm_index
            if index is not None and "" not in explicit_keys:
                # Every item with a non-empty key is in the index (or among the ambiguous).
                keys = list(index)
                items: list[str] = list(index.values())
                for k, group in self._norm_ambiguous.items():
                    keys.extend(repeat(k, len(group)))
                    items.extend(group)
                cat = _CatalogueKeys(items, self.normalisation, keys=keys)
            else:
                cat = self._catalogue()
            if explicit_keys:
                found.update(cat.select(explicit_keys)[1])
            if prefixes or suffixes:
                found.update(cat.with_affix(prefixes, suffixes))
        result = frozenset(found)
        self._suspect_cache[mp] = result
        return result

    def _source(self, offer: str, mp: Marketplace | None) -> str:
        raw, normed, rules = self._merged(mp)
        if offer in raw:
            return "explicit"
        key = self.normalisation.apply(offer)
        if key in normed:
            return "explicit-normalised"
        stripped = [_strip(key, r[0], r[1]) for r in rules]
        index, ambiguous = self._normalised_items({k for k in stripped if k})
        names = [
            name
            for (_, _, _, name, is_identity), k in zip(rules, stripped, strict=True)
            if (is_identity and offer in self.items) or (k and (k in index or k in ambiguous))
        ]
        return "rule:" + ",".join(names)

    def resolve_many(
        self, offer_skus: Iterable[str], marketplace: str | None = None
    ) -> MappingTable:
        """Resolve many offers at once into a compact :class:`MappingTable`."""
        table, _ = self._resolve(list(offer_skus), marketplace, None)
        return table

    def _resolve(
        self,
        offers: list[str],
        marketplace: str | None,
        lookup: Mapping[str, int] | None,
        *,
        bulk: bool = True,
    ) -> tuple[MappingTable, _BulkValues | None]:
        """Resolve ``offers``. With ``lookup`` (a mapping keyed by item SKU whose keys are all
        known items, e.g. the ``available`` dict given as ``items``), the exact-identity pass
        reads ``lookup`` and returns its values aligned with ``offers`` (see
        :class:`_BulkValues`). ``bulk=False`` resolves every offer one by one (the
        reference path, also taken when a rule has neither prefix nor suffix): same table,
        except that it reports an offer equal to an item whose normalised key other items share
        as AMBIGUOUS where the bulk pass lets the exact match win (pre-existing behaviour)."""
        mp = Marketplace(marketplace) if marketplace is not None else None
        raw, normed, rules = self._merged(mp)
        singles: dict[OfferSku, ItemSku] = {}
        packs: dict[OfferSku, tuple[ItemSku, int]] = {}
        bundles: dict[OfferSku, Components] = {}
        unresolved: dict[OfferSku, Unresolved] = {}
        unmapped: dict[OfferSku, None] = {}

        # Bulk path (C-level maps): an offer equal to a known item is a single of itself, unless
        # it is a suspect: it has an explicit entry (raw or normalised) or a prefix/suffix rule
        # could apply to it (see _suspect_items). Suspects and misses are then resolved one by
        # one, in offer order.
        others = rules[1:] if self.identity else rules
        bulk_lists: tuple[Sequence[OfferSku], Sequence[ItemSku | None]] | None = None
        looked_up: _BulkValues | None = None
        # Whether a todo offer is exactly a known item (None: look it up in ``self.items``).
        exact: Callable[[str], bool] | None = None
        if bulk and self.identity and all(r[0] or r[1] for r in others) and offers:
            suspect_items = self._suspect_items(mp, raw, normed, others)
            if lookup is not None:
                read = read_in_step(offers, lookup, None)
                values, todo_at = read.values, read.absent
                if suspect_items:
                    # Suspects are resolved one by one below, not by the bulk pass.
                    suspect_at = list(
                        compress(range(len(offers)), map(suspect_items.__contains__, offers))
                    )
                    for j in suspect_at:
                        values[j] = None
                    todo_at = sorted(todo_at + suspect_at)
                todo = list(map(offers.__getitem__, todo_at))
            else:
                miss = map(operator.not_, map(self.items.__contains__, offers))
                if suspect_items:
                    miss = map(operator.or_, miss, map(suspect_items.__contains__, offers))
                todo = list(compress(offers, miss))
            # A todo offer is a miss or a suspect item: exactly an item iff a suspect item.
            exact = suspect_items.__contains__
            # A tuple: the garbage collector stops scanning it once it knows it holds only
            # strings (a list of a million offers would be traversed by every full collection).
            frozen = tuple(offers)
            bulk_lists = (frozen, frozen)  # type: ignore[assignment]
        else:
            todo = offers
        todo_keys = self.normalisation.apply_many(todo)

        # Explicit entries first (raw, then normalised).
        raw_get = raw.get
        normed_get = normed.get
        rest: list[str] = []
        rest_keys: list[str] = []
        for offer, key in zip(todo, todo_keys, strict=True):
            target = raw_get(offer)
            if target is None:
                target = normed_get(key)
                if target is None:
                    rest.append(offer)
                    rest_keys.append(key)
                    continue
            if type(target) is tuple and len(target) == 1:  # _place, inlined (common case)
                comp = target[0]
                if comp[1] == 1:
                    singles[offer] = comp[0]  # type: ignore[index]
                else:
                    packs[offer] = comp  # type: ignore[index]
            else:
                _place(singles, packs, bundles, unresolved, offer, target)

        if rest:
            self._resolve_by_rules(
                rest, rest_keys, rules, exact, singles, packs, unresolved, unmapped
            )
        table = MappingTable(
            marketplace=mp,
            singles=singles,
            packs=packs,
            bundles=bundles,
            unresolved=unresolved,
            unmapped=unmapped,
            bulk=bulk_lists,
        )
        if lookup is not None and bulk_lists is not None:
            # The offers found in ``lookup`` in its order are distinct, the others (``todo``)
            # are not in it: the offers are distinct if the todo offers are, i.e. if each has
            # its own entry in the table's other dicts.
            n_todo = len(singles) + len(packs) + len(bundles) + len(unresolved) + len(unmapped)
            distinct = read.in_order and n_todo == len(todo)
            looked_up = _BulkValues(values, todo_at, distinct)
        return table, looked_up

    def _resolve_by_rules(
        self,
        rest: list[str],
        rest_keys: list[str],
        rules: tuple[_CRule, ...],
        exact: Callable[[str], bool] | None,
        singles: dict[OfferSku, ItemSku],
        packs: dict[OfferSku, tuple[ItemSku, int]],
        unresolved: dict[OfferSku, Unresolved],
        unmapped: dict[OfferSku, None],
    ) -> None:
        """Rules (identity plus prefix/suffix rules) for offers without an explicit entry: one
        list of hits per rule (C-level lookups), then combined per offer."""
        identity_keys = rest_keys if exact is None else self._live_identity_keys(rest, rest_keys)
        stripped = [identity_keys if r[4] else _strip_all(rest_keys, r[0], r[1]) for r in rules]
        # In the offers' order, which is mostly the catalogue's: looking them up in that order
        # reads the catalogue's entries ascending (see _CatalogueKeys.select).
        needed = dict.fromkeys(chain.from_iterable(stripped))
        needed.pop("", None)
        index, ambiguous = self._normalised_items(needed.keys())
        index_get = index.get
        per_rule: list[list[str | None]] = []
        for rule, ks in zip(rules, stripped, strict=True):
            hits: list[str | None] = list(map(index_get, ks))
            if rule[4]:
                # An exact match wins over the normalised lookup.
                is_exact = exact if exact is not None else self.items.__contains__
                for j in compress(range(len(rest)), map(is_exact, rest)):
                    hits[j] = rest[j]
            per_rule.append(hits)
        if not ambiguous and 1 <= len(rules) <= 2:
            # Common shapes (identity alone, or identity + one prefix/suffix rule): no per-offer
            # dict; a disagreement between the two rules goes to the general loop below.
            q0 = rules[0][2]
            if len(rules) == 1:
                pairs: Iterable[tuple[str, str | None, str | None]] = zip(
                    rest, per_rule[0], repeat(None)
                )
                q1 = q0
            else:
                pairs = zip(rest, per_rule[0], per_rule[1], strict=True)
                q1 = rules[1][2]
            conflicts: list[int] = []
            for j, (offer, a, b) in enumerate(pairs):
                if a is None:
                    if b is None:
                        unmapped[offer] = None  # type: ignore[index]
                    elif q1 == 1:
                        singles[offer] = b  # type: ignore[index,assignment]
                    else:
                        packs[offer] = (b, q1)  # type: ignore[index,assignment]
                elif b is None or (b == a and q1 == q0):
                    if q0 == 1:
                        singles[offer] = a  # type: ignore[index,assignment]
                    else:
                        packs[offer] = (a, q0)  # type: ignore[index,assignment]
                else:
                    conflicts.append(j)
            todo_idx: Iterable[int] = conflicts
        else:
            todo_idx = range(len(rest))
        for j in todo_idx:
            offer = rest[j]
            if ambiguous:
                amb = next(
                    (
                        (ks[j], r[3])
                        for ks, r in zip(stripped, rules, strict=True)
                        if ks[j] in ambiguous
                    ),
                    None,
                )
                if amb is not None:
                    cands = ambiguous[amb[0]]
                    unresolved[offer] = Unresolved(  # type: ignore[index]
                        offer_sku=OfferSku(offer),
                        reason=UnresolvedReason.AMBIGUOUS,
                        detail=f"rule {amb[1]!r} matches {len(cands)} items: " + ", ".join(cands),
                        candidates=cands,
                    )
                    continue
            found: dict[tuple[str, int], list[str]] = {}
            for hits, r in zip(per_rule, rules, strict=True):
                h = hits[j]
                if h is not None:
                    found.setdefault((h, r[2]), []).append(r[3])
            if len(found) == 1:
                ((item, k),) = found
                if k == 1:
                    singles[offer] = item  # type: ignore[index,assignment]
                else:
                    packs[offer] = (item, k)  # type: ignore[index,assignment]
            elif not found:
                unmapped[offer] = None  # type: ignore[index]
            else:
                described = sorted(f"{'+'.join(n)}->{q}x{i}" for (i, q), n in found.items())
                unresolved[offer] = Unresolved(  # type: ignore[index]
                    offer_sku=OfferSku(offer),
                    reason=UnresolvedReason.CONFLICTING_RULES,
                    detail="rules disagree: " + ", ".join(described),
                    candidates=tuple(described),
                )

    def _live_identity_keys(self, rest: list[str], keys: list[str]) -> list[str]:
        """``keys`` (the identity rule's, aligned with ``rest``) with ``""`` where no item but
        the offer itself could have the key, so the normalised lookup is not made. In a
        one-shape catalogue (see :class:`_CatalogueKeys`) the item of key ``k`` can only be
        spelt ``k`` (or ``k.upper()``); when that is the offer, the lookup finds the offer or
        nothing, and the exact-match pass has already decided it. Most rule offers are such
        misses (prefixed, bundle or unknown SKUs in the catalogue's own case)."""
        cat = self._catalogue()
        if not cat.looks_up or not keys:
            return keys
        if cat._upper:
            buf = _SEP.join(keys)
            if buf.count(_SEP) != len(keys) - 1:
                return keys  # a key holds the separator: not worth the care
            spelled = buf.upper().split(_SEP)
        else:
            spelled = keys
        same = list(map(operator.eq, spelled, rest))
        if not any(same):
            return keys
        return list(map(operator.getitem, zip(keys, repeat(""), strict=False), same))


class _BulkValues(NamedTuple):
    """What :meth:`SkuMap._resolve` read from its ``lookup``, aligned with the offers."""

    values: list[int | None]
    """``lookup[offer]`` for the offers the bulk pass resolved, ``None`` for the others."""
    todo_at: list[int]
    """The positions of the others (resolved one by one, or unresolved), ascending."""
    distinct: bool
    """Whether the offers are known to be distinct (``False``: not known)."""


class _CatalogueKeys:
    """The known items, scanned by normalised key: the items whose key is in a set, or starts
    or ends with given strings.

    Most catalogues are ASCII SKUs without whitespace, all in one case. Then no key string is
    made per item: lower-case (or, without case folding, any) such SKUs are their own keys, and
    for upper-case ones the wanted keys are folded to upper case instead, so the scans probe the
    items themselves (whose hashes the item dict has already computed). In such a catalogue a
    key names at most one item, spelt like the (folded) key: given ``members`` (the items as a
    set or mapping), :meth:`select` looks the wanted keys up instead of scanning the items.
    Other catalogues get their keys computed once.
    """

    __slots__ = ("_buf", "_keys", "_lookup", "_norm", "_upper", "items")

    def __init__(
        self,
        items: Collection[str],
        norm: Normalisation,
        *,
        keys: Collection[str] | None = None,
        members: Container[str] | None = None,
    ) -> None:
        self.items = items
        self._norm = norm
        self._keys = keys
        # The items as a set or mapping, once the shape check has passed (see select).
        self._lookup: Container[str] | None = None
        self._upper = False  # upper-case catalogue: probes folded with _upper_probes
        self._buf: str | None = None  # the keys (or the items when _upper) joined with _SEP
        if keys is None and items and len(items) >= _SHAPE_MIN:
            buf = _SEP.join(items)
            if buf.isascii() and (
                norm.whitespace == "keep" or not any(map(buf.__contains__, _ASCII_SPACE))
            ):
                # Keys are items.casefold(), the ASCII lower(), or the items themselves. The
                # first item tells which case to check (a search per letter, at memchr speed).
                first = next(iter(items))
                if not norm.fold_case or (
                    first == first.lower() and not any(map(buf.__contains__, ascii_uppercase))
                ):
                    self._keys, self._buf, self._lookup = items, buf, members
                elif not any(map(buf.__contains__, ascii_lowercase)):
                    self._upper, self._buf, self._lookup = True, buf, members

    @property
    def looks_up(self) -> bool:
        """Whether :meth:`select` can look keys up (one shape) rather than scan the items."""
        return self._lookup is not None

    def keys(self) -> Collection[str]:
        """Every item's key, aligned with :attr:`items` (iterated in the same order)."""
        if self._keys is None:
            self._keys = self._norm.apply_many(self.items)
        return self._keys

    def select(self, wanted: AbstractSet[str]) -> tuple[list[str], list[str]]:
        """The keys and the items (aligned) whose key is in ``wanted``: in catalogue order, or
        in ``wanted``'s order when the catalogue's shape lets the keys be looked up."""
        lookup = self._lookup
        if lookup is not None and len(wanted) * _LOOKUP_SHARE <= len(self.items):
            # One shape: the item whose key is ``k`` can only be ``k`` (or ``k.upper()``). A
            # lookup per wanted key (random reads in the item set) beats the sequential scan
            # while the keys are at most a quarter of the items (_LOOKUP_SHARE, measured).
            if self._upper:
                # An item found by its probe has the probe's key as its own (see
                # _upper_probes): no key to compute.
                probes = _upper_probes(wanted)
                found = list(filter(lookup.__contains__, probes))
                return list(map(probes.__getitem__, found)), found
            found = list(filter(lookup.__contains__, wanted))
            return found, found
        # isdisjoint first: one pass without a mask, stopping at the first hit, rules out the
        # common case of no hit at all (e.g. explicit offer SKUs that are not item SKUs).
        if self._upper:
            probes = _upper_probes(wanted)
            if probes.keys().isdisjoint(self.items):
                return [], []
            items = list(compress(self.items, map(probes.__contains__, self.items)))
            return list(map(probes.__getitem__, items)), items
        keys = self.keys()
        if wanted.isdisjoint(keys):
            return [], []
        mask = list(map(wanted.__contains__, keys))
        return list(compress(keys, mask)), list(compress(self.items, mask))

    def with_affix(self, prefixes: tuple[str, ...], suffixes: tuple[str, ...]) -> list[str]:
        """The items whose key starts with one of ``prefixes`` or ends with one of ``suffixes``."""
        if self._upper:
            prefixes, suffixes = tuple(_upper_probes(prefixes)), tuple(_upper_probes(suffixes))
            keys = self.items
        else:
            keys = self.keys()
        buf = self._buf
        if buf is None:
            buf = self._buf = _SEP.join(keys)
        # One substring search over all keys rules most catalogues out at C speed: a key
        # starting with ``p`` starts the buffer or follows a separator (a false hit, e.g. a key
        # holding the separator, only costs the exact scan).
        found: list[str] = []
        if any(buf.startswith(p) or _SEP + p in buf for p in prefixes):
            found += compress(self.items, map(methodcaller("startswith", prefixes), keys))
        if any(buf.endswith(s) or s + _SEP in buf for s in suffixes):
            found += compress(self.items, map(methodcaller("endswith", suffixes), keys))
        return found


def _upper_probes(keys: Iterable[str]) -> dict[str, str]:
    """How upper-case ASCII items whose key is one of ``keys`` are spelt, mapped to that key:
    ``key.upper()`` for the keys it lower-cases back to (an ASCII key with an upper-case letter,
    or a non-ASCII key, is no such item's key). An item so spelt has that key as its own (in a
    one-shape catalogue, see :class:`_CatalogueKeys`). Usually one pass over one joined
    buffer; in the order of ``keys`` (lookups in a large catalogue are cheaper in its own
    order)."""
    key_list = list(keys)
    buf = _SEP.join(key_list)
    if buf.isascii() and buf.count(_SEP) == len(key_list) - 1 and buf.lower() == buf:
        return dict(zip(buf.upper().split(_SEP), key_list, strict=True))
    return {p: k for k in key_list if k.isascii() and (p := k.upper()).lower() == k}


# _CatalogueKeys checks the catalogue's shape from this many items on, in one buffer of the
# items joined with _SEP; the ASCII whitespace characters (str.split and str.strip).
_SHAPE_MIN: Final = 64
# select() looks the wanted keys up when there are at most one per this many items.
_LOOKUP_SHARE: Final = 4
_SEP: Final = "\x00"
_ASCII_SPACE: Final = (" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def _group_keys(
    keys: Iterable[str], items: Iterable[str]
) -> tuple[dict[str, ItemSku], dict[str, tuple[ItemSku, ...]]]:
    """Normalised key -> item, and the keys several items share (ambiguous, with their items
    sorted). Items whose key is empty are left out."""
    groups: dict[str, set[str]] = {}
    index: dict[str, ItemSku] = {}
    for k, item in zip(keys, items, strict=True):
        if not k:
            continue
        if k in index:
            groups.setdefault(k, {index[k]}).add(item)
        else:
            index[k] = ItemSku(item)
    ambiguous: dict[str, tuple[ItemSku, ...]] = {}
    for k, group in groups.items():
        if len(group) > 1:
            ambiguous[k] = tuple(ItemSku(i) for i in sorted(group))
            del index[k]
    return index, ambiguous


_UNMAPPED_DETAIL: Final = "no explicit entry and no rule matches a known item"


def _place(
    singles: dict[OfferSku, ItemSku],
    packs: dict[OfferSku, tuple[ItemSku, int]],
    bundles: dict[OfferSku, Components],
    unresolved: dict[OfferSku, Unresolved],
    offer: str,
    target: _Target,
) -> None:
    """File ``offer`` under its explicit ``target``."""
    if type(target) is tuple:
        if len(target) == 1:
            comp = target[0]
            if comp[1] == 1:
                singles[offer] = comp[0]  # type: ignore[index]
            else:
                packs[offer] = comp  # type: ignore[index]
        else:
            bundles[offer] = target  # type: ignore[index]
    else:
        assert isinstance(target, Unresolved)
        if target.offer_sku != offer:
            target = attrs.evolve(target, offer_sku=OfferSku(offer))
        unresolved[offer] = target  # type: ignore[index]


_ENTRY_MARKETPLACE: Final = operator.attrgetter("marketplace")
_ENTRY_OFFER: Final = operator.attrgetter("offer_sku")
_ENTRY_COMPONENTS: Final = operator.attrgetter("components")


def _explicit_tables(
    norm: Normalisation, group: list[MappingEntry]
) -> tuple[dict[str, _Target], dict[str, _Target]]:
    """The raw and normalised explicit tables of one marketplace's entries.

    Fast path (C-level ``dict(zip(...))``) when no offer SKU is listed twice and no two offer
    SKUs share a normalised key; otherwise the grouping below (same results either way).
    """
    offers = list(map(_ENTRY_OFFER, group))
    targets: list[_Target] = list(map(_ENTRY_COMPONENTS, group))
    raw: dict[str, _Target] = dict(zip(offers, targets, strict=True))
    if len(raw) == len(offers):
        nt: dict[str, _Target] = dict(zip(norm.apply_many(offers), targets, strict=True))
        if len(nt) == len(raw):
            return raw, nt
    return _explicit_tables_grouped(norm, group)


def _explicit_tables_grouped(
    norm: Normalisation, group: list[MappingEntry]
) -> tuple[dict[str, _Target], dict[str, _Target]]:
    """:func:`_explicit_tables` by grouping (handles repeated and colliding offer SKUs)."""
    by_offer: dict[str, set[Components]] = {}
    for e in group:
        by_offer.setdefault(e.offer_sku, set()).add(e.components)
    raw: dict[str, _Target] = {}
    normed: dict[str, list[tuple[str, Components]]] = {}
    for offer, targets in by_offer.items():
        if len(targets) == 1:
            (target,) = targets
            raw[offer] = target
            normed.setdefault(norm.apply(offer), []).append((offer, target))
        else:
            raw[offer] = Unresolved(
                offer_sku=OfferSku(offer),
                reason=UnresolvedReason.CONFLICTING_RULES,
                detail=f"{len(targets)} different explicit entries for this SKU",
                candidates=tuple(sorted(_describe(t) for t in targets)),
            )
    nt: dict[str, _Target] = {}
    for key, hits in normed.items():
        distinct = {t for _, t in hits}
        if len(distinct) == 1:
            nt[key] = hits[0][1]
        else:
            nt[key] = Unresolved(
                offer_sku=OfferSku(key),
                reason=UnresolvedReason.AMBIGUOUS,
                detail="several explicit entries differ only by case/whitespace: "
                + ", ".join(sorted(o for o, _ in hits)),
                candidates=tuple(sorted(o for o, _ in hits)),
            )
    return raw, nt


def _strip_all(keys: list[str], prefix: str, suffix: str) -> list[str]:
    """:func:`_strip` over a list."""
    if prefix and not suffix:
        n = len(prefix)
        return [k[n:] if k.startswith(prefix) else "" for k in keys]
    return [_strip(k, prefix, suffix) for k in keys]


def _strip(key: str, prefix: str, suffix: str) -> str:
    """``key`` without ``prefix`` and ``suffix`` ("" when they do not match)."""
    if prefix:
        if not key.startswith(prefix):
            return ""
        key = key[len(prefix) :]
    if suffix:
        if not key.endswith(suffix):
            return ""
        key = key[: -len(suffix)]
    return key


def _describe(target: Components) -> str:
    return " + ".join(f"{q}x{i}" for i, q in target)


def _entries_from_rows(records: Iterable[Mapping[str, object]]) -> list[MappingEntry]:
    groups: dict[tuple[str | None, str], list[tuple[str, int]]] = {}
    for n, rec in enumerate(records, start=1):
        line = rec.get("_line", n)
        offer = str(rec.get("offer_sku") or "").strip()
        item = str(rec.get("item_sku") or "").strip()
        if not offer or not item:
            raise MappingTableError(f"row {line}: offer_sku and item_sku are required")
        qty_raw = rec.get("quantity")
        if qty_raw is None or qty_raw == "":
            qty = 1
        else:
            try:
                qty = int(str(qty_raw).strip())
            except ValueError:
                raise MappingTableError(
                    f"row {line}: quantity {qty_raw!r} is not an integer"
                ) from None
        if qty < 1:
            raise MappingTableError(f"row {line}: quantity must be >= 1")
        mp_raw = rec.get("marketplace")
        mp = str(mp_raw).strip() if mp_raw not in (None, "") else None
        group = groups.setdefault((mp or None, offer), [])
        if any(i == item for i, _ in group):
            raise MappingTableError(f"row {line}: item {item!r} listed twice for offer {offer!r}")
        group.append((item, qty))
    entries: list[MappingEntry] = []
    for (mp, offer), comps in groups.items():
        entries.append(
            MappingEntry(
                offer_sku=OfferSku(offer),
                components=_check_components(offer, comps),
                marketplace=Marketplace(mp) if mp else None,
            )
        )
    return entries
