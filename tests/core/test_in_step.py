"""``values_in_step`` gives ``[other.get(k, default) for k in keys]`` whatever the orders, and
reads ``other`` sequentially (no hash lookup) where it lists the keys in the same order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core import _in_step
from mirakl_sync.core._in_step import read_in_step, values_in_step


class CountingDict(dict[str, int]):
    """A dict that counts its hash lookups through ``get``."""

    lookups = 0

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.lookups += 1
        return super().get(key, default)


def _copy(s: str) -> str:
    return (s + " ")[:-1]  # an equal string, another object (as from another source)


@st.composite
def keys_and_mapping(draw: st.DrawFn) -> tuple[list[str], dict[str, int]]:
    """A mapping, and keys derived from its order: entries dropped, extra keys inserted, runs
    moved, keys repeated, or the whole order shuffled."""
    names = draw(st.lists(st.text("ABab -", min_size=1, max_size=4), unique=True, max_size=60))
    other = {n: i for i, n in enumerate(names)}
    keys = [_copy(n) for n in names]
    for op in draw(st.lists(st.sampled_from(["drop", "extra", "move", "repeat"]), max_size=8)):
        if op == "extra":
            keys.insert(draw(st.integers(0, len(keys))), draw(st.text("xyz", max_size=3)))
        elif keys:
            i = draw(st.integers(0, len(keys) - 1))
            if op == "drop":
                del keys[i]
            elif op == "repeat":
                keys.insert(draw(st.integers(0, len(keys))), keys[i])
            else:
                run = keys[i : i + draw(st.integers(1, 5))]
                del keys[i : i + len(run)]
                j = draw(st.integers(0, len(keys)))
                keys[j:j] = run
    if draw(st.booleans()):
        random.Random(draw(st.integers(0, 9))).shuffle(keys)
    return keys, other


@settings(max_examples=400, deadline=None)
@given(case=keys_and_mapping(), small=st.booleans())
def test_values_in_step_equals_get(case: tuple[list[str], dict[str, int]], small: bool) -> None:
    keys, other = case
    with pytest.MonkeyPatch.context() as mp:
        if small:  # reach the look-ahead limit and the give-up check on small inputs
            mp.setattr(_in_step, "_WINDOW", 2)
            mp.setattr(_in_step, "_BUDGET", 1)
        assert values_in_step(keys, other, None) == [other.get(k) for k in keys]
        assert values_in_step(keys, other, -1) == [other.get(k, -1) for k in keys]
        read = read_in_step(keys, other, None)
        assert read.absent == [i for i, k in enumerate(keys) if k not in other]
        if read.in_order:
            # The keys found were read at ascending entries of ``other``: distinct.
            found = [k for k in keys if k in other]
            assert len(set(found)) == len(found)
            positions = list(other)
            assert [positions.index(k) for k in found] == sorted(positions.index(k) for k in found)


def test_in_order_is_known_for_keys_in_the_mappings_order() -> None:
    names = [f"SKU-{i:05d}" for i in range(1_000)]
    other = {n: i for i, n in enumerate(names) if i % 7}
    keys = [_copy(n) for n in names]
    keys.insert(500, "EXTRA")
    read = read_in_step(keys, other, None)
    assert read.in_order
    assert read.absent == sorted([500, *(i + (i >= 500) for i in range(0, 1_000, 7))])
    assert read_in_step(tuple(keys), other, None) == read  # a tuple is read the same way
    # A key found again, or found before the walk's position, is not "in order".
    assert not read_in_step([*keys, keys[3]], other, None).in_order
    assert not read_in_step(keys[::-1], other, None).in_order


def test_aligned_keys_need_no_lookup() -> None:
    names = [f"SKU-{i:05d}" for i in range(10_000)]
    other = CountingDict((n, i) for i, n in enumerate(names))
    keys = [_copy(n) for n in names]
    assert values_in_step(keys, other, None) == list(range(10_000))
    assert other.lookups == 0


def test_gaps_on_either_side_cost_one_lookup_each() -> None:
    names = [f"SKU-{i:05d}" for i in range(10_000)]
    # The mapping lacks every 100th key and has 12 extra entries after every 100th.
    other = CountingDict()
    for i, n in enumerate(names):
        if i % 100:
            other[n] = i
        if i % 100 == 50:
            for x in range(12):
                other[f"{n}-extra-{x}"] = -1
    keys = [_copy(n) for n in names]
    assert values_in_step(keys, other, None) == [other.get(k) for k in keys]
    other.lookups = 0
    values_in_step(keys, other, None)
    # One lookup per missing key (100) and one per re-synchronisation after extras (100).
    assert other.lookups == 200


def test_unrelated_orders_fall_back_to_lookups() -> None:
    names = [f"SKU-{i:05d}" for i in range(10_000)]
    other = CountingDict((n, i) for i, n in enumerate(names))
    keys = names[:]
    random.Random(5).shuffle(keys)
    assert values_in_step(keys, other, None) == [other[k] for k in keys]


def test_few_keys_against_a_large_mapping_use_lookups() -> None:
    other = CountingDict((f"SKU-{i}", i) for i in range(1_000))
    assert values_in_step(["SKU-1", "SKU-2", "nope"], other, 0) == [1, 2, 0]
    assert values_in_step([], other, 0) == []
