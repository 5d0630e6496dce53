"""The simulated Inventory Planner API: account state, CSV connectors and HTTP app."""

from __future__ import annotations

from mirakl_sync.sandbox.inventory_planner.app import (
    DEFAULT_ACCOUNT,
    DEFAULT_IP_KEY,
    InventoryPlannerSandbox,
)
from mirakl_sync.sandbox.inventory_planner.connector import ConnectorReport, CsvConnectors
from mirakl_sync.sandbox.inventory_planner.state import InventoryPlannerState, Variant

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_IP_KEY",
    "ConnectorReport",
    "CsvConnectors",
    "InventoryPlannerSandbox",
    "InventoryPlannerState",
    "Variant",
]
