"""The storage JSON codec writes exactly what the obvious recursive encoder writes, and reads it
back to an equal value (Decimals keep their digits, output is ASCII)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.storage import _codec
from mirakl_sync.storage.errors import InvalidValueError


class Sku(str):
    """A str subclass (NewType-like wrappers and enums reach the codec as such)."""


def _reference(value: Any) -> str:
    """The encoder the fast one must equal: ``json.dumps`` per scalar, written out."""
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, Decimal):
        text = str(value)
        return text if any(c in text for c in ".eE") else text + "E0"
    if isinstance(value, float):
        return float.__repr__(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(k)}:{_reference(v)}" for k, v in value.items()) + "}"
    return "[" + ",".join(_reference(v) for v in value) + "]"


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.text().map(Sku)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(value=values)
def test_dumps_equals_the_reference_and_round_trips(value: Any) -> None:
    text = _codec.dumps(value)
    assert text == _reference(value)
    assert text.isascii()
    back = _codec.loads(text)
    if "float" not in _kinds(value):  # floats come back as Decimals (written 1E+16, not 1e+16)
        assert _codec.dumps(back) == text  # tuples come back as lists, str subclasses as str


def _kinds(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        return set().union(*map(_kinds, value.values()))
    if isinstance(value, list | tuple):
        return set().union(*map(_kinds, value))
    return {type(value).__name__}


@pytest.mark.parametrize(
    "bad",
    [math.nan, math.inf, Decimal("NaN"), Decimal("-Infinity"), {1: "a"}, object(), {"a": {2}}],
)
def test_dumps_rejects_what_is_not_json(bad: object) -> None:
    with pytest.raises(InvalidValueError):
        _codec.dumps(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError):
        _codec.dumps([bad])  # type: ignore[list-item]


def test_dumps_limits_the_depth() -> None:
    deep: Any = 1
    for _ in range(201):
        deep = [deep]
    with pytest.raises(InvalidValueError, match="nested too deeply"):
        _codec.dumps(deep)
    _codec.dumps(deep[0])  # 200 levels of lists around a scalar are fine
    with pytest.raises(InvalidValueError, match="nested too deeply"):
        _codec.dumps({"a": deep[0]})
