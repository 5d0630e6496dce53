"""Publishable stock per offer (and per Mirakl warehouse code) and the delta to push.

For one offer made of components ``{item: k}`` (a plain offer is ``{item: 1}``, a multipack
``{item: pack_size}``)::

    publishable = min over components of
        floor((available[item] - soft_reserved[item] - safety_buffer) / k)
    clamped to [0, max_published]

``soft_reserved`` is what accepted Mirakl orders hold that the inventory system has not deducted
yet. The buffer is per marketplace (:class:`StockPolicy`). Offers whose mapping is unresolved get
no quantity: they are quarantined and reported as ``UNMAPPED_SKU``, never guessed.

A stock *state* is ``{warehouse_code: {offer_sku: quantity}}``; the empty code
(:data:`~mirakl_sync.core.models.GLOBAL_WAREHOUSE`) is the offer's global quantity. Functions
accept any mappings and return plain dicts, except :func:`resolve_and_publish`, whose quantities
come as an :class:`~mirakl_sync.core.quantities.OfferQuantities` (held by column, so that a
million offers are not hashed into a dict nobody looks up).
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, compress, groupby, repeat
from typing import Final, TypeAlias, TypeVar, cast

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar
from mirakl_sync.core._in_step import values_in_step
from mirakl_sync.core.mapping import Components, MappingTable, SkuMap
from mirakl_sync.core.models import GLOBAL_WAREHOUSE, ItemSku, OfferSku, WarehouseCode
from mirakl_sync.core.quantities import OfferQuantities

__all__ = [
    "OfferQuantities",
    "StockDelta",
    "StockLevels",
    "StockPolicy",
    "StockState",
    "pool_columns",
    "publishable_by_warehouse",
    "publishable_quantities",
    "publishable_quantity",
    "resolve_and_publish",
    "single_pool",
    "stock_delta",
    "stock_hash",
]

StockLevels: TypeAlias = Mapping[OfferSku, int]
StockState: TypeAlias = Mapping[WarehouseCode, Mapping[OfferSku, int]]
DeltaLine: TypeAlias = tuple[WarehouseCode, OfferSku, int]

_EMPTY: Mapping[ItemSku, int] = {}
T = TypeVar("T")


def _buffers(value: Mapping[str, int]) -> dict[str, int]:
    return dict(value)


@attrs.frozen(kw_only=True)
class StockPolicy:
    """How much of the available stock may be published.

    Attributes:
        safety_buffer: units of each item kept back (default 0), unless the marketplace has its
            own value in ``marketplace_buffers``.
        marketplace_buffers: per-marketplace safety buffer, e.g. ``{"conrad": 2}``.
        max_published: upper clamp of a published quantity (default ``None``: no cap).
    """

    safety_buffer: int = 0
    marketplace_buffers: Mapping[str, int] = attrs.field(
        factory=dict, converter=_buffers, hash=False
    )
    max_published: int | None = None

    def buffer_for(self, marketplace: str | None) -> int:
        if marketplace is not None:
            return self.marketplace_buffers.get(marketplace, self.safety_buffer)
        return self.safety_buffer


def publishable_quantity(
    components: Components,
    available: Mapping[ItemSku, int],
    reserved: Mapping[ItemSku, int] = _EMPTY,
    *,
    safety_buffer: int = 0,
    max_published: int | None = None,
) -> int:
    """The publishable quantity of one offer (the reference formula, see the module doc)."""
    if not components:
        return 0
    q = min(
        (available.get(item, 0) - reserved.get(item, 0) - safety_buffer) // k
        for item, k in components
    )
    return _clamp(q, max_published)


def _clamp(q: int, cap: int | None) -> int:
    """``q`` within ``[0, cap]`` (no upper bound when ``cap`` is None). The per-offer loops below
    write this expression inline: a call per offer costs more than the expression."""
    return 0 if q < 0 else (q if cap is None or q <= cap else cap)


def _net(
    available: Mapping[ItemSku, int],
    reserved: Mapping[ItemSku, int] | None,
    *,
    known_only: bool = False,
) -> Mapping[ItemSku, int]:
    """``available`` less ``reserved`` (a reserved item it lacks gets ``-reserved``). With
    ``known_only``, only its own items' reservations are applied: the same keys in the same
    order, as a lookup that must hold known items only."""
    if not reserved:
        return available
    net = dict(available)
    for item in reserved.keys() & net.keys() if known_only else reserved.keys():
        net[item] = net.get(item, 0) - reserved[item]
    return net


def publishable_quantities(
    table: MappingTable,
    available: Mapping[ItemSku, int],
    *,
    reserved: Mapping[ItemSku, int] | None = None,
    policy: StockPolicy | None = None,
    marketplace: str | None = None,
) -> dict[OfferSku, int]:
    """Publishable quantity of every resolved offer of ``table`` (unresolved offers are left out).

    ``marketplace`` picks the buffer (defaults to the table's marketplace).
    """
    policy = policy or StockPolicy()
    buf = policy.buffer_for(marketplace if marketplace is not None else table.marketplace)
    cap = policy.max_published
    net = _net(available, reserved)
    bulk_offers = table._bulk_offers
    if not bulk_offers:
        singles = table.singles
        out = _clamped(singles, values_in_step(list(singles.values()), net, 0), buf, cap)
        _fill_rest(out, table, net.get, buf, cap, extra_singles=False)
        return out
    # Offers the identity rule resolved in bulk are their own items: read the availability
    # in step with them (the engine's catalogue and stock pools share one order). The offers
    # the bulk pass left to the slow path get any value here: theirs is written by _fill_rest,
    # or they are removed (unresolved).
    items = cast("Sequence[ItemSku]", table._bulk_items)  # each bulk offer's own item
    out = _clamped(bulk_offers, values_in_step(items, net, 0), buf, cap)
    _fill_rest(out, table, net.get, buf, cap, extra_singles=True)
    unmapped, others = table._compact_unresolved()
    for offer in chain(unmapped, others):
        out.pop(offer, None)
    return out


def _clamped(
    offers: Iterable[OfferSku], values: Iterable[int | None], buf: int, cap: int | None
) -> dict[OfferSku, int]:
    """``{offer: clamp(value - buf)}`` in offer order, clamped by a C-level map over a table of
    the few distinct quantities (``None`` values stay ``None``)."""
    return cast(
        "dict[OfferSku, int]",
        dict(zip(offers, map(_Clamped(buf, cap).__getitem__, values), strict=True)),
    )


def _fill_rest(
    out: dict[OfferSku, int],
    table: MappingTable,
    get: Callable[[ItemSku, int], int],
    buf: int,
    cap: int | None,
    *,
    extra_singles: bool,
    reserved: Mapping[ItemSku, int] | None = None,
) -> None:
    """Add the slow-path singles (when the bulk path ran), multipacks and bundles to ``out``.

    ``get`` reads the available quantity; ``reserved`` (if any) is subtracted from it here."""
    rget = (reserved or _EMPTY).get
    if extra_singles:
        for offer, item in table._extra_singles.items():
            x = get(item, 0) - rget(item, 0) - buf
            out[offer] = 0 if x < 0 else (x if cap is None or x <= cap else cap)
    for offer, (item, k) in table.packs.items():
        x = (get(item, 0) - rget(item, 0) - buf) // k
        out[offer] = 0 if x < 0 else (x if cap is None or x <= cap else cap)
    for offer, comps in table.bundles.items():
        # min over components, written out: a generator per bundle costs more than the loop.
        m: int | None = None
        for item, k in comps:
            y = (get(item, 0) - rget(item, 0) - buf) // k
            if m is None or y < m:
                m = y
        assert m is not None  # a bundle has at least one component
        out[offer] = 0 if m < 0 else (m if cap is None or m <= cap else cap)


class _Clamped(dict[int | None, int | None]):
    """``x -> clamp(x - buf, 0, cap)``, computed once per distinct ``x`` on first lookup
    (``None`` stays ``None``): a catalogue has few distinct quantities, so a C-level ``map`` over
    this table replaces a per-offer Python expression."""

    __slots__ = ("buf", "cap")

    def __init__(self, buf: int, cap: int | None) -> None:
        super().__init__({None: None})
        self.buf, self.cap = buf, cap

    def __missing__(self, x: int | None) -> int | None:
        assert x is not None  # None is in the table from the start
        self[x] = value = _clamp(x - self.buf, self.cap)
        return value


def resolve_and_publish(
    sku_map: SkuMap,
    offers: Iterable[str],
    available: Mapping[ItemSku, int],
    *,
    reserved: Mapping[ItemSku, int] | None = None,
    policy: StockPolicy | None = None,
    marketplace: str | None = None,
) -> tuple[MappingTable, OfferQuantities]:
    """``sku_map.resolve_many(offers)`` and :func:`publishable_quantities` in one go.

    Same table and the same quantities as the two calls, in offer order, as an
    :class:`~mirakl_sync.core.quantities.OfferQuantities` (a read-only mapping held by column:
    no dict of the offers is built unless one is looked up by offer). Faster on large
    catalogues when ``available`` is the very mapping the SkuMap was built with as ``items``
    (``SkuMap(..., items=available)``): the exact-identity lookup then reads the quantities in
    the same pass.
    """
    offer_list = offers if isinstance(offers, list) else list(offers)
    policy = policy or StockPolicy()
    buf, cap = policy.buffer_for(marketplace), policy.max_published
    lookup = None
    if available is sku_map.items:
        # The bulk pass reads the availability net of the reservations of known items (same
        # keys, same order); the other offers' items are read below, reservations apart.
        lookup = cast("Mapping[str, int]", _net(available, reserved, known_only=True))
    table, bulk = sku_map._resolve(offer_list, marketplace, lookup)
    if bulk is None:
        by_offer = publishable_quantities(
            table, available, reserved=reserved, policy=policy, marketplace=marketplace
        )
        in_order = list(filter(by_offer.__contains__, offer_list))  # the offers' order
        ordered = dict(zip(in_order, map(by_offer.__getitem__, in_order), strict=True))
        return table, OfferQuantities.from_mapping(ordered)
    # The bulk offers' quantities, by position; then the others' (``None``: unresolved, not
    # in the result).
    values = list(map(_Clamped(buf, cap).__getitem__, bulk.values))
    rest: dict[OfferSku, int] = {}
    _fill_rest(rest, table, available.get, buf, cap, extra_singles=True, reserved=reserved)
    bulk_offers = cast("tuple[OfferSku, ...]", table._bulk_offers)  # every offer, as a tuple
    todo = map(bulk_offers.__getitem__, bulk.todo_at)
    unresolved_at: list[int] = []
    for at, q in zip(bulk.todo_at, map(rest.get, todo), strict=True):
        if q is None:
            unresolved_at.append(at)
        else:
            values[at] = q
    # Tuples: the garbage collector stops traversing a tuple of strings and ints once it has
    # seen it (a list is traversed by every collection of its generation).
    if unresolved_at:
        keys, column = _without(bulk_offers, unresolved_at), _without(values, unresolved_at)
        table._share_bulk(keys)  # one tuple of the offers, not two
    else:
        keys, column = bulk_offers, tuple(values)
    quantities = cast("tuple[int, ...]", column)  # no None left
    if not bulk.distinct:
        # An offer listed twice (or not known not to be): one entry each, as a dict keeps them.
        return table, OfferQuantities.from_mapping(dict(zip(keys, quantities, strict=True)))
    return table, OfferQuantities._of_columns(keys, quantities)


def _without(column: Sequence[T], drop_at: list[int]) -> tuple[T, ...]:
    """``column`` without the entries at the ascending positions ``drop_at``, copied slice by
    slice (dropping a few entries of a million costs no per-entry call)."""
    kept: list[T] = []
    start = 0
    for at in drop_at:
        kept += column[start:at]
        start = at + 1
    kept += column[start:]
    return tuple(kept)


def publishable_by_warehouse(
    table: MappingTable,
    available_by_warehouse: Mapping[WarehouseCode, Mapping[ItemSku, int]],
    *,
    reserved_by_warehouse: Mapping[WarehouseCode, Mapping[ItemSku, int]] | None = None,
    policy: StockPolicy | None = None,
    marketplace: str | None = None,
) -> dict[WarehouseCode, dict[OfferSku, int]]:
    """:func:`publishable_quantities` for each stock pool; key ``""`` is the global quantity."""
    reserved_by_warehouse = reserved_by_warehouse or {}
    return {
        wh: publishable_quantities(
            table,
            pool,
            reserved=reserved_by_warehouse.get(wh),
            policy=policy,
            marketplace=marketplace,
        )
        for wh, pool in available_by_warehouse.items()
    }


def stock_hash(lines: list[DeltaLine] | tuple[DeltaLine, ...]) -> str:
    """A stable sha256 of sorted ``(warehouse, offer, quantity)`` lines (length-prefixed fields,
    so no SKU content can collide with the separators)."""
    return _hash_groups(
        (w, ((o, q) for _, o, q in group)) for w, group in groupby(sorted(lines), _ITEM0)
    )


def _hash_groups(groups: Iterable[tuple[str, Iterable[tuple[str, int]]]]) -> str:
    """:func:`stock_hash` of sorted lines given per warehouse as ``(offer, quantity)`` pairs: one
    sha256 over one joined buffer."""
    parts: list[str] = []
    for w, pairs in groups:
        head = f"{len(w)}:{w}"
        parts.extend([f"{head}{len(o)}:{o}{q};" for o, q in pairs])
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


_ITEM0: Final = operator.itemgetter(0)
_ITEM1: Final = operator.itemgetter(1)

# A delta held by column: per warehouse (ascending), the offers (ascending, each once) and their
# quantities. A million-offer reconciliation keeps tens of thousands of changed offers; columns
# spare one tuple per line (and the garbage collector's passes over them).
DeltaColumns: TypeAlias = tuple[tuple[WarehouseCode, tuple[OfferSku, ...], tuple[int, ...]], ...]


class StockDelta(RecordsDisplayMixin):
    """The absolute quantities to push: only offers whose target differs from the last confirmed
    published state. ``lines`` are sorted ``(warehouse, offer, quantity)`` tuples.

    Built by :func:`stock_delta` and :func:`~mirakl_sync.core.reconcile.compare_stock` from
    columns (the line tuples are made on first use of ``lines``); :meth:`iter_lines`,
    :meth:`by_warehouse`, :meth:`apply` and ``len()`` read the columns directly. Read-only.
    """

    __slots__ = ("_columns", "_hash", "_lines")

    def __init__(self, *, lines: Iterable[DeltaLine], content_hash: str) -> None:
        self._lines: tuple[DeltaLine, ...] | None = tuple(lines)
        self._columns: DeltaColumns | None = None
        self._hash = content_hash

    @classmethod
    def from_columns(
        cls, columns: Iterable[tuple[str, Iterable[str], Iterable[int]]]
    ) -> StockDelta:
        """A delta from per-warehouse columns ``(warehouse, offers, quantities)``, offers aligned
        with their quantities. Columns and offers are put in ascending order when they are not
        (the usual callers pass them sorted; checking costs one C-level pass); an offer listed
        twice in one warehouse, or a warehouse listed twice, is a ``ValueError``. The content
        hash is computed here (equal to :func:`stock_hash` of the lines)."""
        cols: list[tuple[WarehouseCode, tuple[OfferSku, ...], tuple[int, ...]]] = []
        for w, offers, qs in columns:
            o, q = tuple(offers), tuple(qs)
            if len(o) != len(q):
                raise ValueError(f"warehouse {w!r}: {len(o)} offers but {len(q)} quantities")
            if not all(map(operator.lt, o, o[1:])):
                # Positions in offer order (a sort of the strings, not of pairs).
                order = sorted(range(len(o)), key=o.__getitem__)
                o, q = tuple(map(o.__getitem__, order)), tuple(map(q.__getitem__, order))
                if not all(map(operator.lt, o, o[1:])):
                    raise ValueError(f"warehouse {w!r}: an offer is listed twice")
            cols.append((WarehouseCode(w), cast("tuple[OfferSku, ...]", o), q))
        if not all(map(operator.lt, map(_ITEM0, cols), map(_ITEM0, cols[1:]))):
            cols.sort(key=_ITEM0)
            if len({w for w, _, _ in cols}) != len(cols):
                raise ValueError("a warehouse is listed twice")
        delta = cls.__new__(cls)
        delta._lines = None
        delta._columns = tuple(cols)
        delta._hash = _hash_groups(
            (w, zip(offers, qs, strict=True)) for w, offers, qs in delta._columns
        )
        return delta

    @property
    def content_hash(self) -> str:
        """sha256 of the sorted lines (:func:`stock_hash`)."""
        return self._hash

    @property
    def lines(self) -> tuple[DeltaLine, ...]:
        lines = self._lines
        if lines is None:
            lines = self._lines = tuple(self.iter_lines())
        return lines

    def iter_lines(self) -> Iterator[DeltaLine]:
        """The lines in order, without building the ``lines`` tuple."""
        if self._columns is None:
            assert self._lines is not None
            return iter(self._lines)
        return (
            line
            for w, offers, qs in self._columns
            for line in zip(repeat(w), offers, qs, strict=False)
        )

    def __len__(self) -> int:
        if self._columns is not None:
            return sum(len(offers) for _, offers, _ in self._columns)
        assert self._lines is not None
        return len(self._lines)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StockDelta):
            return NotImplemented
        return self.content_hash == other.content_hash and self.lines == other.lines

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __reduce__(self) -> tuple[object, ...]:
        return (_delta_from_lines, (self.lines, self.content_hash))

    @property
    def is_empty(self) -> bool:
        return len(self) == 0

    def by_warehouse(self) -> dict[WarehouseCode, dict[OfferSku, int]]:
        if self._columns is not None:
            return {w: dict(zip(offers, qs, strict=True)) for w, offers, qs in self._columns}
        out: dict[WarehouseCode, dict[OfferSku, int]] = {}
        for w, o, q in self.iter_lines():
            out.setdefault(w, {})[o] = q
        return out

    def apply(self, last: StockState) -> dict[WarehouseCode, dict[OfferSku, int]]:
        """The published state after this delta is confirmed on top of ``last``."""
        new = {w: dict(pool) for w, pool in last.items()}
        for w, pool in self.by_warehouse().items():
            new.setdefault(w, {}).update(pool)
        return new

    def __repr__(self) -> str:
        if self._columns is not None:
            whs = len(self._columns)
        else:
            whs = len({w for w, _, _ in self.iter_lines()})
        return (
            f"<StockDelta {len(self)} line(s) in {whs} warehouse pool(s)"
            f" hash={self.content_hash[:12]}>"
        )

    def to_records(self) -> list[dict[str, Scalar]]:
        return [{"warehouse": w, "offer_sku": o, "quantity": q} for w, o, q in self.iter_lines()]

    def _display_title(self) -> str:
        return "StockDelta"

    def _display_summary(self) -> list[tuple[str, Scalar]]:
        return [("lines", len(self)), ("content hash", self.content_hash)]


def _delta_from_lines(lines: tuple[DeltaLine, ...], content_hash: str) -> StockDelta:
    return StockDelta(lines=lines, content_hash=content_hash)


def stock_delta(target: StockState, last: StockState) -> StockDelta:
    """The lines of ``target`` that differ from (or are absent in) ``last``.

    Offers present in ``last`` but not in ``target`` are left alone (quarantined offers are never
    zeroed by omission). ``delta.apply(last)`` restricted to ``target``'s keys equals ``target``.
    """
    empty: Mapping[OfferSku, int] = {}
    columns: list[tuple[WarehouseCode, Sequence[OfferSku], Sequence[int]]] = []
    for wh in sorted(target):
        offers, quantities = pool_columns(target[wh])
        # The last push read in step with the target (see values_in_step): the engine's
        # published state and catalogue are both sorted by offer SKU.
        lasts = values_in_step(offers, last.get(wh, empty), None)
        changed = list(map(operator.ne, quantities, lasts))
        if any(changed):
            columns.append(
                (wh, list(compress(offers, changed)), list(compress(quantities, changed)))
            )
    return StockDelta.from_columns(columns)


def pool_columns(pool: Mapping[OfferSku, int]) -> tuple[Sequence[OfferSku], Sequence[int]]:
    """A stock pool's offers and their quantities, aligned (the columns of an
    :class:`~mirakl_sync.core.quantities.OfferQuantities` as they are)."""
    if isinstance(pool, OfferQuantities):
        return pool._columns()
    return list(pool), list(pool.values())


def single_pool(levels: Mapping[OfferSku, int]) -> dict[WarehouseCode, Mapping[OfferSku, int]]:
    """Wrap one offer -> quantity mapping as a state with only the global pool."""
    return {GLOBAL_WAREHOUSE: levels}
