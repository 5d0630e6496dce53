"""The default stock source: Inventory Planner variants (``in_stock`` per warehouse)."""

from __future__ import annotations

from mirakl_sync.engine.config import ShopConfig
from mirakl_sync.engine.protocols import StockLevels
from mirakl_sync.inventory_planner import InventoryPlannerClient
from mirakl_sync.inventory_planner.models import whole_units

__all__ = ["InventoryPlannerStockSource"]


class InventoryPlannerStockSource:
    """Reads every variant's stock from Inventory Planner (narrow ``fields``: sku and the
    per-warehouse ``in_stock``). Fractional quantities are floored: stock is never overstated.
    Variants without per-warehouse blocks count under warehouse ``""``."""

    def __init__(self, client: InventoryPlannerClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "InventoryPlannerStockSource()"

    def stock_levels(self, shop: ShopConfig) -> StockLevels:
        levels: dict[str, dict[str, int]] = {}
        variants = self._client.variants.list(
            fields=["id", "sku", "in_stock", "removed", "warehouse"]
        )
        for variant in variants:
            if not variant.sku or variant.removed:
                continue
            if variant.warehouse:
                for block in variant.warehouse:
                    pool = levels.setdefault(block.warehouse, {})
                    pool[variant.sku] = pool.get(variant.sku, 0) + whole_units(block.in_stock)
            else:
                pool = levels.setdefault("", {})
                pool[variant.sku] = pool.get(variant.sku, 0) + whole_units(variant.in_stock)
        return levels
