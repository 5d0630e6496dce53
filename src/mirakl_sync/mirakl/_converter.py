"""The cattrs converter for Mirakl responses and request bodies.

``converter`` is :func:`mirakl_sync._serde.make_api_converter` plus Mirakl-specific quirks:

* OR11/OR15 orders: older platforms send only the deprecated ``paymentType``; it fills
  ``payment_type`` when that is absent.
* PC01: :class:`PlatformConfiguration` keeps the whole body in ``raw``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cattrs

from mirakl_sync._serde import make_api_converter, wrap_structure_hook
from mirakl_sync.mirakl.models.orders import Order
from mirakl_sync.mirakl.models.platform import PlatformConfiguration

__all__ = ["converter", "make_mirakl_converter"]


def _order_payment_type(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if data.get("payment_type") is None and data.get("paymentType") is not None:
        return {**data, "payment_type": data["paymentType"]}
    return data


def _platform_raw(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**data, "raw": dict(data)}


def make_mirakl_converter() -> cattrs.Converter:
    """A new tolerant converter configured for the Mirakl Seller API."""
    conv = make_api_converter()
    wrap_structure_hook(conv, Order, _order_payment_type)
    wrap_structure_hook(conv, PlatformConfiguration, _platform_raw)
    return conv


converter: cattrs.Converter = make_mirakl_converter()
