"""The storage contracts: small ``typing.Protocol`` classes combined into :class:`Storage`.

A backend needs no base class: any object with these methods is a storage. Every built-in backend
and every plugin must pass :mod:`mirakl_sync.testing.storage_conformance`.

Common rules for every method:

* every record is scoped by a ``shop`` key;
* time is passed in by the caller (``now=``): storage never reads the clock, and leases and due
  times are compared against the given ``now``;
* a write outside :meth:`Storage.transaction` is atomic on its own; inside, it commits or rolls
  back with the whole block;
* invalid values raise :class:`~mirakl_sync.storage.errors.InvalidValueError`, every other
  failure a :class:`~mirakl_sync.errors.StorageError` subclass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, Final, Protocol, runtime_checkable

from mirakl_sync.storage.records import (
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

__all__ = [
    "LEVEL_FIELDS",
    "CheckpointStore",
    "DiscrepancyStore",
    "JobLeaseStore",
    "LedgerStore",
    "MappingStore",
    "OutboxStore",
    "PublishedLevelsStore",
    "PublishedStockStore",
    "RunStore",
    "Storage",
    "levels_by_warehouse",
]


class CheckpointStore(Protocol):
    """Cursors per shop and flow. Write a checkpoint in the same transaction as the data it
    covers, so the cursor never gets ahead of the data."""

    def get_checkpoint(self, shop: str, flow: str) -> Checkpoint | None:
        """The checkpoint of ``flow`` for ``shop``, or ``None`` when never set."""
        ...

    def set_checkpoint(
        self, shop: str, flow: str, cursor: JSONValue, *, now: datetime
    ) -> Checkpoint:
        """Set (create or replace) the cursor of ``flow``; ``now`` becomes ``updated_at``."""
        ...

    def list_checkpoints(self, shop: str) -> list[Checkpoint]:
        """Every checkpoint of ``shop``, ordered by flow."""
        ...


class LedgerStore(Protocol):
    """The order ledger: orders, their lines (soft reservations, feed status) and host events."""

    def put_order(self, order: LedgerOrder) -> None:
        """Create or replace an order (keyed by ``(shop, order_id)``)."""
        ...

    def get_order(self, shop: str, order_id: str) -> LedgerOrder | None:
        """One order, or ``None``."""
        ...

    def list_orders(
        self,
        shop: str,
        *,
        ledger_states: Collection[str] | None = None,
        mirakl_states: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerOrder]:
        """Orders of ``shop`` (optionally filtered by state), ordered by ``order_id``."""
        ...

    def put_lines(self, lines: Iterable[LedgerLine]) -> None:
        """Create or replace order lines (keyed by ``(shop, order_id, line_id)``)."""
        ...

    def get_lines(self, shop: str, order_id: str) -> list[LedgerLine]:
        """The lines of one order, ordered by ``line_id``."""
        ...

    def list_lines(
        self,
        shop: str,
        *,
        feed_statuses: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerLine]:
        """Lines of ``shop``, optionally only those in ``feed_statuses``, ordered by
        ``(order_id, line_id)``."""
        ...

    def reservations(self, shop: str) -> dict[str, int]:
        """The total positive soft reservation per offer SKU (SKUs with none are left out)."""
        ...

    def record_event(self, event: LedgerEvent) -> bool:
        """Record a host event; ``False`` (and nothing changes) when ``event_id`` is known."""
        ...

    def list_events(self, shop: str, *, order_id: str | None = None) -> list[LedgerEvent]:
        """Events of ``shop`` (or of one order), ordered by ``(recorded_at, event_id)``."""
        ...


class OutboxStore(Protocol):
    """The outbox of intended side effects, claimed by workers under leases.

    Lifecycle: ``PLANNED -> SENT -> CONFIRMED | FAILED | PARKED``; PLANNED may also go to FAILED
    or PARKED; FAILED and PARKED go back to PLANNED through :meth:`replan`. Claimable items are
    PLANNED or SENT, due (``next_attempt_at <= now``) and not leased (no lease, or an expired
    one). A SENT item that is claimed again was probably applied remotely: re-read the remote
    state before sending it again.
    """

    def enqueue(
        self,
        shop: str,
        key: str,
        *,
        kind: str,
        payload: JSONValue,
        now: datetime,
        next_attempt_at: datetime | None = None,
    ) -> OutboxItem:
        """Plan a side effect. ``key`` is unique per shop: when it already exists the existing
        item is returned unchanged (whatever its status and payload), never a duplicate.
        ``next_attempt_at`` defaults to ``now``."""
        ...

    def get_item(self, shop: str, key: str) -> OutboxItem | None:
        """One item, or ``None``."""
        ...

    def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 1,
        shop: str | None = None,
    ) -> list[OutboxItem]:
        """Atomically lease up to ``limit`` due items (of one shop, or of all) to ``worker``
        until ``now + lease_seconds``, oldest due first. Each claim adds one to ``attempts``.
        Two concurrent callers never get the same item."""
        ...

    def extend_lease(
        self, shop: str, key: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> OutboxItem:
        """Heartbeat: move the lease of an item ``worker`` holds to ``now + lease_seconds``.
        Raises :class:`~mirakl_sync.storage.errors.LeaseLostError` if it does not hold it."""
        ...

    def mark_sent(self, shop: str, key: str, *, worker: str, now: datetime) -> OutboxItem:
        """PLANNED -> SENT (commit this before the remote call). The lease is kept."""
        ...

    def complete(
        self,
        shop: str,
        key: str,
        *,
        worker: str,
        now: datetime,
        payload: JSONValue | None = None,
    ) -> OutboxItem:
        """SENT -> CONFIRMED and release the lease. ``payload``, unless ``None``, replaces the
        item's payload in the same write: a compact record of what was done, for items whose
        payload is large and no longer needed once confirmed (a stock import's lines)."""
        ...

    def fail(self, shop: str, key: str, *, worker: str, now: datetime, error: str) -> OutboxItem:
        """-> FAILED (permanent until re-planned), record ``error`` and release the lease."""
        ...

    def park(self, shop: str, key: str, *, worker: str, now: datetime, reason: str) -> OutboxItem:
        """-> PARKED (dead letter, needs a human), record ``reason`` and release the lease."""
        ...

    def release(
        self,
        shop: str,
        key: str,
        *,
        worker: str,
        now: datetime,
        retry_at: datetime | None = None,
        error: str | None = None,
    ) -> OutboxItem:
        """Give the lease back without a status change (a transient error, or an ambiguous
        outcome to re-check later): due again at ``retry_at`` (default ``now``)."""
        ...

    def replan(
        self, shop: str, key: str, *, now: datetime, next_attempt_at: datetime
    ) -> OutboxItem:
        """FAILED or PARKED -> PLANNED, due at ``next_attempt_at`` (redrive)."""
        ...

    def list_items(
        self,
        *,
        shop: str | None = None,
        statuses: Collection[OutboxStatus] | None = None,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        """Items (of one shop or all; optionally by status and by kind), in creation order."""
        ...

    def count_items(self, *, shop: str | None = None) -> dict[OutboxStatus, int]:
        """Number of items per status (every status present, zero included)."""
        ...


class PublishedStockStore(Protocol):
    """Last confirmed stock per offer and warehouse, and imports awaiting their report."""

    def put_published(self, records: Iterable[PublishedStock]) -> int:
        """Create or replace published stock rows (bulk); returns how many were written."""
        ...

    def get_published(
        self, shop: str, offer_sku: str, warehouse: str = ""
    ) -> PublishedStock | None:
        """One row, or ``None``."""
        ...

    def list_published(
        self, shop: str, *, offer_skus: Collection[str] | None = None
    ) -> list[PublishedStock]:
        """Rows of ``shop`` (optionally only some SKUs), ordered by ``(offer_sku, warehouse)``."""
        ...

    def delete_published(self, shop: str, offer_sku: str, warehouse: str = "") -> bool:
        """Forget one row; ``False`` when there was none."""
        ...

    def put_pending_import(self, pending: PendingImport) -> None:
        """Create or replace a pending import (keyed by ``(shop, import_id)``)."""
        ...

    def get_pending_import(self, shop: str, import_id: str) -> PendingImport | None:
        """One pending import, or ``None``."""
        ...

    def list_pending_imports(
        self, shop: str, *, statuses: Collection[str] | None = None
    ) -> list[PendingImport]:
        """Pending imports of ``shop``, ordered by ``(submitted_at, import_id)``."""
        ...

    def delete_pending_import(self, shop: str, import_id: str) -> bool:
        """Forget a pending import; ``False`` when there was none."""
        ...


@runtime_checkable
class PublishedLevelsStore(Protocol):
    """Optional: the published quantities of a shop by column. A storage without it is read
    through :meth:`PublishedStockStore.list_published` instead; the built-in backends have it
    (a whole catalogue is read on every stock push, and no record per row is made here)."""

    def published_levels(self, shop: str) -> dict[str, tuple[list[str], list[int]]]:
        """Per warehouse code (``""``: the global quantity), the offers of ``shop``'s published
        stock in ascending order and their quantities, aligned: the rows of
        ``list_published(shop)``, by column (see :func:`levels_by_warehouse`)."""
        ...


def levels_by_warehouse(
    rows: Sequence[Sequence[Any]],
) -> dict[str, tuple[list[str], list[int]]]:
    """``(warehouse, offer_sku, quantity)`` rows sorted by ``(offer_sku, warehouse)`` (as
    ``list_published()`` orders them) grouped as ``published_levels()`` gives them: per
    warehouse, the offers in order and their quantities. One warehouse (the usual case) is
    split into columns at C level."""
    if not rows:
        return {}
    warehouses = list(map(itemgetter(0), rows))
    first = warehouses[0]
    if warehouses.count(first) == len(warehouses):
        return {first: (list(map(itemgetter(1), rows)), list(map(int, map(itemgetter(2), rows))))}
    out: dict[str, tuple[list[str], list[int]]] = {}
    for warehouse, offer_sku, quantity in rows:
        pool = out.get(warehouse)
        if pool is None:
            pool = out[warehouse] = ([], [])
        pool[0].append(offer_sku)
        pool[1].append(int(quantity))
    return out


#: A published stock record's ``(warehouse, offer_sku, quantity)``, the row
#: :func:`levels_by_warehouse` reads.
LEVEL_FIELDS: Final = attrgetter("warehouse", "offer_sku", "quantity")


class MappingStore(Protocol):
    """Explicit offer -> inventory item mappings."""

    def put_mapping(self, mapping: MappingRecord) -> None:
        """Create or replace the mapping of ``(shop, offer_sku)``."""
        ...

    def get_mapping(self, shop: str, offer_sku: str) -> MappingRecord | None:
        """One mapping, or ``None``."""
        ...

    def list_mappings(self, shop: str) -> list[MappingRecord]:
        """Mappings of ``shop``, ordered by offer SKU."""
        ...

    def delete_mapping(self, shop: str, offer_sku: str) -> bool:
        """Remove a mapping; ``False`` when there was none."""
        ...


class DiscrepancyStore(Protocol):
    """Discrepancies deduplicated by key, and the delivery state of their alerts."""

    def observe_discrepancy(
        self,
        shop: str,
        key: str,
        *,
        kind: str,
        severity: str,
        now: datetime,
        details: JSONValue = None,
    ) -> DiscrepancyRecord:
        """Record that discrepancy ``key`` is seen at ``now``. An open one gets ``last_seen``,
        ``details``, ``kind`` and ``severity`` updated and one more occurrence; a new or
        resolved one is (re)opened with ``first_seen = now`` and one occurrence."""
        ...

    def resolve_discrepancy(
        self, shop: str, key: str, *, now: datetime
    ) -> DiscrepancyRecord | None:
        """Mark an open discrepancy resolved; returns it, or ``None`` when unknown.
        Resolving a resolved one changes nothing."""
        ...

    def get_discrepancy(self, shop: str, key: str) -> DiscrepancyRecord | None:
        """One discrepancy, or ``None``."""
        ...

    def list_discrepancies(
        self, *, shop: str | None = None, status: DiscrepancyStatus | None = None
    ) -> list[DiscrepancyRecord]:
        """Discrepancies (of one shop or all), ordered by ``(shop, first_seen, key)``."""
        ...

    def put_alert_delivery(self, delivery: AlertDelivery) -> None:
        """Create or replace the delivery state of ``(shop, discrepancy_key, sink)``."""
        ...

    def get_alert_delivery(
        self, shop: str, discrepancy_key: str, sink: str
    ) -> AlertDelivery | None:
        """One delivery state, or ``None``."""
        ...

    def list_alert_deliveries(
        self, shop: str, *, discrepancy_key: str | None = None
    ) -> list[AlertDelivery]:
        """Delivery states of ``shop``, ordered by ``(discrepancy_key, sink)``."""
        ...


class RunStore(Protocol):
    """Run records per job, for the health report."""

    def start_run(self, shop: str, job: str, run_id: str, *, now: datetime) -> RunRecord:
        """Record that a run started. A ``run_id`` already used in the shop raises
        :class:`~mirakl_sync.errors.StorageError`."""
        ...

    def finish_run(
        self,
        shop: str,
        run_id: str,
        *,
        now: datetime,
        outcome: str,
        counts: Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> RunRecord:
        """Record the end of a run. Unknown runs raise
        :class:`~mirakl_sync.storage.errors.RecordNotFoundError`."""
        ...

    def get_run(self, shop: str, run_id: str) -> RunRecord | None:
        """One run, or ``None``."""
        ...

    def list_runs(self, shop: str, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Latest runs first (by ``started_at``, then ``run_id``, descending)."""
        ...


class JobLeaseStore(Protocol):
    """Per-shop job leases: at most one worker runs a given job for a given shop."""

    def claim_job(
        self, shop: str, job: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> JobLease | None:
        """Take (or renew, for the current owner) the lease until ``now + lease_seconds``.
        Returns ``None`` when another worker holds an unexpired lease."""
        ...

    def release_job(self, shop: str, job: str, *, worker: str) -> bool:
        """Drop the lease if ``worker`` holds it; ``False`` otherwise."""
        ...

    def get_job_lease(self, shop: str, job: str) -> JobLease | None:
        """The current lease row (possibly expired), or ``None``."""
        ...


@runtime_checkable
class Storage(
    CheckpointStore,
    LedgerStore,
    OutboxStore,
    PublishedStockStore,
    MappingStore,
    DiscrepancyStore,
    RunStore,
    JobLeaseStore,
    Protocol,
):
    """Everything the sync engine stores, plus transactions.

    ``transaction()`` groups writes atomically: all of them commit when the block exits normally,
    none when it raises. Nested blocks join the outermost one; if an inner block raises, the
    whole transaction is rolled back even if the exception is caught inside the outer block
    (the outer exit then raises :class:`~mirakl_sync.errors.StorageError`). A transaction belongs
    to the thread that opened it.
    """

    def transaction(self) -> AbstractContextManager[None]:
        """A context manager grouping the writes inside it into one atomic transaction."""
        ...

    def close(self) -> None:
        """Release connections and files. The storage must not be used afterwards."""
        ...
