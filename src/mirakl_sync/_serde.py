"""Wire-format machinery shared by the API clients (Mirakl, and later Inventory Planner).

Every rule about how JSON becomes typed models (and back) lives here, not on the models:

* :func:`make_api_converter` builds a *tolerant* cattrs converter: extra keys are ignored, ``null``
  means "absent" for any field with a default, money is :class:`~decimal.Decimal` (exact, also
  from strings and floats), integers and booleans are accepted as strings, timestamps become aware
  UTC datetimes and a field annotated ``SomeStrEnum | str`` keeps unknown enum values as their raw
  string instead of failing.
* :func:`to_wire` and :func:`json_dumps` turn request models into JSON bodies with exact decimals.
* :func:`loads_json` parses bodies with ``parse_float=Decimal`` so money is never a binary float.
* :func:`structure_or_raise` turns any parse failure into
  :class:`~mirakl_sync.errors.ResponseValidationError`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import types
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import IterableValidationError
from cattrs.gen import make_dict_structure_fn

from mirakl_sync.errors import BODY_EXCERPT_CHARS, ResponseValidationError

__all__ = [
    "is_tolerant_enum_union",
    "json_dumps",
    "loads_json",
    "make_api_converter",
    "parse_datetime",
    "structure_or_raise",
    "to_wire",
    "wrap_structure_hook",
]

T = TypeVar("T")

_TRUE = frozenset({"true"})
_FALSE = frozenset({"false"})


# --------------------------------------------------------------------------------------------
# Scalar parsers
# --------------------------------------------------------------------------------------------


def _to_decimal(value: Any, _: Any = None) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got a boolean: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # str() is the shortest round-tripping repr: 0.1 -> Decimal("0.1"), not the binary value.
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _to_int(value: Any, _: Any = None) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected an integer, got a boolean: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise ValueError(f"not an integral number: {value!r}")
    if isinstance(value, (Decimal, str)):
        number = _to_decimal(value)
        if number == number.to_integral_value():
            return int(number)
        raise ValueError(f"not an integral number: {value!r}")
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _to_bool(value: Any, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"not a boolean: {value!r}")
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _to_str(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    # Ids and codes sometimes arrive as numbers ("import_id": 2035 where a string is declared).
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def parse_datetime(value: Any) -> dt.datetime:
    """Parse an ISO-8601 timestamp into an aware UTC datetime.

    Accepts ``...Z``, ``....fffZ``, ``+hh:mm`` offsets, naive values (taken as UTC) and date-only
    strings (midnight UTC).
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("z", "Z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 date-time: {value!r}") from None
    else:
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _to_datetime(value: Any, _: Any = None) -> dt.datetime:
    return parse_datetime(value)


def _to_date(value: Any, _: Any = None) -> dt.date:
    if isinstance(value, dt.datetime):
        return parse_datetime(value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return parse_datetime(value).date()
    raise TypeError(f"expected an ISO-8601 date, got {type(value).__name__}")


def _format_datetime(value: dt.datetime) -> str:
    """ISO-8601 in UTC with ``Z``; fractions as milliseconds when exact (``...59.999Z``)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    micro = aware.microsecond
    timespec = "milliseconds" if micro and micro % 1000 == 0 else "auto"
    return aware.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# Tolerant enums: ``SomeStrEnum | str`` (optionally ``| None``)
# --------------------------------------------------------------------------------------------


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if get_origin(tp) in (Union, types.UnionType):
        return get_args(tp)
    return None


def _tolerant_enum_class(tp: Any) -> type[enum.StrEnum] | None:
    args = _union_args(tp)
    if args is None:
        return None
    rest = [a for a in args if a is not type(None)]
    if len(rest) != 2 or str not in rest:
        return None
    other = rest[0] if rest[1] is str else rest[1]
    if isinstance(other, type) and issubclass(other, enum.StrEnum):
        return other
    return None


def is_tolerant_enum_union(tp: Any) -> bool:
    """Whether ``tp`` is ``E | str`` or ``E | str | None`` for one :class:`enum.StrEnum` ``E``."""
    return _tolerant_enum_class(tp) is not None


def _make_tolerant_enum_hook(tp: Any) -> Callable[[Any, Any], Any]:
    enum_cls = _tolerant_enum_class(tp)
    assert enum_cls is not None
    optional = type(None) in (_union_args(tp) or ())

    def structure(value: Any, _: Any) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, enum_cls):
            return value
        if not isinstance(value, str):
            raise TypeError(f"expected a string for {enum_cls.__name__}: {type(value).__name__}")
        try:
            return enum_cls(value)
        except ValueError:
            return value

    return structure


def _optional_inner(tp: Any) -> Any | None:
    """``X`` for ``X | None`` (a union of exactly ``X`` and ``None``), else ``None``."""
    args = _union_args(tp)
    if args is None or len(args) != 2 or type(None) not in args:
        return None
    return args[0] if args[1] is type(None) else args[1]


def _make_optional_hook(converter: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """``X | None``: ``None`` stays ``None``, anything else goes to ``X``'s hook, looked up once
    (cattrs' own optional hook dispatches on ``X`` for every value)."""
    inner = _optional_inner(tp)
    handler: Callable[[Any, Any], Any] | None = None  # resolved on first use (recursive types)

    def structure(value: Any, _: Any) -> Any:
        nonlocal handler
        if value is None:
            return None
        if handler is None:
            handler = converter.get_structure_hook(inner)
        return handler(value, inner)

    return structure


def _unstructure_enum_or_str(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


# --------------------------------------------------------------------------------------------
# Collections and attrs classes
# --------------------------------------------------------------------------------------------


def _is_homogeneous_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def _make_tuple_hook(converter: cattrs.Converter, tp: Any) -> Callable[[Any, Any], tuple[Any, ...]]:
    item_type = get_args(tp)[0]
    handlers: list[Callable[[Any, Any], Any]] = []  # resolved on first use (recursive types)

    def structure(value: Any, _: Any) -> tuple[Any, ...]:
        if value is None:
            return ()
        if not isinstance(value, (list, tuple)):
            # A string or a mapping would otherwise be iterated into garbage.
            raise TypeError(f"expected a JSON array, got {type(value).__name__}")
        if not handlers:
            handlers.append(converter.get_structure_hook(item_type))
        handler = handlers[0]
        items: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(handler(item, item_type))
            except Exception as exc:
                note = cattrs.IterableValidationNote(
                    f"Structuring {tp!r} @ index {index}", index, item_type
                )
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
        return tuple(items)

    return structure


def _make_attrs_hook(converter: cattrs.Converter, cls: type[Any]) -> Callable[[Any, Any], Any]:
    generated = make_dict_structure_fn(cls, converter)

    def structure(value: Any, tp: Any) -> Any:
        # ``type(...) is dict`` first: parsed JSON objects are dicts, and the ABC check is slow.
        if type(value) is not dict and not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}: {type(value).__name__}")
        # Mirakl sends null for absent optional values: treat null as "absent" so every field
        # with a default gets it (None, or () for lists). Required fields still fail when null.
        return generated({k: v for k, v in value.items() if v is not None}, tp)

    return structure


def wrap_structure_hook(
    converter: cattrs.Converter,
    cls: type[T],
    preprocess: Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> None:
    """Register a hook for ``cls`` that rewrites its JSON object before the generic hook runs.

    Used for per-API quirks (renamed or duplicated wire keys). Non-mappings go straight to the
    generic hook, which rejects them.
    """
    base = converter.get_structure_hook(cls)

    def structure(value: Any, tp: Any) -> T:
        if isinstance(value, Mapping):
            value = preprocess(value)
        result: T = base(value, tp)
        return result

    converter.register_structure_hook(cls, structure)


# --------------------------------------------------------------------------------------------
# The converter
# --------------------------------------------------------------------------------------------


def make_api_converter() -> cattrs.Converter:
    """A tolerant converter for API responses and request bodies.

    Structuring: extra keys ignored; ``null`` = absent; ``Decimal`` from str/int/float (exact);
    ``int`` from ints, integral floats and numeric strings; ``bool`` from ``"true"``/``"false"``;
    aware UTC ``datetime``; ``date``; ``E | str`` keeps unknown enum values as raw strings;
    ``tuple[X, ...]`` from JSON arrays only.

    Unstructuring: ``Decimal`` stays ``Decimal`` (see :func:`json_dumps`), ``datetime`` becomes
    ISO-8601 with ``Z``, ``date`` ISO-8601, enums their value.
    """
    converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)

    converter.register_structure_hook(Decimal, _to_decimal)
    converter.register_structure_hook(int, _to_int)
    converter.register_structure_hook(bool, _to_bool)
    converter.register_structure_hook(str, _to_str)
    converter.register_structure_hook(dt.datetime, _to_datetime)
    converter.register_structure_hook(dt.date, _to_date)
    converter.register_structure_hook_factory(
        lambda tp: _optional_inner(tp) is not None, lambda tp: _make_optional_hook(converter, tp)
    )
    converter.register_structure_hook_factory(is_tolerant_enum_union, _make_tolerant_enum_hook)
    converter.register_structure_hook_factory(
        _is_homogeneous_tuple, lambda tp: _make_tuple_hook(converter, tp)
    )
    converter.register_structure_hook_factory(
        attrs.has, lambda cls: _make_attrs_hook(converter, cls)
    )

    converter.register_unstructure_hook_func(is_tolerant_enum_union, _unstructure_enum_or_str)
    converter.register_unstructure_hook(Decimal, lambda d: d)
    converter.register_unstructure_hook(dt.datetime, _format_datetime)
    converter.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    return converter


# --------------------------------------------------------------------------------------------
# Requests: to_wire and json_dumps
# --------------------------------------------------------------------------------------------


def _drop_none(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    return value


def to_wire(converter: cattrs.Converter, obj: Any) -> dict[str, Any]:
    """Unstructure an attrs request object into a JSON-ready dict.

    Keys whose value is ``None`` are dropped (recursively); tuples become lists; ``Decimal``
    values stay ``Decimal`` (serialise with :func:`json_dumps`).
    """
    data = _drop_none(converter.unstructure(obj))
    if not isinstance(data, dict):
        raise TypeError(f"{type(obj).__name__} does not unstructure to a JSON object")
    return data


def _format_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot serialise non-finite number {value!r} to JSON")
    # Fixed-point keeps every digit and never produces an exponent (1E+2 -> "100").
    return format(value, "f")


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(str(value)))
    elif isinstance(value, Decimal):
        out.append(_format_decimal(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(json.dumps(value, allow_nan=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {type(key).__name__}")
            if index:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dt.datetime):
        out.append(json.dumps(_format_datetime(value)))
    elif isinstance(value, dt.date):
        out.append(json.dumps(value.isoformat()))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(obj: Any) -> str:
    """Serialise JSON-ready data (as produced by :func:`to_wire`) to compact JSON text.

    ``Decimal`` values are written as JSON numbers with their exact digits (``Decimal("0.30")``
    -> ``0.30``), never through a binary float.
    """
    out: list[str] = []
    _encode(obj, out)
    return "".join(out)


def loads_json(text_or_bytes: str | bytes | bytearray) -> Any:
    """Parse a JSON body, reading every non-integer number as an exact ``Decimal``."""
    return json.loads(text_or_bytes, parse_float=Decimal)


# --------------------------------------------------------------------------------------------
# Responses: structure_or_raise
# --------------------------------------------------------------------------------------------


def _excerpt(data: Any) -> str:
    try:
        text = json_dumps(data)
    except (TypeError, ValueError, RecursionError):
        text = repr(data)
    return text[:BODY_EXCERPT_CHARS]


def _details(exc: Exception) -> tuple[str, ...]:
    try:
        return tuple(cattrs.transform_error(exc, path="$"))
    except Exception:
        return (f"{type(exc).__name__}: {exc}",)


def structure_or_raise(
    converter: cattrs.Converter,
    data: Any,
    cls: type[T],
    *,
    operation: str | None = None,
    method: str | None = None,
    url: str | None = None,
) -> T:
    """Structure ``data`` into ``cls`` or raise :class:`ResponseValidationError`.

    ``details`` carries cattrs' per-path messages and ``body_excerpt`` the start of the body;
    no cattrs, ``KeyError``, ``ValueError`` or ``TypeError`` escapes.
    """
    try:
        return converter.structure(data, cls)
    except Exception as exc:
        name = getattr(cls, "__name__", repr(cls))
        raise ResponseValidationError(
            f"response does not match {name}",
            details=_details(exc),
            body_excerpt=_excerpt(data),
            operation=operation,
            method=method,
            url=url,
        ) from exc
