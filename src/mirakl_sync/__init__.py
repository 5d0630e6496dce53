"""mirakl_sync: keep Mirakl marketplace channels and Inventory Planner forecasting in step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mirakl_sync._version import __version__
from mirakl_sync.errors import MiraklSyncError

if TYPE_CHECKING:
    from mirakl_sync.engine import HealthReport, RunReport, SyncConfig, Synchronizer

__all__ = [
    "HealthReport",
    "MiraklSyncError",
    "RunReport",
    "SyncConfig",
    "Synchronizer",
    "__version__",
]

_LAZY = {"HealthReport", "RunReport", "SyncConfig", "Synchronizer"}


def __getattr__(name: str) -> Any:
    # The engine pulls in httpx, storage and the clients: import it only when asked for, so
    # `import mirakl_sync` (and `mirakl_sync.core`) stays light and pure.
    if name in _LAZY:
        from mirakl_sync import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'mirakl_sync' has no attribute {name!r}")
