"""The sync engine: the only layer that mixes the clients, the core, storage and alerts."""

from mirakl_sync.engine.config import ShopConfig, SyncConfig
from mirakl_sync.engine.protocols import LedgerOrderSink, OrderSink, StaticStockSource, StockSource
from mirakl_sync.engine.reports import HealthReport, JobResult, RunReport
from mirakl_sync.engine.synchronizer import Synchronizer

__all__ = [
    "HealthReport",
    "JobResult",
    "LedgerOrderSink",
    "OrderSink",
    "RunReport",
    "ShopConfig",
    "StaticStockSource",
    "StockSource",
    "SyncConfig",
    "Synchronizer",
]
