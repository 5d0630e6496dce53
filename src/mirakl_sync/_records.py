"""Many records of a frozen, slotted attrs class, made by column.

A frozen attrs record's ``__init__`` sets each field through a guarded ``object.__setattr__``
call: about 1,700 machine instructions per field, so most of the cost of a small record. Where
a run makes records by the hundred thousand (stored stock rows, findings of a large
reconciliation), :func:`records_by_column` writes each field into every record with a C-level
loop over the slot's descriptor instead. The records are the same as the constructor's for
classes without validators, converters or ``__attrs_post_init__`` (checked).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sized
from itertools import repeat
from typing import Any, TypeVar

import attrs

__all__ = ["records_by_column"]

T = TypeVar("T")

# Per class: each field's slot setter (filled on first use).
_SETTERS: dict[type[Any], dict[str, Callable[[Any, Any], None]]] = {}


def _setters(cls: type[Any]) -> dict[str, Callable[[Any, Any], None]]:
    setters = _SETTERS.get(cls)
    if setters is None:
        fields = attrs.fields(cls)
        if (
            "__slots__" not in vars(cls)
            or hasattr(cls, "__attrs_post_init__")
            or any(f.validator is not None or f.converter is not None for f in fields)
        ):
            raise TypeError(f"{cls.__name__} is not a plain slotted attrs class")
        setters = _SETTERS[cls] = {f.name: vars(cls)[f.name].__set__ for f in fields}
    return setters


def records_by_column(cls: type[T], n: int, columns: Mapping[str, Iterable[Any]]) -> list[T]:
    """``n`` records of ``cls``, field ``name`` of record ``i`` being item ``i`` of
    ``columns[name]``. Every field must be given; a column with a length must have ``n``
    values (use ``itertools.repeat(value)`` for a field all records share). Equal to
    ``[cls(**fields) for ...]`` (``cls`` must be a slotted attrs class without validators,
    converters or ``__attrs_post_init__``)."""
    setters = _setters(cls)
    if columns.keys() != setters.keys():
        raise ValueError(
            f"{cls.__name__} columns: expected {sorted(setters)}, got {sorted(columns)}"
        )
    for name, column in columns.items():
        if isinstance(column, Sized) and len(column) != n:
            raise ValueError(f"{cls.__name__} column {name!r}: {len(column)} values, not {n}")
    records: list[T] = list(map(object.__new__, repeat(cls, n)))
    for name, column in columns.items():
        deque(map(setters[name], records, column), maxlen=0)
    return records
