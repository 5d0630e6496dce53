"""Inventory Planner resources: sans-IO request builders shared by sync classes and async twins."""

from mirakl_sync.inventory_planner.resources.catalog import (
    AsyncVendors,
    AsyncWarehouses,
    Vendors,
    Warehouses,
)
from mirakl_sync.inventory_planner.resources.purchase_orders import (
    DEFAULT_PURCHASE_ORDER_FIELDS,
    AsyncPurchaseOrders,
    PurchaseOrders,
)
from mirakl_sync.inventory_planner.resources.variants import (
    DEFAULT_VARIANT_FIELDS,
    AsyncVariants,
    Variants,
)
from mirakl_sync.inventory_planner.resources.webhooks import AsyncWebhooks, Webhooks

__all__ = [
    "DEFAULT_PURCHASE_ORDER_FIELDS",
    "DEFAULT_VARIANT_FIELDS",
    "AsyncPurchaseOrders",
    "AsyncVariants",
    "AsyncVendors",
    "AsyncWarehouses",
    "AsyncWebhooks",
    "PurchaseOrders",
    "Variants",
    "Vendors",
    "Warehouses",
    "Webhooks",
]
