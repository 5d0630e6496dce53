"""mirakl_sync: keep Mirakl marketplace channels and Inventory Planner forecasting in step."""

from mirakl_sync._version import __version__
from mirakl_sync.errors import MiraklSyncError

__all__ = ["MiraklSyncError", "__version__"]
