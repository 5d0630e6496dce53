"""The simulated Mirakl Seller API: domain state (``state``), JSON (``render``), HTTP (``app``)."""

from __future__ import annotations

from mirakl_sync.sandbox.mirakl.app import (
    DEFAULT_API_KEY,
    DEFAULT_SHOP_ID,
    MIRAKL_FREQUENCY_LIMITS,
    MiraklSandbox,
)
from mirakl_sync.sandbox.mirakl.state import MiraklError, MiraklState, Offer, Order, OrderLine, Shop

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SHOP_ID",
    "MIRAKL_FREQUENCY_LIMITS",
    "MiraklError",
    "MiraklSandbox",
    "MiraklState",
    "Offer",
    "Order",
    "OrderLine",
    "Shop",
]
