"""Storage: the sync engine's memory (cursors, order ledger, outbox, published stock, mappings,
discrepancies, run history and job leases), scoped by shop.

``open_storage(url_or_instance)`` picks a backend by URL scheme: ``memory://``,
``sqlite:///path.db`` (the default) or ``postgresql://...`` (extra ``postgres``); third-party
backends register under the entry-point group ``mirakl_sync.storage``. The contracts are the
``typing.Protocol`` classes in :mod:`mirakl_sync.storage.base`; every backend passes
:mod:`mirakl_sync.testing.storage_conformance`.
"""

from __future__ import annotations

from mirakl_sync.storage.base import (
    CheckpointStore,
    DiscrepancyStore,
    JobLeaseStore,
    LedgerStore,
    MappingStore,
    OutboxStore,
    PublishedLevelsStore,
    PublishedStockStore,
    RunStore,
    Storage,
)
from mirakl_sync.storage.errors import (
    InvalidTransitionError,
    InvalidValueError,
    LeaseLostError,
    RecordNotFoundError,
)
from mirakl_sync.storage.records import (
    MAX_ID_LENGTH,
    MAX_SHOP_LENGTH,
    AlertDelivery,
    Checkpoint,
    DiscrepancyRecord,
    DiscrepancyStatus,
    JobLease,
    JSONValue,
    LedgerEvent,
    LedgerLine,
    LedgerOrder,
    MappingRecord,
    OutboxItem,
    OutboxStatus,
    PendingImport,
    PublishedStock,
    RunRecord,
)
from mirakl_sync.storage.registry import available_schemes, open_storage, register_storage

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_SHOP_LENGTH",
    "AlertDelivery",
    "Checkpoint",
    "CheckpointStore",
    "DiscrepancyRecord",
    "DiscrepancyStatus",
    "DiscrepancyStore",
    "InvalidTransitionError",
    "InvalidValueError",
    "JSONValue",
    "JobLease",
    "JobLeaseStore",
    "LeaseLostError",
    "LedgerEvent",
    "LedgerLine",
    "LedgerOrder",
    "LedgerStore",
    "MappingRecord",
    "MappingStore",
    "OutboxItem",
    "OutboxStatus",
    "OutboxStore",
    "PendingImport",
    "PublishedLevelsStore",
    "PublishedStock",
    "PublishedStockStore",
    "RecordNotFoundError",
    "RunRecord",
    "RunStore",
    "Storage",
    "available_schemes",
    "open_storage",
    "register_storage",
]
