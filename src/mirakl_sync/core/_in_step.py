"""Lookups that read a large mapping in step with a list of keys.

States that come from the same source list their offers in the same order: the engine's offer
catalogue and its published stock are both sorted by offer SKU, the target state follows the
catalogue, an export and the state built from it share the export's order, and a catalogue whose
offers are mostly item SKUs lists them in the items' order. On a million entries a hash lookup
is a few cache misses (the index slot, the entry, the key's characters, all at random places),
while reading the next entry of the mapping is sequential. :func:`values_in_step` reads the
mapping's entries alongside the keys while they agree and falls back to the hash lookup where
they do not; it gives up the walk (C-level lookups for the rest) when the two orders turn out
to be unrelated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import compress, repeat
from operator import is_, length_hint, ne
from typing import Final, Generic, NamedTuple, TypeVar, cast

__all__ = ["InStep", "read_in_step", "values_in_step"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_MISSING: Final = object()

# How far ahead a re-synchronisation looks (keys the mapping has and the list has not, e.g. the
# catalogue items no offer equals), and how many failed looks are tolerated before checking
# whether the walk still pays.
_WINDOW: Final = 64
_BUDGET: Final = 64
# Below this many keys per entry of the mapping, copying its keys costs more than the lookups.
_MIN_SHARE: Final = 4


def values_in_step(keys: Sequence[K], other: Mapping[K, V], default: D) -> list[V | D]:
    """``[other.get(k, default) for k in keys]``, reading ``other`` in step with ``keys``.

    Same result for any order; fast (sequential reads instead of hash lookups) where ``other``
    lists the keys in the order of ``keys``, with gaps on either side. Keys are compared with
    ``==``, as the mapping's own lookup does.
    """
    return read_in_step(keys, other, default).values


class InStep(NamedTuple, Generic[V, D]):
    """What :func:`read_in_step` read."""

    values: list[V | D]
    """``other.get(k, default)`` for each key."""
    absent: list[int]
    """The positions of the keys not in ``other``, ascending."""
    in_order: bool
    """Whether each key found in ``other`` was read at a later entry than the key found before
    it. The keys found are then distinct (distinct entries of one mapping): a caller is spared
    a hash of every key to prove it. ``False`` says nothing either way."""


def read_in_step(keys: Sequence[K], other: Mapping[K, V], default: D) -> InStep[V, D]:
    """:func:`values_in_step`, with the positions of the absent keys and whether the keys found
    were read in ``other``'s order (see :class:`InStep`)."""
    n = len(other)
    if not keys or len(keys) * _MIN_SHARE < n:
        return _looked_up(keys, 0, other, default, [], in_order=not keys)
    keys_at: Sequence[K] = keys if isinstance(keys, list | tuple) else list(keys)
    # The other's keys in a sequence of the same type, so that equal orders compare equal.
    okeys: Sequence[object] = tuple(other) if isinstance(keys_at, tuple) else list(other)
    ovals = list(other.values())
    if okeys == keys_at:
        return InStep(ovals, [], True)  # type: ignore[arg-type]  # the same keys, same order
    in_order = True
    # Iterators over both sequences, moved to a position with __setstate__ (list and tuple
    # iterators keep an index): a run of keys in step is measured at C level, up to the first
    # pair that differs.
    kit, oit = iter(keys_at), iter(okeys)
    nk = len(keys_at)
    get = other.get
    # Made at its full size (no reallocation as it fills); an absent key's value is in place.
    out: list[V | D] = [default] * nk
    absent: list[int] = []
    i = j = 0  # the next key, and the entry of ``other`` expected for it
    budget = _BUDGET
    while i < nk:
        k = keys_at[i]
        if j < n and okeys[j] == k:
            kit.__setstate__(i + 1)  # type: ignore[attr-defined]
            oit.__setstate__(j + 1)  # type: ignore[attr-defined]
            # Up to the first pair out of step (``kit`` stops just past it, at index
            # nk - length_hint), else until one list ends.
            differs = any(map(ne, kit, oit))
            run = nk - length_hint(kit) - i - 1 if differs else min(nk - i, n - j)
            out[i : i + run] = ovals[j : j + run]
            i += run
            j += run
            continue
        v = get(k, _MISSING)
        if v is _MISSING:
            absent.append(i)
            i += 1
            continue  # not in ``other``: the walk waits where it is
        out[i] = cast(V, v)
        i += 1
        # ``k`` is further on (entries the keys skip) or earlier (another order): look ahead.
        try:
            j = okeys.index(k, j, j + _WINDOW) + 1
        except ValueError:
            in_order = False  # read by hash, wherever the entry is
            budget -= 1
            if not budget:
                if 2 * j < i:
                    # The walk advanced for fewer than half the keys: unrelated orders.
                    tail = _looked_up(keys_at, i, other, default, absent, in_order=False)
                    out[i:] = tail.values
                    return InStep(out, tail.absent, False)
                budget = _BUDGET
    return InStep(out, absent, in_order)


def _looked_up(
    keys: Sequence[K],
    start: int,
    other: Mapping[K, V],
    default: D,
    absent: list[int],
    *,
    in_order: bool,
) -> InStep[V, D]:
    """``keys[start:]`` looked up by hash (C-level), their absent positions added to ``absent``
    (which holds those before ``start``)."""
    rest = keys[start:] if start else keys  # (any sequence when nothing was walked)
    values: list[V | D] = list(map(other.get, rest, repeat(_MISSING)))  # type: ignore[arg-type]
    for at in compress(range(len(values)), map(is_, values, repeat(_MISSING))):
        values[at] = default
        absent.append(start + at)
    return InStep(values, absent, in_order)
