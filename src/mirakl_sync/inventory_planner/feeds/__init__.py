"""How Mirakl sales and stock reach Inventory Planner: IP's API cannot write them, so they travel
through IP's CSV connectors.

* **Writers** (:mod:`.writers`) stream plain input :mod:`records <.records>` into connector
  files with exactly the documented columns (:mod:`.columns`).
* **Batches** (:mod:`.batch`): :func:`build_starter_feed` (full snapshots under stable names)
  and :func:`build_advanced_feed` (incremental, content-addressed names, a :class:`FeedState`
  to persist after delivery).
* **Publishers** (:mod:`.publishers`): :class:`DirectoryPublisher`, :class:`SftpPublisher`
  (extra ``sftp``), :class:`StarterFeedServer` (HTTP GET/HEAD with Basic auth).

See ``docs/inventory-planner.md`` for Starter vs Advanced.
"""

from mirakl_sync.inventory_planner.feeds.batch import (
    ADVANCED_ORDER,
    FeedBatch,
    FeedFile,
    FeedState,
    build_advanced_feed,
    build_starter_feed,
)
from mirakl_sync.inventory_planner.feeds.columns import (
    ADVANCED,
    STARTER,
    ColumnSpec,
    check_file,
    check_header,
)
from mirakl_sync.inventory_planner.feeds.publishers import (
    DirectoryPublisher,
    Publisher,
    SftpPublisher,
    StarterFeedServer,
)
from mirakl_sync.inventory_planner.feeds.records import (
    FeedPurchaseOrderLine,
    FeedWarehouse,
    Product,
    SalesLine,
    StockLevel,
)
from mirakl_sync.inventory_planner.feeds.writers import (
    RETURN_SUFFIX,
    WriteResult,
    write_advanced_sales,
    write_advanced_stock,
    write_advanced_variants,
    write_advanced_warehouses,
    write_starter_products,
    write_starter_purchase_orders,
    write_starter_sales,
)

__all__ = [
    "ADVANCED",
    "ADVANCED_ORDER",
    "RETURN_SUFFIX",
    "STARTER",
    "ColumnSpec",
    "DirectoryPublisher",
    "FeedBatch",
    "FeedFile",
    "FeedPurchaseOrderLine",
    "FeedState",
    "FeedWarehouse",
    "Product",
    "Publisher",
    "SalesLine",
    "SftpPublisher",
    "StarterFeedServer",
    "StockLevel",
    "WriteResult",
    "build_advanced_feed",
    "build_starter_feed",
    "check_file",
    "check_header",
    "write_advanced_sales",
    "write_advanced_stock",
    "write_advanced_variants",
    "write_advanced_warehouses",
    "write_starter_products",
    "write_starter_purchase_orders",
    "write_starter_sales",
]
