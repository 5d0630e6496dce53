"""``memory://``: an in-process backend for tests and notebooks.

Nothing survives the process. It follows the same contract as the database backends (same
validation, same JSON round trip, atomic transactions with rollback), and is thread-safe: one
lock serialises transactions, so a transaction also isolates its thread from the others.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import attrs

from mirakl_sync.errors import StorageError
from mirakl_sync.storage import _codec as c
from mirakl_sync.storage import _normalize as n
from mirakl_sync.storage.base import LEVEL_FIELDS, levels_by_warehouse
from mirakl_sync.storage.errors import LeaseLostError, RecordNotFoundError
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

__all__ = ["MemoryStorage"]

_MISSING: Any = object()
_R = TypeVar("_R")


def _copy_json(value: JSONValue) -> JSONValue:
    """Round-trip through the JSON codec: same result as a database, and no shared objects."""
    return c.loads(c.dumps(value))


class _Table:
    """A dict of records whose changes are undone when the enclosing transaction fails."""

    def __init__(self, storage: MemoryStorage) -> None:
        self._rows: dict[Any, Any] = {}
        self._storage = storage

    def get(self, key: Any) -> Any:
        return self._rows.get(key)

    def values(self) -> list[Any]:
        return list(self._rows.values())

    def set(self, key: Any, value: Any) -> None:
        self._storage._undo(self, key, self._rows.get(key, _MISSING))
        self._rows[key] = value

    def delete(self, key: Any) -> bool:
        if key not in self._rows:
            return False
        self._storage._undo(self, key, self._rows[key])
        del self._rows[key]
        return True

    def restore(self, key: Any, old: Any) -> None:
        if old is _MISSING:
            self._rows.pop(key, None)
        else:
            self._rows[key] = old


class MemoryStorage:
    """The in-memory backend (``memory://``)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._closed = False
        self._checkpoints = _Table(self)
        self._orders = _Table(self)
        self._lines = _Table(self)
        self._events = _Table(self)
        self._outbox = _Table(self)
        self._published = _Table(self)
        self._pending = _Table(self)
        self._mappings = _Table(self)
        self._discrepancies = _Table(self)
        self._deliveries = _Table(self)
        self._runs = _Table(self)
        self._leases = _Table(self)

    @classmethod
    def from_url(cls, url: str, **options: object) -> MemoryStorage:
        """Build from a ``memory://`` URL (no options)."""
        if options:
            raise StorageError(f"memory:// takes no options, got {sorted(options)}")
        return cls()

    def __repr__(self) -> str:
        return "MemoryStorage()"

    # -- transactions ---------------------------------------------------------------------------

    def _undo(self, table: _Table, key: Any, old: Any) -> None:
        log: list[tuple[_Table, Any, Any]] | None = getattr(self._local, "log", None)
        if log is not None:
            log.append((table, key, old))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Atomic block: every change inside is undone if the block raises."""
        if self._closed:
            raise StorageError("storage is closed")
        with self._lock:
            if getattr(self._local, "log", None) is not None:
                try:
                    yield
                except BaseException:
                    self._local.doomed = True
                    raise
                return
            self._local.log = []
            self._local.doomed = False
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            else:
                if self._local.doomed:
                    self._rollback()
                    raise StorageError("an inner transaction block failed: rolled back")
            finally:
                self._local.log = None

    def _rollback(self) -> None:
        for table, key, old in reversed(self._local.log):
            table.restore(key, old)

    def _atomic(self, fn: Callable[[], _R]) -> _R:
        with self.transaction():
            return fn()

    def close(self) -> None:
        """Mark the storage closed (data is dropped)."""
        self._closed = True

    def _read(self, fn: Callable[[], _R]) -> _R:
        if self._closed:
            raise StorageError("storage is closed")
        with self._lock:
            return fn()

    # -- checkpoints ----------------------------------------------------------------------------

    def get_checkpoint(self, shop: str, flow: str) -> Checkpoint | None:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        key = (c.check_shop(shop), c.check_id("flow", flow))
        row: Checkpoint | None = self._read(lambda: self._checkpoints.get(key))
        return None if row is None else attrs.evolve(row, cursor=_copy_json(row.cursor))

    def set_checkpoint(
        self, shop: str, flow: str, cursor: JSONValue, *, now: datetime
    ) -> Checkpoint:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        row = Checkpoint(
            shop=c.check_shop(shop),
            flow=c.check_id("flow", flow),
            cursor=_copy_json(cursor),
            updated_at=c.utc(now, "now"),
        )
        self._atomic(lambda: self._checkpoints.set((row.shop, row.flow), row))
        return attrs.evolve(row, cursor=_copy_json(row.cursor))

    def list_checkpoints(self, shop: str) -> list[Checkpoint]:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        shop = c.check_shop(shop)
        rows: list[Checkpoint] = self._read(self._checkpoints.values)
        return [
            attrs.evolve(r, cursor=_copy_json(r.cursor))
            for r in sorted(rows, key=lambda r: r.flow)
            if r.shop == shop
        ]

    # -- ledger ---------------------------------------------------------------------------------

    def put_order(self, order: LedgerOrder) -> None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        row = n.norm_order(order)
        row = attrs.evolve(row, data=_copy_json(row.data))
        self._atomic(lambda: self._orders.set((row.shop, row.order_id), row))

    def get_order(self, shop: str, order_id: str) -> LedgerOrder | None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        key = (c.check_shop(shop), c.check_id("order_id", order_id))
        row: LedgerOrder | None = self._read(lambda: self._orders.get(key))
        return None if row is None else attrs.evolve(row, data=_copy_json(row.data))

    def list_orders(
        self,
        shop: str,
        *,
        ledger_states: Collection[str] | None = None,
        mirakl_states: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerOrder]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        shop = c.check_shop(shop)
        ledger = n.str_filter("ledger_states", ledger_states)
        mirakl = n.str_filter("mirakl_states", mirakl_states)
        limit = n.check_limit(limit)
        rows: list[LedgerOrder] = self._read(self._orders.values)
        out = [
            attrs.evolve(r, data=_copy_json(r.data))
            for r in sorted(rows, key=lambda r: r.order_id)
            if r.shop == shop
            and (ledger is None or r.ledger_state in ledger)
            and (mirakl is None or r.mirakl_state in mirakl)
        ]
        return out[:limit] if limit else out

    def put_lines(self, lines: Iterable[LedgerLine]) -> None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        rows = [n.norm_line(line) for line in lines]
        rows = [attrs.evolve(r, data=_copy_json(r.data)) for r in rows]

        def write() -> None:
            for r in rows:
                self._lines.set((r.shop, r.order_id, r.line_id), r)

        self._atomic(write)

    def get_lines(self, shop: str, order_id: str) -> list[LedgerLine]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        shop = c.check_shop(shop)
        order_id = c.check_id("order_id", order_id)
        rows: list[LedgerLine] = self._read(self._lines.values)
        return [
            attrs.evolve(r, data=_copy_json(r.data))
            for r in sorted(rows, key=lambda r: r.line_id)
            if r.shop == shop and r.order_id == order_id
        ]

    def list_lines(
        self,
        shop: str,
        *,
        feed_statuses: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerLine]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        shop = c.check_shop(shop)
        statuses = n.str_filter("feed_statuses", feed_statuses)
        limit = n.check_limit(limit)
        rows: list[LedgerLine] = self._read(self._lines.values)
        out = [
            attrs.evolve(r, data=_copy_json(r.data))
            for r in sorted(rows, key=lambda r: (r.order_id, r.line_id))
            if r.shop == shop and (statuses is None or r.feed_status in statuses)
        ]
        return out[:limit] if limit else out

    def reservations(self, shop: str) -> dict[str, int]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        shop = c.check_shop(shop)
        rows: list[LedgerLine] = self._read(self._lines.values)
        totals: dict[str, int] = {}
        for r in rows:
            if r.shop == shop and r.reserved_quantity > 0:
                totals[r.offer_sku] = totals.get(r.offer_sku, 0) + r.reserved_quantity
        return dict(sorted(totals.items()))

    def record_event(self, event: LedgerEvent) -> bool:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        row = n.norm_event(event)
        row = attrs.evolve(row, payload=_copy_json(row.payload))

        def write() -> bool:
            if self._events.get((row.shop, row.event_id)) is not None:
                return False
            self._events.set((row.shop, row.event_id), row)
            return True

        return self._atomic(write)

    def list_events(self, shop: str, *, order_id: str | None = None) -> list[LedgerEvent]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        shop = c.check_shop(shop)
        oid = None if order_id is None else c.check_id("order_id", order_id)
        rows: list[LedgerEvent] = self._read(self._events.values)
        return [
            attrs.evolve(r, payload=_copy_json(r.payload))
            for r in sorted(rows, key=lambda r: (r.recorded_at, r.event_id))
            if r.shop == shop and (oid is None or r.order_id == oid)
        ]

    # -- outbox ---------------------------------------------------------------------------------

    @staticmethod
    def _out(item: OutboxItem) -> OutboxItem:
        return attrs.evolve(item, payload=_copy_json(item.payload))

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
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        kind = c.check_id("kind", kind)
        payload = _copy_json(payload)
        now = c.utc(now, "now")
        due = now if next_attempt_at is None else c.utc(next_attempt_at, "next_attempt_at")

        def write() -> OutboxItem:
            existing: OutboxItem | None = self._outbox.get((shop, key))
            if existing is not None:
                return existing
            item = OutboxItem(
                id=next(self._ids),
                shop=shop,
                key=key,
                kind=kind,
                payload=payload,
                status=OutboxStatus.PLANNED,
                attempts=0,
                next_attempt_at=due,
                created_at=now,
                updated_at=now,
            )
            self._outbox.set((shop, key), item)
            return item

        return self._out(self._atomic(write))

    def get_item(self, shop: str, key: str) -> OutboxItem | None:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        k = (c.check_shop(shop), c.check_id("key", key))
        item: OutboxItem | None = self._read(lambda: self._outbox.get(k))
        return None if item is None else self._out(item)

    def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 1,
        shop: str | None = None,
    ) -> list[OutboxItem]:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        worker = c.check_id("worker", worker)
        now = c.utc(now, "now")
        expires = c.add_seconds(now, lease_seconds)
        lim = n.check_limit(limit)
        shop_filter = None if shop is None else c.check_shop(shop)

        def write() -> list[OutboxItem]:
            due = [
                i
                for i in self._outbox.values()
                if i.status in (OutboxStatus.PLANNED, OutboxStatus.SENT)
                and i.next_attempt_at is not None
                and i.next_attempt_at <= now
                and (i.lease_expires_at is None or i.lease_expires_at <= now)
                and (shop_filter is None or i.shop == shop_filter)
            ]
            due.sort(key=lambda i: (i.next_attempt_at, i.id))
            out = []
            for i in due[:lim]:
                leased = attrs.evolve(
                    i,
                    attempts=i.attempts + 1,
                    lease_owner=worker,
                    lease_expires_at=expires,
                    updated_at=now,
                )
                self._outbox.set((i.shop, i.key), leased)
                out.append(self._out(leased))
            return out

        return self._atomic(write)

    def _leased_update(
        self,
        shop: str,
        key: str,
        worker: str,
        now: datetime,
        target: OutboxStatus | None,
        **changes: Any,
    ) -> OutboxItem:
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        worker = c.check_id("worker", worker)
        now = c.utc(now, "now")

        def write() -> OutboxItem:
            item: OutboxItem | None = self._outbox.get((shop, key))
            if item is None:
                raise RecordNotFoundError(f"no outbox item {key!r} in shop {shop!r}")
            if item.lease_owner != worker:
                raise LeaseLostError(
                    f"outbox item {key!r}: worker {worker!r} does not hold the lease"
                )
            if target is not None:
                c.check_transition(key, item.status, target)
                changes["status"] = target
            new = attrs.evolve(item, updated_at=now, **changes)
            self._outbox.set((shop, key), new)
            return new

        return self._out(self._atomic(write))

    def extend_lease(
        self, shop: str, key: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        expires = c.add_seconds(c.utc(now, "now"), lease_seconds)
        return self._leased_update(shop, key, worker, now, None, lease_expires_at=expires)

    def mark_sent(self, shop: str, key: str, *, worker: str, now: datetime) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        return self._leased_update(shop, key, worker, now, OutboxStatus.SENT)

    def complete(
        self,
        shop: str,
        key: str,
        *,
        worker: str,
        now: datetime,
        payload: JSONValue | None = None,
    ) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        replaced = {} if payload is None else {"payload": _copy_json(payload)}
        return self._leased_update(
            shop,
            key,
            worker,
            now,
            OutboxStatus.CONFIRMED,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            **replaced,
        )

    def fail(self, shop: str, key: str, *, worker: str, now: datetime, error: str) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        return self._leased_update(
            shop,
            key,
            worker,
            now,
            OutboxStatus.FAILED,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            last_error=c.check_text("error", error),
        )

    def park(self, shop: str, key: str, *, worker: str, now: datetime, reason: str) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        return self._leased_update(
            shop,
            key,
            worker,
            now,
            OutboxStatus.PARKED,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=None,
            last_error=c.check_text("reason", reason),
        )

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
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        now_utc = c.utc(now, "now")
        due = now_utc if retry_at is None else c.utc(retry_at, "retry_at")
        changes: dict[str, Any] = {
            "lease_owner": None,
            "lease_expires_at": None,
            "next_attempt_at": due,
        }
        if error is not None:
            changes["last_error"] = c.check_text("error", error)
        return self._leased_update(shop, key, worker, now_utc, None, **changes)

    def replan(
        self, shop: str, key: str, *, now: datetime, next_attempt_at: datetime
    ) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        now = c.utc(now, "now")
        due = c.utc(next_attempt_at, "next_attempt_at")

        def write() -> OutboxItem:
            item: OutboxItem | None = self._outbox.get((shop, key))
            if item is None:
                raise RecordNotFoundError(f"no outbox item {key!r} in shop {shop!r}")
            c.check_transition(key, item.status, OutboxStatus.PLANNED)
            new = attrs.evolve(
                item,
                status=OutboxStatus.PLANNED,
                next_attempt_at=due,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
            self._outbox.set((shop, key), new)
            return new

        return self._out(self._atomic(write))

    def list_items(
        self,
        *,
        shop: str | None = None,
        statuses: Collection[OutboxStatus] | None = None,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        shop_filter = None if shop is None else c.check_shop(shop)
        wanted = n.check_statuses(statuses)
        kind_list = n.str_filter("kinds", kinds)
        lim = n.check_limit(limit)
        rows: list[OutboxItem] = self._read(self._outbox.values)
        out = [
            self._out(i)
            for i in sorted(rows, key=lambda i: i.id)
            if (shop_filter is None or i.shop == shop_filter)
            and (wanted is None or i.status in wanted)
            and (kind_list is None or i.kind in kind_list)
        ]
        return out[:lim] if lim else out

    def count_items(self, *, shop: str | None = None) -> dict[OutboxStatus, int]:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        shop_filter = None if shop is None else c.check_shop(shop)
        counts = dict.fromkeys(OutboxStatus, 0)
        rows: list[OutboxItem] = self._read(self._outbox.values)
        for i in rows:
            if shop_filter is None or i.shop == shop_filter:
                counts[i.status] += 1
        return counts

    # -- published stock ------------------------------------------------------------------------

    def put_published(self, records: Iterable[PublishedStock]) -> int:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows = [n.norm_published(r) for r in records]

        def write() -> int:
            for r in rows:
                self._published.set((r.shop, r.offer_sku, r.warehouse), r)
            return len(rows)

        return self._atomic(write)

    def get_published(
        self, shop: str, offer_sku: str, warehouse: str = ""
    ) -> PublishedStock | None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        key = (
            c.check_shop(shop),
            c.check_id("offer_sku", offer_sku),
            c.check_id("warehouse", warehouse, allow_empty=True),
        )
        row: PublishedStock | None = self._read(lambda: self._published.get(key))
        return row

    def list_published(
        self, shop: str, *, offer_skus: Collection[str] | None = None
    ) -> list[PublishedStock]:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        shop = c.check_shop(shop)
        skus = n.str_filter("offer_skus", offer_skus)
        wanted = None if skus is None else set(skus)
        rows: list[PublishedStock] = self._read(self._published.values)
        return sorted(
            (r for r in rows if r.shop == shop and (wanted is None or r.offer_sku in wanted)),
            key=lambda r: (r.offer_sku, r.warehouse),
        )

    def published_levels(self, shop: str) -> dict[str, tuple[list[str], list[int]]]:
        """See :class:`~mirakl_sync.storage.base.PublishedLevelsStore`."""
        return levels_by_warehouse(list(map(LEVEL_FIELDS, self.list_published(shop))))

    def delete_published(self, shop: str, offer_sku: str, warehouse: str = "") -> bool:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        key = (
            c.check_shop(shop),
            c.check_id("offer_sku", offer_sku),
            c.check_id("warehouse", warehouse, allow_empty=True),
        )
        return self._atomic(lambda: self._published.delete(key))

    def put_pending_import(self, pending: PendingImport) -> None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        row = n.norm_pending(pending)
        row = attrs.evolve(row, lines=_copy_json(row.lines))
        self._atomic(lambda: self._pending.set((row.shop, row.import_id), row))

    def get_pending_import(self, shop: str, import_id: str) -> PendingImport | None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        key = (c.check_shop(shop), c.check_id("import_id", import_id))
        row: PendingImport | None = self._read(lambda: self._pending.get(key))
        return None if row is None else attrs.evolve(row, lines=_copy_json(row.lines))

    def list_pending_imports(
        self, shop: str, *, statuses: Collection[str] | None = None
    ) -> list[PendingImport]:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        shop = c.check_shop(shop)
        wanted = n.str_filter("statuses", statuses)
        rows: list[PendingImport] = self._read(self._pending.values)
        return [
            attrs.evolve(r, lines=_copy_json(r.lines))
            for r in sorted(rows, key=lambda r: (r.submitted_at, r.import_id))
            if r.shop == shop and (wanted is None or r.status in wanted)
        ]

    def delete_pending_import(self, shop: str, import_id: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        key = (c.check_shop(shop), c.check_id("import_id", import_id))
        return self._atomic(lambda: self._pending.delete(key))

    # -- mappings -------------------------------------------------------------------------------

    def put_mapping(self, mapping: MappingRecord) -> None:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        row = n.norm_mapping(mapping)
        self._atomic(lambda: self._mappings.set((row.shop, row.offer_sku), row))

    def get_mapping(self, shop: str, offer_sku: str) -> MappingRecord | None:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        key = (c.check_shop(shop), c.check_id("offer_sku", offer_sku))
        row: MappingRecord | None = self._read(lambda: self._mappings.get(key))
        return row

    def list_mappings(self, shop: str) -> list[MappingRecord]:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        shop = c.check_shop(shop)
        rows: list[MappingRecord] = self._read(self._mappings.values)
        return sorted((r for r in rows if r.shop == shop), key=lambda r: r.offer_sku)

    def delete_mapping(self, shop: str, offer_sku: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        key = (c.check_shop(shop), c.check_id("offer_sku", offer_sku))
        return self._atomic(lambda: self._mappings.delete(key))

    # -- discrepancies --------------------------------------------------------------------------

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
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        kind = c.check_id("kind", kind)
        severity = c.check_id("severity", severity)
        now = c.utc(now, "now")
        details = _copy_json(details)

        def write() -> DiscrepancyRecord:
            old: DiscrepancyRecord | None = self._discrepancies.get((shop, key))
            if old is not None and old.status is DiscrepancyStatus.OPEN:
                new = attrs.evolve(
                    old,
                    kind=kind,
                    severity=severity,
                    details=details,
                    last_seen=now,
                    occurrences=old.occurrences + 1,
                )
            else:
                new = DiscrepancyRecord(
                    shop=shop,
                    key=key,
                    kind=kind,
                    severity=severity,
                    status=DiscrepancyStatus.OPEN,
                    details=details,
                    first_seen=now,
                    last_seen=now,
                    occurrences=1,
                    resolved_at=None,
                )
            self._discrepancies.set((shop, key), new)
            return new

        row = self._atomic(write)
        return attrs.evolve(row, details=_copy_json(row.details))

    def resolve_discrepancy(
        self, shop: str, key: str, *, now: datetime
    ) -> DiscrepancyRecord | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        now = c.utc(now, "now")

        def write() -> DiscrepancyRecord | None:
            old: DiscrepancyRecord | None = self._discrepancies.get((shop, key))
            if old is None or old.status is DiscrepancyStatus.RESOLVED:
                return old
            new = attrs.evolve(old, status=DiscrepancyStatus.RESOLVED, resolved_at=now)
            self._discrepancies.set((shop, key), new)
            return new

        row = self._atomic(write)
        return None if row is None else attrs.evolve(row, details=_copy_json(row.details))

    def get_discrepancy(self, shop: str, key: str) -> DiscrepancyRecord | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        k = (c.check_shop(shop), c.check_id("key", key))
        row: DiscrepancyRecord | None = self._read(lambda: self._discrepancies.get(k))
        return None if row is None else attrs.evolve(row, details=_copy_json(row.details))

    def list_discrepancies(
        self, *, shop: str | None = None, status: DiscrepancyStatus | None = None
    ) -> list[DiscrepancyRecord]:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        shop_filter = None if shop is None else c.check_shop(shop)
        wanted = n.check_discrepancy_status(status)
        rows: list[DiscrepancyRecord] = self._read(self._discrepancies.values)
        return [
            attrs.evolve(r, details=_copy_json(r.details))
            for r in sorted(rows, key=lambda r: (r.shop, r.first_seen, r.key))
            if (shop_filter is None or r.shop == shop_filter)
            and (wanted is None or r.status is wanted)
        ]

    def put_alert_delivery(self, delivery: AlertDelivery) -> None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        row = n.norm_delivery(delivery)
        self._atomic(lambda: self._deliveries.set((row.shop, row.discrepancy_key, row.sink), row))

    def get_alert_delivery(
        self, shop: str, discrepancy_key: str, sink: str
    ) -> AlertDelivery | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        key = (
            c.check_shop(shop),
            c.check_id("discrepancy_key", discrepancy_key),
            c.check_id("sink", sink),
        )
        row: AlertDelivery | None = self._read(lambda: self._deliveries.get(key))
        return row

    def list_alert_deliveries(
        self, shop: str, *, discrepancy_key: str | None = None
    ) -> list[AlertDelivery]:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        shop = c.check_shop(shop)
        dkey = None if discrepancy_key is None else c.check_id("discrepancy_key", discrepancy_key)
        rows: list[AlertDelivery] = self._read(self._deliveries.values)
        return sorted(
            (r for r in rows if r.shop == shop and (dkey is None or r.discrepancy_key == dkey)),
            key=lambda r: (r.discrepancy_key, r.sink),
        )

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self, shop: str, job: str, run_id: str, *, now: datetime) -> RunRecord:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        row = RunRecord(
            shop=c.check_shop(shop),
            run_id=c.check_id("run_id", run_id),
            job=c.check_id("job", job),
            started_at=c.utc(now, "now"),
        )

        def write() -> RunRecord:
            if self._runs.get((row.shop, row.run_id)) is not None:
                raise StorageError(f"run {row.run_id!r} already exists in shop {row.shop!r}")
            self._runs.set((row.shop, row.run_id), row)
            return row

        return self._atomic(write)

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
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        key = (c.check_shop(shop), c.check_id("run_id", run_id))
        changes: dict[str, Any] = {
            "finished_at": c.utc(now, "now"),
            "outcome": c.check_id("outcome", outcome),
            "counts": n.norm_counts(counts),
            "error": c.check_text("error", error),
        }

        def write() -> RunRecord:
            old: RunRecord | None = self._runs.get(key)
            if old is None:
                raise RecordNotFoundError(f"no run {key[1]!r} in shop {key[0]!r}")
            new = attrs.evolve(old, **changes)
            self._runs.set(key, new)
            return new

        return self._atomic(write)

    def get_run(self, shop: str, run_id: str) -> RunRecord | None:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        key = (c.check_shop(shop), c.check_id("run_id", run_id))
        row: RunRecord | None = self._read(lambda: self._runs.get(key))
        return None if row is None else attrs.evolve(row, counts=dict(row.counts))

    def list_runs(self, shop: str, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        shop = c.check_shop(shop)
        job_filter = None if job is None else c.check_id("job", job)
        lim = n.check_limit(limit)
        rows: list[RunRecord] = self._read(self._runs.values)
        out = [
            attrs.evolve(r, counts=dict(r.counts))
            for r in sorted(rows, key=lambda r: (r.started_at, r.run_id), reverse=True)
            if r.shop == shop and (job_filter is None or r.job == job_filter)
        ]
        return out[:lim]

    # -- job leases -----------------------------------------------------------------------------

    def claim_job(
        self, shop: str, job: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> JobLease | None:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        key = (c.check_shop(shop), c.check_id("job", job))
        worker = c.check_id("worker", worker)
        now = c.utc(now, "now")
        expires = c.add_seconds(now, lease_seconds)

        def write() -> JobLease | None:
            old: JobLease | None = self._leases.get(key)
            if old is not None and old.owner != worker and old.expires_at > now:
                return None
            acquired = old.acquired_at if old is not None and old.owner == worker else now
            new = JobLease(
                shop=key[0], job=key[1], owner=worker, acquired_at=acquired, expires_at=expires
            )
            self._leases.set(key, new)
            return new

        return self._atomic(write)

    def release_job(self, shop: str, job: str, *, worker: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        key = (c.check_shop(shop), c.check_id("job", job))
        worker = c.check_id("worker", worker)

        def write() -> bool:
            old: JobLease | None = self._leases.get(key)
            if old is None or old.owner != worker:
                return False
            return self._leases.delete(key)

        return self._atomic(write)

    def get_job_lease(self, shop: str, job: str) -> JobLease | None:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        key = (c.check_shop(shop), c.check_id("job", job))
        row: JobLease | None = self._read(lambda: self._leases.get(key))
        return row
