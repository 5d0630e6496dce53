"""Typed client for the Inventory Planner (IP) API, and the CSV feeds that carry Mirakl sales
and stock into IP (:mod:`mirakl_sync.inventory_planner.feeds`: IP's API cannot write them).

``InventoryPlannerClient`` / ``AsyncInventoryPlannerClient`` expose ``variants``,
``warehouses``, ``vendors``, ``purchase_orders`` and ``webhooks``. Filters and sorting are typed
(:class:`F`); quantities are exact ``Decimal`` values (see :func:`whole_units`).
"""

from mirakl_sync._http import CallBudget, Limit, RetryPolicy, Secret
from mirakl_sync.inventory_planner.client import (
    DEFAULT_BASE_URL,
    AsyncInventoryPlannerClient,
    InventoryPlannerClient,
)
from mirakl_sync.inventory_planner.filters import F, Filter, Sort
from mirakl_sync.inventory_planner.models import (
    Meta,
    NewPurchaseOrderLine,
    PurchaseOrder,
    PurchaseOrderCreate,
    PurchaseOrderId,
    PurchaseOrderItem,
    PurchaseOrderStatus,
    PurchaseOrderUpdate,
    ReplenishmentSuggestion,
    Variant,
    VariantConnection,
    VariantId,
    VariantUpdate,
    VariantVendor,
    Vendor,
    VendorCost,
    Warehouse,
    WarehouseBlock,
    Webhook,
    WebhookCreate,
    status_matches,
    whole_units,
)
from mirakl_sync.inventory_planner.resources import (
    DEFAULT_PURCHASE_ORDER_FIELDS,
    DEFAULT_VARIANT_FIELDS,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PURCHASE_ORDER_FIELDS",
    "DEFAULT_VARIANT_FIELDS",
    "AsyncInventoryPlannerClient",
    "CallBudget",
    "F",
    "Filter",
    "InventoryPlannerClient",
    "Limit",
    "Meta",
    "NewPurchaseOrderLine",
    "PurchaseOrder",
    "PurchaseOrderCreate",
    "PurchaseOrderId",
    "PurchaseOrderItem",
    "PurchaseOrderStatus",
    "PurchaseOrderUpdate",
    "ReplenishmentSuggestion",
    "RetryPolicy",
    "Secret",
    "Sort",
    "Variant",
    "VariantConnection",
    "VariantId",
    "VariantUpdate",
    "VariantVendor",
    "Vendor",
    "VendorCost",
    "Warehouse",
    "WarehouseBlock",
    "Webhook",
    "WebhookCreate",
    "status_matches",
    "whole_units",
]
