"""The cattrs converter for Inventory Planner responses.

:func:`mirakl_sync._serde.make_api_converter` (tolerant: unknown keys ignored, ``null`` = absent,
exact ``Decimal`` numbers) plus IP's quirks:

* dates and timestamps also arrive as Unix seconds (``"last_forecast_time": 1580197499``, received
  history ``date``) and optional values as empty strings (``"min_budget": ""``): an empty string
  means "absent" for every non-string field;
* :class:`~mirakl_sync.inventory_planner.models.Variant` keeps the fields it does not model in
  ``extra`` (``fields=`` may ask for any of IP's metrics).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import cattrs

from mirakl_sync._serde import make_api_converter, parse_datetime, wrap_structure_hook
from mirakl_sync.inventory_planner import models as m

__all__ = ["converter", "make_inventory_planner_converter"]

_VARIANT_FIELDS = frozenset(a.name for a in attrs.fields(m.Variant)) - {"extra"}


def _unix(value: Any) -> dt.datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal | float):
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    return None


def _to_datetime(value: Any, _: Any = None) -> dt.datetime:
    return _unix(value) or parse_datetime(value)


def _to_date(value: Any, _: Any = None) -> dt.date:
    from_unix = _unix(value)
    if from_unix is not None:
        return from_unix.date()
    if isinstance(value, dt.datetime):
        return parse_datetime(value).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return parse_datetime(text).date()
    raise TypeError(f"expected a date, got {type(value).__name__}")


def _string_fields(cls: type[Any]) -> frozenset[str]:
    return frozenset(
        a.name for a in attrs.fields(cls) if a.type in ("str", "str | None", str) or a.name == "id"
    )


def _drop_empty(cls: type[Any]) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    keep = _string_fields(cls)

    def preprocess(data: Mapping[str, Any]) -> Mapping[str, Any]:
        return {k: v for k, v in data.items() if not (v == "" and k not in keep)}

    return preprocess


def _variant(data: Mapping[str, Any]) -> Mapping[str, Any]:
    cleaned = _drop_empty(m.Variant)(data)
    extra = {k: v for k, v in cleaned.items() if k not in _VARIANT_FIELDS}
    return {**cleaned, "extra": extra}


def _webhook(data: Mapping[str, Any]) -> Mapping[str, Any]:
    cleaned = _drop_empty(m.Webhook)(data)
    fields = cleaned.get("fields")
    if isinstance(fields, list):
        return {**cleaned, "fields": ",".join(str(f) for f in fields)}
    return cleaned


def make_inventory_planner_converter() -> cattrs.Converter:
    """A new tolerant converter configured for the Inventory Planner API."""
    conv = make_api_converter()
    conv.register_structure_hook(dt.datetime, _to_datetime)
    conv.register_structure_hook(dt.date, _to_date)
    for cls in (
        m.WarehouseBlock,
        m.VendorCost,
        m.VariantConnection,
        m.VariantVendor,
        m.Warehouse,
        m.Vendor,
        m.PurchaseOrderItem,
        m.PurchaseOrder,
        m.Meta,
    ):
        wrap_structure_hook(conv, cls, _drop_empty(cls))
    wrap_structure_hook(conv, m.Variant, _variant)
    wrap_structure_hook(conv, m.Webhook, _webhook)
    return conv


converter: cattrs.Converter = make_inventory_planner_converter()
