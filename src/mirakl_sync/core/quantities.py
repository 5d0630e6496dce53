"""Offer SKU -> quantity, held as two aligned columns.

A stock pool of a million offers is mostly read in order: the delta and the stock detectors walk
the target alongside the last push and Mirakl's view (see :mod:`mirakl_sync.core._in_step`), and
the engine never looks a target quantity up by offer. Hashing a million offer SKUs into a dict
is the costliest join of a stock reconciliation (random writes all over a table larger than the
caches), so :func:`~mirakl_sync.core.stock.resolve_and_publish` returns its quantities as an
:class:`OfferQuantities`: the offers and their quantities side by side, in catalogue order, with
the hash index built on the first lookup by offer, if there is one.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, Mapping, Sequence, ValuesView
from operator import eq, lt
from typing import Any, cast

from mirakl_sync.core.models import OfferSku

__all__ = ["OfferQuantities"]

_SHOWN = 8  # entries shown by repr()


class OfferQuantities(Mapping[OfferSku, int]):
    """A read-only ``Mapping[OfferSku, int]`` kept as two aligned columns, :attr:`offers` and
    :attr:`quantities`, in the order it was built (e.g. the offer catalogue's).

    Iterating, ``len()``, ``items()``, ``values()`` and equality with another
    :class:`OfferQuantities` read the columns; ``q[offer]``, ``offer in q`` and ``q.get(offer)``
    build a dict index on first use and keep it. :meth:`to_dict` gives a plain dict (e.g. for
    JSON). Build one from pairs with ``OfferQuantities(offers, quantities)``: like
    ``dict(zip(offers, quantities))``, an offer listed twice keeps its first position and its
    last quantity.
    """

    __slots__ = ("_index", "_offers", "_quantities")

    def __init__(self, offers: Iterable[str] = (), quantities: Iterable[int] = ()) -> None:
        keys = tuple(offers)
        values = tuple(quantities)
        if len(keys) != len(values):
            raise ValueError(f"{len(keys)} offers but {len(values)} quantities")
        self._index: dict[OfferSku, int] | None = None
        # Strictly ascending offers (the engine's catalogue order) are distinct: one C-level
        # pass; otherwise the set of the offers tells.
        if not all(map(lt, keys, keys[1:])) and len(set(keys)) != len(keys):
            index = dict(zip(keys, values, strict=True))
            keys, values = tuple(index), tuple(index.values())
            self._index = index  # type: ignore[assignment]
        self._offers: Sequence[OfferSku] = keys  # type: ignore[assignment]
        self._quantities: Sequence[int] = values

    @classmethod
    def _of_columns(cls, offers: Sequence[OfferSku], quantities: Sequence[int]) -> OfferQuantities:
        """Columns owned by the new instance (no copy, no check): aligned, the offers distinct."""
        self = cls.__new__(cls)
        self._offers, self._quantities, self._index = offers, quantities, None
        return self

    @classmethod
    def from_mapping(
        cls, quantities: Mapping[OfferSku, int] | Mapping[str, int]
    ) -> OfferQuantities:
        """The same pairs, in the mapping's order."""
        if isinstance(quantities, OfferQuantities):
            return quantities
        index = cast("dict[OfferSku, int]", dict(quantities))
        self = cls._of_columns(list(index), list(index.values()))
        self._index = index
        return self

    def _columns(self) -> tuple[Sequence[OfferSku], Sequence[int]]:
        """The columns themselves (not to be modified)."""
        return self._offers, self._quantities

    @property
    def offers(self) -> tuple[OfferSku, ...]:
        """The offers, in order (each once)."""
        return tuple(self._offers)

    @property
    def quantities(self) -> tuple[int, ...]:
        """The quantities, aligned with :attr:`offers`."""
        return tuple(self._quantities)

    def _lookup(self) -> dict[OfferSku, int]:
        index = self._index
        if index is None:
            index = self._index = dict(zip(self._offers, self._quantities, strict=True))
        return index

    def __getitem__(self, offer: OfferSku) -> int:
        return self._lookup()[offer]

    def get(self, offer: OfferSku, default: Any = None) -> Any:
        return self._lookup().get(offer, default)

    def __contains__(self, offer: object) -> bool:
        return offer in self._lookup()

    def __iter__(self) -> Iterator[OfferSku]:
        return iter(self._offers)

    def __len__(self) -> int:
        return len(self._offers)

    def items(self) -> ItemsView[OfferSku, int]:
        return _Items(self)

    def values(self) -> ValuesView[int]:
        return _Values(self)

    def to_dict(self) -> dict[OfferSku, int]:
        """A new plain dict of the same pairs, in order."""
        return dict(zip(self._offers, self._quantities, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OfferQuantities):
            if len(self) != len(other):
                return False
            if all(map(eq, self._offers, other._offers)):  # the same order (the usual case)
                return all(map(eq, self._quantities, other._quantities))
            return self._lookup() == other._lookup()
        if isinstance(other, Mapping):
            return len(self) == len(other) and self._lookup() == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, ...]:
        return (OfferQuantities, (self.offers, self.quantities))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{o!r}: {q!r}"
            for o, q in zip(self._offers[:_SHOWN], self._quantities[:_SHOWN], strict=True)
        )
        n = len(self)
        more = f", ... ({n:,} offers)" if n > _SHOWN else ""
        return f"OfferQuantities({{{shown}{more}}})"


class _Items(ItemsView[OfferSku, int]):
    _mapping: OfferQuantities

    def __iter__(self) -> Iterator[tuple[OfferSku, int]]:
        return zip(*self._mapping._columns(), strict=True)


class _Values(ValuesView[int]):
    _mapping: OfferQuantities

    def __iter__(self) -> Iterator[int]:
        return iter(self._mapping._columns()[1])

    def __contains__(self, value: object) -> bool:
        return value in self._mapping._columns()[1]
