"""Value checks and encodings shared by every backend (internal).

All backends run the same checks so that a value one backend accepts, every backend accepts, and
comes back the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from mirakl_sync.storage.errors import InvalidTransitionError, InvalidValueError
from mirakl_sync.storage.records import MAX_ID_LENGTH, MAX_SHOP_LENGTH, JSONValue, OutboxStatus

__all__ = [
    "add_seconds",
    "check_components",
    "check_count",
    "check_decimal",
    "check_id",
    "check_optional_id",
    "check_shop",
    "check_text",
    "check_transition",
    "dt_from_text",
    "dt_to_text",
    "dumps",
    "loads",
    "optional_utc",
    "sources",
    "text_dumps",
    "text_loads",
    "utc",
]

_ALLOWED: dict[OutboxStatus, frozenset[OutboxStatus]] = {
    OutboxStatus.PLANNED: frozenset({OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.PARKED}),
    OutboxStatus.SENT: frozenset(
        {OutboxStatus.CONFIRMED, OutboxStatus.FAILED, OutboxStatus.PARKED}
    ),
    OutboxStatus.FAILED: frozenset({OutboxStatus.PLANNED}),
    OutboxStatus.PARKED: frozenset({OutboxStatus.PLANNED}),
    OutboxStatus.CONFIRMED: frozenset(),
}


def check_transition(key: str, current: OutboxStatus, target: OutboxStatus) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in _ALLOWED[current]:
        raise InvalidTransitionError(
            f"outbox item {key!r}: cannot go from {current.value} to {target.value}"
        )


def sources(target: OutboxStatus) -> list[OutboxStatus]:
    """The statuses from which ``target`` may be reached, sorted."""
    return sorted(status for status, targets in _ALLOWED.items() if target in targets)


def _check_str(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"{field} must be a str, not {type(value).__name__}")
    if len(value) > limit:
        raise InvalidValueError(f"{field} is {len(value)} characters long (at most {limit})")
    if "\x00" in value:
        raise InvalidValueError(f"{field} must not contain a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidValueError(f"{field} is not valid Unicode text (lone surrogate)") from exc
    return value


def check_shop(value: object) -> str:
    """Validate a shop key: a non-empty identifier of at most ``MAX_SHOP_LENGTH`` characters."""
    shop = _check_str("shop", value, MAX_SHOP_LENGTH)
    if not shop:
        raise InvalidValueError("shop must not be empty")
    return shop


def check_id(field: str, value: object, *, allow_empty: bool = False) -> str:
    """Validate an identifier (order id, SKU, key...)."""
    ident = _check_str(field, value, MAX_ID_LENGTH)
    if not ident and not allow_empty:
        raise InvalidValueError(f"{field} must not be empty")
    return ident


def check_optional_id(field: str, value: object) -> str | None:
    """Validate an optional identifier."""
    return None if value is None else check_id(field, value, allow_empty=True)


def check_text(field: str, value: object) -> str | None:
    """Validate optional free text (any length, any character)."""
    if value is not None and not isinstance(value, str):
        raise InvalidValueError(f"{field} must be a str or None, not {type(value).__name__}")
    return value


def check_count(field: str, value: object, *, minimum: int | None = 0) -> int:
    """Validate an integer (quantity, attempts...) that must fit in 64 bits."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValueError(f"{field} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidValueError(f"{field} must be >= {minimum}, got {value}")
    if not -(2**63) <= value < 2**63:
        raise InvalidValueError(f"{field} does not fit in 64 bits")
    return value


def check_decimal(field: str, value: object) -> Decimal | None:
    """Validate optional money: a finite ``Decimal``."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise InvalidValueError(f"{field} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidValueError(f"{field} must be finite, got {value}")
    return value


def check_components(value: object) -> tuple[tuple[str, int], ...]:
    """Validate mapping components: a non-empty sequence of ``(item_sku, quantity >= 1)``."""
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidValueError("components must be a non-empty sequence of (item_sku, quantity)")
    out: list[tuple[str, int]] = []
    for pair in value:
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise InvalidValueError("each component must be an (item_sku, quantity) pair")
        out.append((check_id("item_sku", pair[0]), check_count("quantity", pair[1], minimum=1)))
    return tuple(out)


def utc(value: object, field: str = "timestamp") -> datetime:
    """Validate an aware datetime and return it in UTC."""
    if not isinstance(value, datetime):
        raise InvalidValueError(f"{field} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(f"{field} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


def optional_utc(value: object, field: str = "timestamp") -> datetime | None:
    """:func:`utc` for optional values."""
    return None if value is None else utc(value, field)


def add_seconds(now: datetime, seconds: float) -> datetime:
    """``now + seconds`` after checking ``seconds`` is a positive finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidValueError("lease_seconds must be a number")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidValueError(f"lease_seconds must be positive, got {seconds}")
    return now + timedelta(seconds=seconds)


def dt_to_text(value: datetime) -> str:
    """Fixed-width ISO 8601 UTC text; sorts in time order (SQLite storage)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt_from_text(value: str) -> datetime:
    """Inverse of :func:`dt_to_text`."""
    return datetime.fromisoformat(value).astimezone(UTC)


# -- JSON ---------------------------------------------------------------------------------------


# What ``json.dumps`` writes for a string (ASCII-only, the C implementation when available),
# called directly: a million-line payload spends its time in per-value calls.
_STR: Final = json.encoder.encode_basestring_ascii
_CONSTANTS: Final[dict[object, str]] = {None: "null", True: "true", False: "false"}


def _encode(value: Any, parts: list[str], depth: int) -> None:
    if depth > 200:
        raise InvalidValueError("JSON value is nested too deeply (more than 200 levels)")
    kind = type(value)
    # Exact str and int first (the bulk of stored payloads); bool is an int subclass, so it
    # never takes the int branch and falls through to the constants.
    if kind is str:
        parts.append(_STR(value))
    elif kind is int:
        parts.append(int.__repr__(value))
    elif value is None or kind is bool:
        parts.append(_CONSTANTS[value])
    elif isinstance(value, str):
        parts.append(_STR(value))
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValueError(f"JSON value must be finite, got Decimal {value}")
        text = str(value)
        # "12" would read back as an int: give it an exponent so it reads back as a Decimal.
        parts.append(text if any(c in text for c in ".eE") else text + "E0")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(f"JSON value must be finite, got {value}")
        parts.append(float.__repr__(value))
    elif isinstance(value, Mapping):
        parts.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidValueError(f"JSON object keys must be str, not {type(key).__name__}")
            if not first:
                parts.append(",")
            first = False
            parts.append(_STR(key))
            parts.append(":")
            _encode(item, parts, depth + 1)
        parts.append("}")
    elif isinstance(value, list | tuple):
        parts.append("[")
        inline = depth < 200  # elements one level deeper are still within the limit
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            # Scalars inline (a call per element costs more than the test).
            kind = type(item)
            if kind is str and inline:
                parts.append(_STR(item))
            elif kind is int and inline:
                parts.append(int.__repr__(item))
            else:
                _encode(item, parts, depth + 1)
        parts.append("]")
    else:
        raise InvalidValueError(f"{type(value).__name__} is not a JSON value")


def dumps(value: JSONValue) -> str:
    """Encode a JSON value exactly (Decimals keep their digits; output is ASCII-only).

    Unicode is escaped (``\\uXXXX``), so NUL characters and lone surrogates inside strings are
    stored safely by every database.
    """
    parts: list[str] = []
    _encode(value, parts, 0)
    return "".join(parts)


def loads(text: str) -> JSONValue:
    """Decode what :func:`dumps` wrote; non-integer numbers come back as ``Decimal``."""
    result: JSONValue = json.loads(text, parse_float=Decimal)
    return result


def text_dumps(value: str | None) -> str | None:
    """Encode optional free text as a JSON string (keeps NUL and lone surrogates exactly)."""
    return None if value is None else json.dumps(value)


def text_loads(value: str | None) -> str | None:
    """Inverse of :func:`text_dumps`."""
    if value is None:
        return None
    result = json.loads(value)
    assert isinstance(result, str)
    return result
