"""The engine's plug points: where stock comes from and where sales orders go.

* :class:`StockSource` answers "how many units of each inventory item are available, per
  warehouse?". The default reads Inventory Planner variants
  (:class:`~mirakl_sync.engine.sources.InventoryPlannerStockSource`); host apps with their own
  WMS implement it directly.
* :class:`OrderSink` creates (and cancels) the sales order in the host's ERP or inventory system.
  The default, :class:`LedgerOrderSink`, only records the order in the ledger: the Inventory
  Planner sales feed then carries it to the forecast.

Both receive a deterministic ``key`` with every write: pass it to your system as an idempotency
key, so a retried call after a crash never creates a second sales order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from mirakl_sync.core.models import Order
from mirakl_sync.engine.config import ShopConfig

__all__ = ["LedgerOrderSink", "OrderSink", "StaticStockSource", "StockLevels", "StockSource"]

#: ``{inventory warehouse id: {item sku: available units}}``; ``""`` when the source has no
#: warehouses.
StockLevels = Mapping[str, Mapping[str, int]]


@runtime_checkable
class StockSource(Protocol):
    """Where available stock comes from (the inventory master)."""

    def stock_levels(self, shop: ShopConfig) -> StockLevels:
        """Available units per warehouse and item SKU, as the inventory system sees them now."""
        ...


@runtime_checkable
class OrderSink(Protocol):
    """Where sales orders are created in the host's systems."""

    #: True when creating the sales order deducts the stock in the stock source (then the
    #: engine's soft reservation is released at that moment, not at shipment).
    deducts_stock: bool

    def create_sales_order(self, order: Order, *, key: str) -> str:
        """Create the sales order for a paid (or accepted) Mirakl order; return its reference.
        Must be idempotent on ``key``."""
        ...

    def find_sales_order(self, order: Order, *, key: str) -> str | None:
        """The reference of the sales order created with ``key``, or ``None`` if none exists
        (used to verify after an ambiguous failure)."""
        ...

    def cancel_sales_order(self, order: Order, *, key: str, reference: str) -> None:
        """Cancel a sales order whose Mirakl order was cancelled or refused. Idempotent."""
        ...


class LedgerOrderSink:
    """The default sink: the ledger itself is the sales-order record (reference
    ``"MIRAKL-<order id>"``); the Inventory Planner sales feed carries the lines to the
    forecast. It does not deduct stock: reservations are held until the order ships."""

    deducts_stock = False

    def create_sales_order(self, order: Order, *, key: str) -> str:
        return f"MIRAKL-{order.order_id}"

    def find_sales_order(self, order: Order, *, key: str) -> str | None:
        return None

    def cancel_sales_order(self, order: Order, *, key: str, reference: str) -> None:
        return None


class StaticStockSource:
    """Stock levels held in memory (notebooks, tests, or a host that pushes levels in)."""

    def __init__(self, levels: StockLevels | None = None) -> None:
        self._levels: dict[str, dict[str, int]] = {
            wh: dict(items) for wh, items in (levels or {}).items()
        }

    def set(self, sku: str, quantity: int, warehouse: str = "") -> None:
        self._levels.setdefault(warehouse, {})[sku] = quantity

    def stock_levels(self, shop: ShopConfig) -> StockLevels:
        return {wh: dict(items) for wh, items in self._levels.items()}
