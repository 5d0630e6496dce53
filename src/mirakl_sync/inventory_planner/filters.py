"""Typed filters, sorting and field selection for Inventory Planner list endpoints.

IP filters are plain query parameters: ``<field>=<value>`` or ``<field>_<op>=<value>`` with the
operators ``_eq``, ``_eqi`` (case-insensitive), ``_ne``, ``_gt``, ``_gte``, ``_lt``, ``_lte``,
``_range`` (``"5-10"``), ``_match`` (regular expression) and ``_in`` (comma-separated list).
Sorting is ``<field>_sort=asc|desc``. Build them from typed values instead of strings::

    from mirakl_sync.inventory_planner import F

    client.variants.list(where=[F("replenishment") > 0, F("sku").matches("^TSHIRT")],
                         sort=[F("oos").asc()])

Comparison operators (``>``, ``>=``, ``<``, ``<=``) are overloaded on :class:`F`; equality uses
methods (``F("vendor").eq("Acme")``) so that ``==`` keeps its ordinary meaning.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Literal

import attrs

__all__ = [
    "F",
    "Filter",
    "FilterValue",
    "Operator",
    "Sort",
    "filter_params",
    "filters_body",
    "format_value",
    "sort_params",
]

Operator = Literal["eq", "eqi", "ne", "gt", "gte", "lt", "lte", "range", "match", "in"]
FilterValue = str | int | Decimal | bool | dt.date | dt.datetime

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


def _check_field(name: str) -> str:
    if not isinstance(name, str) or not _FIELD.match(name):
        raise ValueError(f"not an Inventory Planner field name: {name!r}")
    return name


def format_value(value: FilterValue) -> str:
    """A filter value as IP expects it in a query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("filter datetimes must be timezone-aware")
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"unsupported filter value type {type(value).__name__}")


@attrs.frozen
class Filter:
    """One filter: ``field``, operator and value (a pair for ``range``, values for ``in``)."""

    field: str = attrs.field(converter=_check_field)
    op: Operator
    value: FilterValue | tuple[FilterValue, ...]

    @property
    def param(self) -> tuple[str, str]:
        """The query parameter ``(name, value)``."""
        if self.op == "in":
            values = self.value if isinstance(self.value, tuple) else (self.value,)
            if not values:
                raise ValueError(f"{self.field}: an 'in' filter needs at least one value")
            texts = [format_value(v) for v in values]
            if any("," in t for t in texts):
                raise ValueError(f"{self.field}: 'in' values cannot contain commas")
            return (f"{self.field}_in", ",".join(texts))
        if self.op == "range":
            if not isinstance(self.value, tuple) or len(self.value) != 2:
                raise ValueError(f"{self.field}: a range needs (low, high)")
            low, high = (format_value(v) for v in self.value)
            return (f"{self.field}_range", f"{low}-{high}")
        if isinstance(self.value, tuple):
            raise ValueError(f"{self.field}: '{self.op}' takes one value")
        if self.op == "eq":  # plain ``field=value``: the form every integrator uses
            return (self.field, format_value(self.value))
        return (f"{self.field}_{self.op}", format_value(self.value))


@attrs.frozen
class Sort:
    """Sort by ``field`` (``<field>_sort=asc|desc``)."""

    field: str = attrs.field(converter=_check_field)
    descending: bool = False

    @property
    def param(self) -> tuple[str, str]:
        return (f"{self.field}_sort", "desc" if self.descending else "asc")


class F:
    """A field to filter or sort on: ``F("in_stock") <= 0``, ``F("sku").eqi("abc")``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = _check_field(name)

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def eq(self, value: FilterValue) -> Filter:
        return Filter(self.name, "eq", value)

    def eqi(self, value: str) -> Filter:
        """Equal, ignoring case."""
        return Filter(self.name, "eqi", value)

    def ne(self, value: FilterValue) -> Filter:
        return Filter(self.name, "ne", value)

    def gt(self, value: FilterValue) -> Filter:
        return Filter(self.name, "gt", value)

    def gte(self, value: FilterValue) -> Filter:
        return Filter(self.name, "gte", value)

    def lt(self, value: FilterValue) -> Filter:
        return Filter(self.name, "lt", value)

    def lte(self, value: FilterValue) -> Filter:
        return Filter(self.name, "lte", value)

    __gt__ = gt
    __ge__ = gte
    __lt__ = lt
    __le__ = lte

    def between(self, low: FilterValue, high: FilterValue) -> Filter:
        """Inclusive range (``_range=low-high``)."""
        return Filter(self.name, "range", (low, high))

    def matches(self, pattern: str) -> Filter:
        """Regular-expression / partial match (``_match``)."""
        return Filter(self.name, "match", pattern)

    def isin(self, values: Iterable[FilterValue]) -> Filter:
        """One of ``values`` (``_in``, comma-separated)."""
        if isinstance(values, str):
            raise TypeError("isin() takes an iterable of values, not a string")
        return Filter(self.name, "in", tuple(values))

    def asc(self) -> Sort:
        return Sort(self.name)

    def desc(self) -> Sort:
        return Sort(self.name, descending=True)


def filter_params(filters: Iterable[Filter] | None) -> list[tuple[str, str]]:
    """Query parameters for ``filters`` (order kept)."""
    out: list[tuple[str, str]] = []
    for item in filters or ():
        if not isinstance(item, Filter):
            raise TypeError(f"expected a Filter, got {type(item).__name__}")
        out.append(item.param)
    return out


def sort_params(sort: Iterable[Sort] | Sort | None) -> list[tuple[str, str]]:
    """Query parameters for one or several sort keys."""
    if sort is None:
        return []
    items = [sort] if isinstance(sort, Sort) else list(sort)
    for item in items:
        if not isinstance(item, Sort):
            raise TypeError(f"expected a Sort, got {type(item).__name__}")
    return [s.param for s in items]


JSONScalar = str | int | Decimal | bool


def _json_value(value: FilterValue) -> JSONScalar:
    if isinstance(value, dt.date):
        return format_value(value)
    return value


def filters_body(
    filters: Iterable[Filter] | Mapping[str, FilterValue],
) -> dict[str, JSONScalar]:
    """A ``variants_filter`` object for purchase-order creation (``{"vendor": "Acme",
    "replenishment_gt": 0}``) from typed filters: keys as in the query string, numbers and
    booleans kept as JSON numbers and booleans."""
    body: dict[str, JSONScalar] = {}
    if isinstance(filters, Mapping):
        body = {_check_field(k): _json_value(v) for k, v in filters.items()}
    else:
        for item in filters:
            if not isinstance(item, Filter):
                raise TypeError(f"expected a Filter, got {type(item).__name__}")
            name, text = item.param
            single = item.op not in ("in", "range") and not isinstance(item.value, tuple)
            body[name] = _json_value(item.value) if single else text  # type: ignore[arg-type]
    if not body:
        raise ValueError("a variants filter needs at least one condition")
    return body
