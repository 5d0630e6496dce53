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
from itertools import repeat
from operator import length_hint, ne
from typing import Final, TypeVar, cast

__all__ = ["values_in_step"]

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
    n = len(other)
    if not keys or len(keys) * _MIN_SHARE < n:
        return list(map(other.get, keys, repeat(default)))
    okeys: list[object] = list(other)
    ovals = list(other.values())
    keys_at: Sequence[K] = keys if isinstance(keys, list) else list(keys)
    if okeys == keys_at:
        return ovals  # type: ignore[return-value]  # the same keys in the same order
    # Iterators over both lists, moved to a position with __setstate__ (list iterators keep an
    # index): a run of keys in step is measured at C level, up to the first pair that differs.
    kit, oit = iter(keys_at), iter(okeys)
    nk = len(keys_at)
    get = other.get
    out: list[V | D] = []
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
            out += ovals[j : j + run]
            i += run
            j += run
            continue
        i += 1
        v = get(k, _MISSING)
        if v is _MISSING:
            out.append(default)
            continue  # not in ``other``: the walk waits where it is
        out.append(cast(V, v))
        # ``k`` is further on (entries the keys skip) or earlier (another order): look ahead.
        try:
            j = okeys.index(k, j, j + _WINDOW) + 1
        except ValueError:
            budget -= 1
            if not budget:
                if 2 * j < len(out):
                    # The walk advanced for fewer than half the keys: unrelated orders.
                    out.extend(map(get, keys_at[i:], repeat(default)))
                    break
                budget = _BUDGET
    return out
