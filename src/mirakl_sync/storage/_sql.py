"""The SQL shared by the SQLite and Postgres backends (internal).

Statements are written once with ``?`` placeholders; the Postgres backend turns them into
``%s``. Every value is bound as a parameter; the only text ever put into SQL is fixed in this
module (column lists, the number of placeholders). Backends supply the connection handling, the
timestamp and decimal adapters and the claim statement.
"""

from __future__ import annotations

# S608: SQL text here is built only from fixed column lists and placeholder counts defined in
# this package; every value is bound as a parameter.
# ruff: noqa: S608
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from mirakl_sync._records import records_by_column
from mirakl_sync.errors import StorageError
from mirakl_sync.storage import _codec as c
from mirakl_sync.storage import _normalize as n
from mirakl_sync.storage.base import levels_by_warehouse
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

__all__ = ["OUTBOX_COLUMNS", "STOCK_COLUMNS", "UPSERT_STOCK", "Params", "Row", "SQLStorageBase"]

Row = Sequence[Any]


class _Parsed(dict[Any, Any]):
    """``parse(raw)`` of each distinct ``raw`` value, computed on first lookup."""

    __slots__ = ("_parse",)

    def __init__(self, parse: Callable[[Any], Any]) -> None:
        super().__init__()
        self._parse = parse

    def __missing__(self, raw: Any) -> Any:
        self[raw] = value = self._parse(raw)
        return value


Params = Sequence[Any] | Mapping[str, Any]

CHECKPOINT_COLUMNS = "shop, flow, cursor, updated_at"
ORDER_COLUMNS = (
    "shop, order_id, mirakl_state, ledger_state, mirakl_updated_at, sales_order_ref, "
    "total_price, commission, data, created_at, updated_at"
)
LINE_COLUMNS = (
    "shop, order_id, line_id, offer_sku, quantity, mirakl_state, ledger_state, price, "
    "reserved_quantity, feed_status, data, updated_at"
)
EVENT_COLUMNS = "shop, event_id, order_id, kind, payload, recorded_at"
OUTBOX_COLUMNS = (
    "id, shop, item_key, kind, payload, status, attempts, next_attempt_at, last_error, "
    "lease_owner, lease_expires_at, created_at, updated_at"
)
STOCK_COLUMNS = "shop, offer_sku, warehouse, quantity, content_hash, confirmed_at"
PENDING_COLUMNS = "shop, import_id, kind, status, lines, error, submitted_at, updated_at"
MAPPING_COLUMNS = "shop, offer_sku, components, source, updated_at"
DISCREPANCY_COLUMNS = (
    "shop, dkey, kind, severity, status, details, first_seen, last_seen, occurrences, resolved_at"
)
DELIVERY_COLUMNS = (
    "shop, discrepancy_key, sink, status, attempts, last_attempt_at, delivered_at, last_error"
)
RUN_COLUMNS = "shop, run_id, job, started_at, finished_at, outcome, counts, error"
LEASE_COLUMNS = "shop, job, owner, acquired_at, expires_at"

_CHUNK = 500


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _upsert(table: str, columns: str, key: str) -> str:
    names = [col.strip() for col in columns.split(",")]
    keys = {k.strip() for k in key.split(",")}
    updates = ", ".join(f"{col} = excluded.{col}" for col in names if col not in keys)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({_marks(len(names))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


_UPSERT_CHECKPOINT = _upsert("checkpoints", CHECKPOINT_COLUMNS, "shop, flow")
_UPSERT_ORDER = _upsert("ledger_orders", ORDER_COLUMNS, "shop, order_id")
_UPSERT_LINE = _upsert("ledger_lines", LINE_COLUMNS, "shop, order_id, line_id")
UPSERT_STOCK = _upsert("published_stock", STOCK_COLUMNS, "shop, offer_sku, warehouse")
_UPSERT_PENDING = _upsert("pending_imports", PENDING_COLUMNS, "shop, import_id")
_UPSERT_MAPPING = _upsert("mappings", MAPPING_COLUMNS, "shop, offer_sku")
_UPSERT_DELIVERY = _upsert("alert_deliveries", DELIVERY_COLUMNS, "shop, discrepancy_key, sink")


class SQLStorageBase(ABC):
    """Protocol methods in SQL; subclasses provide connections and value adapters."""

    #: appended to ``SELECT`` statements that read a row before updating it.
    _for_update = ""

    def __init__(self) -> None:
        self._tx = threading.local()
        self._closed = False

    # -- backend hooks --------------------------------------------------------------------------

    @abstractmethod
    def _begin(self) -> AbstractContextManager[Any]:
        """Open a write transaction; yield its connection; commit on exit, roll back on error."""

    @abstractmethod
    def _reader(self) -> AbstractContextManager[Any]:
        """Yield a connection for reads outside any transaction."""

    @abstractmethod
    def _run(self, conn: Any, sql: str, params: Params) -> list[Row]:
        """Execute one statement, return its rows (``[]`` when it returns none)."""

    @abstractmethod
    def _run_many(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Execute one statement for many parameter rows."""

    @abstractmethod
    def _claim_sql(self, by_shop: bool) -> str:
        """The claim statement, with named parameters ``worker, expires, now, shop, limit``."""

    @abstractmethod
    def _ts(self, value: datetime) -> Any:
        """A UTC datetime as the database stores it."""

    @abstractmethod
    def _ts_out(self, value: Any) -> datetime:
        """A stored timestamp as an aware UTC datetime."""

    @abstractmethod
    def _num(self, value: Decimal) -> Any:
        """A Decimal as the database stores it."""

    @abstractmethod
    def _num_out(self, value: Any) -> Decimal:
        """A stored number as a Decimal."""

    def _bulk_put_published(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        """Write many published stock rows (override for a faster path)."""
        self._run_many(conn, UPSERT_STOCK, rows)

    # -- transactions ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("storage is closed")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Atomic block; see :class:`~mirakl_sync.storage.base.Storage`."""
        self._check_open()
        tx = self._tx
        if getattr(tx, "conn", None) is not None:
            try:
                yield
            except BaseException:
                tx.doomed = True
                raise
            return
        with self._begin() as conn:
            tx.conn = conn
            tx.doomed = False
            try:
                yield
                if tx.doomed:
                    raise StorageError("an inner transaction block failed: rolled back")
            finally:
                tx.conn = None

    def _write(self, sql: str, params: Params = ()) -> list[Row]:
        conn = getattr(self._tx, "conn", None)
        if conn is not None:
            return self._run(conn, sql, params)
        with self.transaction():
            return self._run(self._tx.conn, sql, params)

    def _read(self, sql: str, params: Params = ()) -> list[Row]:
        self._check_open()
        conn = getattr(self._tx, "conn", None)
        if conn is not None:
            return self._run(conn, sql, params)
        with self._reader() as reader:
            return self._run(reader, sql, params)

    # -- adapters -------------------------------------------------------------------------------

    def _ts_opt(self, value: datetime | None) -> Any:
        return None if value is None else self._ts(value)

    def _ts_out_opt(self, value: Any) -> datetime | None:
        return None if value is None else self._ts_out(value)

    def _num_opt(self, value: Decimal | None) -> Any:
        return None if value is None else self._num(value)

    def _num_out_opt(self, value: Any) -> Decimal | None:
        return None if value is None else self._num_out(value)

    def _in(self, column: str, values: Sequence[Any]) -> str:
        return f"{column} IN ({_marks(len(values))})"

    def _in_filters(
        self,
        where: list[str],
        params: list[Any],
        filters: Iterable[tuple[str, Sequence[Any] | None]],
    ) -> bool:
        """Add ``column IN (...)`` to ``where`` for each filter given (``None``: no filter);
        ``False`` when one is empty, so no row can match."""
        for column, values in filters:
            if values is not None:
                if not values:
                    return False
                where.append(self._in(column, values))
                params.extend(values)
        return True

    # -- checkpoints ----------------------------------------------------------------------------

    def _checkpoint(self, r: Row) -> Checkpoint:
        return Checkpoint(shop=r[0], flow=r[1], cursor=c.loads(r[2]), updated_at=self._ts_out(r[3]))

    def get_checkpoint(self, shop: str, flow: str) -> Checkpoint | None:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        rows = self._read(
            f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE shop = ? AND flow = ?",
            (c.check_shop(shop), c.check_id("flow", flow)),
        )
        return self._checkpoint(rows[0]) if rows else None

    def set_checkpoint(
        self, shop: str, flow: str, cursor: JSONValue, *, now: datetime
    ) -> Checkpoint:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        shop = c.check_shop(shop)
        flow = c.check_id("flow", flow)
        encoded = c.dumps(cursor)
        now = c.utc(now, "now")
        self._write(_UPSERT_CHECKPOINT, (shop, flow, encoded, self._ts(now)))
        return Checkpoint(shop=shop, flow=flow, cursor=c.loads(encoded), updated_at=now)

    def list_checkpoints(self, shop: str) -> list[Checkpoint]:
        """See :class:`~mirakl_sync.storage.base.CheckpointStore`."""
        rows = self._read(
            f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE shop = ? ORDER BY flow",
            (c.check_shop(shop),),
        )
        return [self._checkpoint(r) for r in rows]

    # -- ledger ---------------------------------------------------------------------------------

    def _order(self, r: Row) -> LedgerOrder:
        return LedgerOrder(
            shop=r[0],
            order_id=r[1],
            mirakl_state=r[2],
            ledger_state=r[3],
            mirakl_updated_at=self._ts_out_opt(r[4]),
            sales_order_ref=r[5],
            total_price=self._num_out_opt(r[6]),
            commission=self._num_out_opt(r[7]),
            data=c.loads(r[8]),
            created_at=self._ts_out(r[9]),
            updated_at=self._ts_out(r[10]),
        )

    def put_order(self, order: LedgerOrder) -> None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        o = n.norm_order(order)
        self._write(
            _UPSERT_ORDER,
            (
                o.shop,
                o.order_id,
                o.mirakl_state,
                o.ledger_state,
                self._ts_opt(o.mirakl_updated_at),
                o.sales_order_ref,
                self._num_opt(o.total_price),
                self._num_opt(o.commission),
                c.dumps(o.data),
                self._ts(o.created_at),
                self._ts(o.updated_at),
            ),
        )

    def get_order(self, shop: str, order_id: str) -> LedgerOrder | None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        rows = self._read(
            f"SELECT {ORDER_COLUMNS} FROM ledger_orders WHERE shop = ? AND order_id = ?",
            (c.check_shop(shop), c.check_id("order_id", order_id)),
        )
        return self._order(rows[0]) if rows else None

    def list_orders(
        self,
        shop: str,
        *,
        ledger_states: Collection[str] | None = None,
        mirakl_states: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerOrder]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        where = ["shop = ?"]
        params: list[Any] = [c.check_shop(shop)]
        if not self._in_filters(
            where,
            params,
            (
                ("ledger_state", n.str_filter("ledger_states", ledger_states)),
                ("mirakl_state", n.str_filter("mirakl_states", mirakl_states)),
            ),
        ):
            return []
        sql = (
            f"SELECT {ORDER_COLUMNS} FROM ledger_orders WHERE {' AND '.join(where)} "
            "ORDER BY order_id"
        )
        lim = n.check_limit(limit)
        if lim is not None:
            sql += " LIMIT ?"
            params.append(lim)
        return [self._order(r) for r in self._read(sql, params)]

    def _line(self, r: Row) -> LedgerLine:
        return LedgerLine(
            shop=r[0],
            order_id=r[1],
            line_id=r[2],
            offer_sku=r[3],
            quantity=int(r[4]),
            mirakl_state=r[5],
            ledger_state=r[6],
            price=self._num_out_opt(r[7]),
            reserved_quantity=int(r[8]),
            feed_status=r[9],
            data=c.loads(r[10]),
            updated_at=self._ts_out(r[11]),
        )

    def put_lines(self, lines: Iterable[LedgerLine]) -> None:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        rows = []
        for line in lines:
            ln = n.norm_line(line)
            rows.append(
                (
                    ln.shop,
                    ln.order_id,
                    ln.line_id,
                    ln.offer_sku,
                    ln.quantity,
                    ln.mirakl_state,
                    ln.ledger_state,
                    self._num_opt(ln.price),
                    ln.reserved_quantity,
                    ln.feed_status,
                    c.dumps(ln.data),
                    self._ts(ln.updated_at),
                )
            )
        if rows:
            with self.transaction():
                self._run_many(self._tx.conn, _UPSERT_LINE, rows)

    def get_lines(self, shop: str, order_id: str) -> list[LedgerLine]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        rows = self._read(
            f"SELECT {LINE_COLUMNS} FROM ledger_lines WHERE shop = ? AND order_id = ? "
            "ORDER BY line_id",
            (c.check_shop(shop), c.check_id("order_id", order_id)),
        )
        return [self._line(r) for r in rows]

    def list_lines(
        self,
        shop: str,
        *,
        feed_statuses: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[LedgerLine]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        where = ["shop = ?"]
        params: list[Any] = [c.check_shop(shop)]
        if not self._in_filters(
            where, params, [("feed_status", n.str_filter("feed_statuses", feed_statuses))]
        ):
            return []
        sql = (
            f"SELECT {LINE_COLUMNS} FROM ledger_lines WHERE {' AND '.join(where)} "
            "ORDER BY order_id, line_id"
        )
        lim = n.check_limit(limit)
        if lim is not None:
            sql += " LIMIT ?"
            params.append(lim)
        return [self._line(r) for r in self._read(sql, params)]

    def reservations(self, shop: str) -> dict[str, int]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        rows = self._read(
            "SELECT offer_sku, SUM(reserved_quantity) FROM ledger_lines "
            "WHERE shop = ? AND reserved_quantity > 0 GROUP BY offer_sku ORDER BY offer_sku",
            (c.check_shop(shop),),
        )
        return {r[0]: int(r[1]) for r in rows}

    def _event(self, r: Row) -> LedgerEvent:
        return LedgerEvent(
            shop=r[0],
            event_id=r[1],
            order_id=r[2],
            kind=r[3],
            payload=c.loads(r[4]),
            recorded_at=self._ts_out(r[5]),
        )

    def record_event(self, event: LedgerEvent) -> bool:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        e = n.norm_event(event)
        rows = self._write(
            f"INSERT INTO ledger_events ({EVENT_COLUMNS}) VALUES ({_marks(6)}) "
            "ON CONFLICT (shop, event_id) DO NOTHING RETURNING shop",
            (e.shop, e.event_id, e.order_id, e.kind, c.dumps(e.payload), self._ts(e.recorded_at)),
        )
        return bool(rows)

    def list_events(self, shop: str, *, order_id: str | None = None) -> list[LedgerEvent]:
        """See :class:`~mirakl_sync.storage.base.LedgerStore`."""
        sql = f"SELECT {EVENT_COLUMNS} FROM ledger_events WHERE shop = ?"
        params: list[Any] = [c.check_shop(shop)]
        if order_id is not None:
            sql += " AND order_id = ?"
            params.append(c.check_id("order_id", order_id))
        sql += " ORDER BY recorded_at, event_id"
        return [self._event(r) for r in self._read(sql, params)]

    # -- outbox ---------------------------------------------------------------------------------

    def _item(self, r: Row) -> OutboxItem:
        return OutboxItem(
            id=int(r[0]),
            shop=r[1],
            key=r[2],
            kind=r[3],
            payload=c.loads(r[4]),
            status=OutboxStatus(r[5]),
            attempts=int(r[6]),
            next_attempt_at=self._ts_out_opt(r[7]),
            last_error=c.text_loads(r[8]),
            lease_owner=r[9],
            lease_expires_at=self._ts_out_opt(r[10]),
            created_at=self._ts_out(r[11]),
            updated_at=self._ts_out(r[12]),
        )

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
        encoded = c.dumps(payload)
        now = c.utc(now, "now")
        due = now if next_attempt_at is None else c.utc(next_attempt_at, "next_attempt_at")
        with self.transaction():
            rows = self._write(
                "INSERT INTO outbox (shop, item_key, kind, payload, status, attempts, "
                "next_attempt_at, created_at, updated_at) "
                f"VALUES ({_marks(9)}) ON CONFLICT (shop, item_key) DO NOTHING "
                f"RETURNING {OUTBOX_COLUMNS}",
                (
                    shop,
                    key,
                    kind,
                    encoded,
                    OutboxStatus.PLANNED.value,
                    0,
                    self._ts(due),
                    self._ts(now),
                    self._ts(now),
                ),
            )
            if not rows:
                rows = self._write(
                    f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE shop = ? AND item_key = ?",
                    (shop, key),
                )
        return self._item(rows[0])

    def get_item(self, shop: str, key: str) -> OutboxItem | None:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        rows = self._read(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE shop = ? AND item_key = ?",
            (c.check_shop(shop), c.check_id("key", key)),
        )
        return self._item(rows[0]) if rows else None

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
        params = {
            "worker": worker,
            "expires": self._ts(expires),
            "now": self._ts(now),
            "shop": None if shop is None else c.check_shop(shop),
            "limit": lim,
        }
        rows = self._write(self._claim_sql(shop is not None), params)
        items = [self._item(r) for r in rows]
        items.sort(key=lambda i: (i.next_attempt_at, i.id))
        return items

    def _leased_update(
        self,
        shop: str,
        key: str,
        worker: str,
        now: datetime,
        target: OutboxStatus | None,
        sets: Mapping[str, Any],
    ) -> OutboxItem:
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        worker = c.check_id("worker", worker)
        now = c.utc(now, "now")
        values = dict(sets)
        where = "shop = ? AND item_key = ? AND lease_owner = ?"
        condition: list[Any] = [shop, key, worker]
        if target is not None:
            allowed = c.sources(target)
            values["status"] = target.value
            where += " AND " + self._in("status", allowed)
            condition.extend(status.value for status in allowed)
        values["updated_at"] = self._ts(now)
        assignments = ", ".join(f"{col} = ?" for col in values)
        # One statement on the happy path; the checks below only explain a refusal.
        rows = self._write(
            f"UPDATE outbox SET {assignments} WHERE {where} RETURNING {OUTBOX_COLUMNS}",
            [*values.values(), *condition],
        )
        if not rows:
            found = self._read(
                "SELECT status, lease_owner FROM outbox WHERE shop = ? AND item_key = ?",
                (shop, key),
            )
            if not found:
                raise RecordNotFoundError(f"no outbox item {key!r} in shop {shop!r}")
            if found[0][1] != worker:
                raise LeaseLostError(
                    f"outbox item {key!r}: worker {worker!r} does not hold the lease"
                )
            if target is not None:
                c.check_transition(key, OutboxStatus(found[0][0]), target)
            raise StorageError(f"outbox item {key!r} changed concurrently; try again")
        return self._item(rows[0])

    _RELEASE = {"lease_owner": None, "lease_expires_at": None, "next_attempt_at": None}

    def extend_lease(
        self, shop: str, key: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        expires = c.add_seconds(c.utc(now, "now"), lease_seconds)
        return self._leased_update(
            shop, key, worker, now, None, {"lease_expires_at": self._ts(expires)}
        )

    def mark_sent(self, shop: str, key: str, *, worker: str, now: datetime) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        return self._leased_update(shop, key, worker, now, OutboxStatus.SENT, {})

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
        sets = self._RELEASE if payload is None else {**self._RELEASE, "payload": c.dumps(payload)}
        return self._leased_update(shop, key, worker, now, OutboxStatus.CONFIRMED, sets)

    def fail(self, shop: str, key: str, *, worker: str, now: datetime, error: str) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        sets = {**self._RELEASE, "last_error": c.text_dumps(c.check_text("error", error))}
        return self._leased_update(shop, key, worker, now, OutboxStatus.FAILED, sets)

    def park(self, shop: str, key: str, *, worker: str, now: datetime, reason: str) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        sets = {**self._RELEASE, "last_error": c.text_dumps(c.check_text("reason", reason))}
        return self._leased_update(shop, key, worker, now, OutboxStatus.PARKED, sets)

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
        sets: dict[str, Any] = {**self._RELEASE, "next_attempt_at": self._ts(due)}
        if error is not None:
            sets["last_error"] = c.text_dumps(c.check_text("error", error))
        return self._leased_update(shop, key, worker, now_utc, None, sets)

    def replan(
        self, shop: str, key: str, *, now: datetime, next_attempt_at: datetime
    ) -> OutboxItem:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        now = c.utc(now, "now")
        due = c.utc(next_attempt_at, "next_attempt_at")
        with self.transaction():
            rows = self._write(
                "SELECT status FROM outbox WHERE shop = ? AND item_key = ?" + self._for_update,
                (shop, key),
            )
            if not rows:
                raise RecordNotFoundError(f"no outbox item {key!r} in shop {shop!r}")
            c.check_transition(key, OutboxStatus(rows[0][0]), OutboxStatus.PLANNED)
            rows = self._write(
                "UPDATE outbox SET status = ?, next_attempt_at = ?, lease_owner = NULL, "
                "lease_expires_at = NULL, updated_at = ? WHERE shop = ? AND item_key = ? "
                f"RETURNING {OUTBOX_COLUMNS}",
                (OutboxStatus.PLANNED.value, self._ts(due), self._ts(now), shop, key),
            )
        return self._item(rows[0])

    def list_items(
        self,
        *,
        shop: str | None = None,
        statuses: Collection[OutboxStatus] | None = None,
        kinds: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        where: list[str] = []
        params: list[Any] = []
        if shop is not None:
            where.append("shop = ?")
            params.append(c.check_shop(shop))
        wanted = n.check_statuses(statuses)
        if not self._in_filters(
            where,
            params,
            (
                ("status", None if wanted is None else [s.value for s in wanted]),
                ("kind", n.str_filter("kinds", kinds)),
            ),
        ):
            return []
        sql = f"SELECT {OUTBOX_COLUMNS} FROM outbox"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        lim = n.check_limit(limit)
        if lim is not None:
            sql += " LIMIT ?"
            params.append(lim)
        return [self._item(r) for r in self._read(sql, params)]

    def count_items(self, *, shop: str | None = None) -> dict[OutboxStatus, int]:
        """See :class:`~mirakl_sync.storage.base.OutboxStore`."""
        sql = "SELECT status, COUNT(*) FROM outbox"
        params: list[Any] = []
        if shop is not None:
            sql += " WHERE shop = ?"
            params.append(c.check_shop(shop))
        counts = dict.fromkeys(OutboxStatus, 0)
        for status, count in self._read(sql + " GROUP BY status", params):
            counts[OutboxStatus(status)] = int(count)
        return counts

    # -- published stock ------------------------------------------------------------------------

    def _stock(self, r: Row) -> PublishedStock:
        """A record from its row."""
        (record,) = self._stocks([r])
        return record

    def _stocks(self, rows: Sequence[Row]) -> list[PublishedStock]:
        """Records from rows, made by column (a listing can hold a whole catalogue; see
        :func:`~mirakl_sync._records.records_by_column`). The rows of one push share their
        timestamp: each distinct one is parsed once."""
        if not rows:
            return []
        shops, skus, warehouses, quantities, hashes, stamps = (
            list(map(itemgetter(k), rows)) for k in range(6)
        )
        return records_by_column(
            PublishedStock,
            len(rows),
            {
                "shop": shops,
                "offer_sku": skus,
                "warehouse": warehouses,
                "quantity": list(map(int, quantities)),
                "content_hash": hashes,
                "confirmed_at": list(map(_Parsed(self._ts_out).__getitem__, stamps)),
            },
        )

    def put_published(self, records: Iterable[PublishedStock]) -> int:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows: list[tuple[Any, ...]] = []
        stamps: dict[datetime, Any] = {}  # rows of one push usually share a timestamp
        for record in records:
            shop, sku, warehouse, quantity, content_hash, confirmed = n.published_values(record)
            stamp = stamps.get(confirmed)
            if stamp is None:
                stamp = stamps[confirmed] = self._ts(c.utc(confirmed, "confirmed_at"))
            rows.append((shop, sku, warehouse, quantity, content_hash, stamp))
        if rows:
            with self.transaction():
                self._bulk_put_published(self._tx.conn, rows)
        return len(rows)

    def get_published(
        self, shop: str, offer_sku: str, warehouse: str = ""
    ) -> PublishedStock | None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows = self._read(
            f"SELECT {STOCK_COLUMNS} FROM published_stock "
            "WHERE shop = ? AND offer_sku = ? AND warehouse = ?",
            (
                c.check_shop(shop),
                c.check_id("offer_sku", offer_sku),
                c.check_id("warehouse", warehouse, allow_empty=True),
            ),
        )
        return self._stock(rows[0]) if rows else None

    def list_published(
        self, shop: str, *, offer_skus: Collection[str] | None = None
    ) -> list[PublishedStock]:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        shop = c.check_shop(shop)
        skus = n.str_filter("offer_skus", offer_skus)
        base = f"SELECT {STOCK_COLUMNS} FROM published_stock WHERE shop = ?"
        if skus is None:
            return self._stocks(self._read(base + " ORDER BY offer_sku, warehouse", [shop]))
        rows: list[Row] = []
        for start in range(0, len(skus), _CHUNK):
            chunk = skus[start : start + _CHUNK]
            rows += self._read(base + " AND " + self._in("offer_sku", chunk), [shop, *chunk])
        rows.sort(key=lambda r: (r[1], r[2]))
        return self._stocks(rows)

    def published_levels(self, shop: str) -> dict[str, tuple[list[str], list[int]]]:
        """See :class:`~mirakl_sync.storage.base.PublishedLevelsStore`."""
        rows = self._read(
            "SELECT warehouse, offer_sku, quantity FROM published_stock WHERE shop = ? "
            "ORDER BY offer_sku, warehouse",
            [c.check_shop(shop)],
        )
        return levels_by_warehouse(rows)

    def delete_published(self, shop: str, offer_sku: str, warehouse: str = "") -> bool:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows = self._write(
            "DELETE FROM published_stock WHERE shop = ? AND offer_sku = ? AND warehouse = ? "
            "RETURNING shop",
            (
                c.check_shop(shop),
                c.check_id("offer_sku", offer_sku),
                c.check_id("warehouse", warehouse, allow_empty=True),
            ),
        )
        return bool(rows)

    def _pending(self, r: Row) -> PendingImport:
        return PendingImport(
            shop=r[0],
            import_id=r[1],
            kind=r[2],
            status=r[3],
            lines=c.loads(r[4]),
            error=c.text_loads(r[5]),
            submitted_at=self._ts_out(r[6]),
            updated_at=self._ts_out(r[7]),
        )

    def put_pending_import(self, pending: PendingImport) -> None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        p = n.norm_pending(pending)
        self._write(
            _UPSERT_PENDING,
            (
                p.shop,
                p.import_id,
                p.kind,
                p.status,
                c.dumps(p.lines),
                c.text_dumps(p.error),
                self._ts(p.submitted_at),
                self._ts(p.updated_at),
            ),
        )

    def get_pending_import(self, shop: str, import_id: str) -> PendingImport | None:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows = self._read(
            f"SELECT {PENDING_COLUMNS} FROM pending_imports WHERE shop = ? AND import_id = ?",
            (c.check_shop(shop), c.check_id("import_id", import_id)),
        )
        return self._pending(rows[0]) if rows else None

    def list_pending_imports(
        self, shop: str, *, statuses: Collection[str] | None = None
    ) -> list[PendingImport]:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        sql = f"SELECT {PENDING_COLUMNS} FROM pending_imports WHERE shop = ?"
        params: list[Any] = [c.check_shop(shop)]
        wanted = n.str_filter("statuses", statuses)
        if wanted is not None:
            if not wanted:
                return []
            sql += " AND " + self._in("status", wanted)
            params.extend(wanted)
        sql += " ORDER BY submitted_at, import_id"
        return [self._pending(r) for r in self._read(sql, params)]

    def delete_pending_import(self, shop: str, import_id: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.PublishedStockStore`."""
        rows = self._write(
            "DELETE FROM pending_imports WHERE shop = ? AND import_id = ? RETURNING shop",
            (c.check_shop(shop), c.check_id("import_id", import_id)),
        )
        return bool(rows)

    # -- mappings -------------------------------------------------------------------------------

    def _mapping(self, r: Row) -> MappingRecord:
        pairs = c.loads(r[2])
        assert isinstance(pairs, list)
        return MappingRecord(
            shop=r[0],
            offer_sku=r[1],
            components=tuple((str(p[0]), int(p[1])) for p in pairs),
            source=r[3],
            updated_at=self._ts_out(r[4]),
        )

    def put_mapping(self, mapping: MappingRecord) -> None:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        m = n.norm_mapping(mapping)
        self._write(
            _UPSERT_MAPPING,
            (
                m.shop,
                m.offer_sku,
                c.dumps([list(p) for p in m.components]),
                m.source,
                self._ts(m.updated_at),
            ),
        )

    def get_mapping(self, shop: str, offer_sku: str) -> MappingRecord | None:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        rows = self._read(
            f"SELECT {MAPPING_COLUMNS} FROM mappings WHERE shop = ? AND offer_sku = ?",
            (c.check_shop(shop), c.check_id("offer_sku", offer_sku)),
        )
        return self._mapping(rows[0]) if rows else None

    def list_mappings(self, shop: str) -> list[MappingRecord]:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        rows = self._read(
            f"SELECT {MAPPING_COLUMNS} FROM mappings WHERE shop = ? ORDER BY offer_sku",
            (c.check_shop(shop),),
        )
        return [self._mapping(r) for r in rows]

    def delete_mapping(self, shop: str, offer_sku: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.MappingStore`."""
        rows = self._write(
            "DELETE FROM mappings WHERE shop = ? AND offer_sku = ? RETURNING shop",
            (c.check_shop(shop), c.check_id("offer_sku", offer_sku)),
        )
        return bool(rows)

    # -- discrepancies --------------------------------------------------------------------------

    def _discrepancy(self, r: Row) -> DiscrepancyRecord:
        return DiscrepancyRecord(
            shop=r[0],
            key=r[1],
            kind=r[2],
            severity=r[3],
            status=DiscrepancyStatus(r[4]),
            details=c.loads(r[5]),
            first_seen=self._ts_out(r[6]),
            last_seen=self._ts_out(r[7]),
            occurrences=int(r[8]),
            resolved_at=self._ts_out_opt(r[9]),
        )

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
        t_now = self._ts(c.utc(now, "now"))
        rows = self._write(
            f"INSERT INTO discrepancies ({DISCREPANCY_COLUMNS}) VALUES ({_marks(10)}) "
            "ON CONFLICT (shop, dkey) DO UPDATE SET "
            "kind = excluded.kind, severity = excluded.severity, details = excluded.details, "
            "last_seen = excluded.last_seen, "
            "first_seen = CASE WHEN discrepancies.status = 'OPEN' "
            "THEN discrepancies.first_seen ELSE excluded.first_seen END, "
            "occurrences = CASE WHEN discrepancies.status = 'OPEN' "
            "THEN discrepancies.occurrences + 1 ELSE 1 END, "
            "status = 'OPEN', resolved_at = NULL "
            f"RETURNING {DISCREPANCY_COLUMNS}",
            (
                c.check_shop(shop),
                c.check_id("key", key),
                c.check_id("kind", kind),
                c.check_id("severity", severity),
                DiscrepancyStatus.OPEN.value,
                c.dumps(details),
                t_now,
                t_now,
                1,
                None,
            ),
        )
        return self._discrepancy(rows[0])

    def resolve_discrepancy(
        self, shop: str, key: str, *, now: datetime
    ) -> DiscrepancyRecord | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        shop = c.check_shop(shop)
        key = c.check_id("key", key)
        t_now = self._ts(c.utc(now, "now"))
        with self.transaction():
            self._write(
                "UPDATE discrepancies SET status = ?, resolved_at = ? "
                "WHERE shop = ? AND dkey = ? AND status = ?",
                (DiscrepancyStatus.RESOLVED.value, t_now, shop, key, DiscrepancyStatus.OPEN.value),
            )
            rows = self._write(
                f"SELECT {DISCREPANCY_COLUMNS} FROM discrepancies WHERE shop = ? AND dkey = ?",
                (shop, key),
            )
        return self._discrepancy(rows[0]) if rows else None

    def get_discrepancy(self, shop: str, key: str) -> DiscrepancyRecord | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        rows = self._read(
            f"SELECT {DISCREPANCY_COLUMNS} FROM discrepancies WHERE shop = ? AND dkey = ?",
            (c.check_shop(shop), c.check_id("key", key)),
        )
        return self._discrepancy(rows[0]) if rows else None

    def list_discrepancies(
        self, *, shop: str | None = None, status: DiscrepancyStatus | None = None
    ) -> list[DiscrepancyRecord]:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        where: list[str] = []
        params: list[Any] = []
        if shop is not None:
            where.append("shop = ?")
            params.append(c.check_shop(shop))
        wanted = n.check_discrepancy_status(status)
        if wanted is not None:
            where.append("status = ?")
            params.append(wanted.value)
        sql = f"SELECT {DISCREPANCY_COLUMNS} FROM discrepancies"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY shop, first_seen, dkey"
        return [self._discrepancy(r) for r in self._read(sql, params)]

    def _delivery(self, r: Row) -> AlertDelivery:
        return AlertDelivery(
            shop=r[0],
            discrepancy_key=r[1],
            sink=r[2],
            status=r[3],
            attempts=int(r[4]),
            last_attempt_at=self._ts_out_opt(r[5]),
            delivered_at=self._ts_out_opt(r[6]),
            last_error=c.text_loads(r[7]),
        )

    def put_alert_delivery(self, delivery: AlertDelivery) -> None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        d = n.norm_delivery(delivery)
        self._write(
            _UPSERT_DELIVERY,
            (
                d.shop,
                d.discrepancy_key,
                d.sink,
                d.status,
                d.attempts,
                self._ts_opt(d.last_attempt_at),
                self._ts_opt(d.delivered_at),
                c.text_dumps(d.last_error),
            ),
        )

    def get_alert_delivery(
        self, shop: str, discrepancy_key: str, sink: str
    ) -> AlertDelivery | None:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        rows = self._read(
            f"SELECT {DELIVERY_COLUMNS} FROM alert_deliveries "
            "WHERE shop = ? AND discrepancy_key = ? AND sink = ?",
            (
                c.check_shop(shop),
                c.check_id("discrepancy_key", discrepancy_key),
                c.check_id("sink", sink),
            ),
        )
        return self._delivery(rows[0]) if rows else None

    def list_alert_deliveries(
        self, shop: str, *, discrepancy_key: str | None = None
    ) -> list[AlertDelivery]:
        """See :class:`~mirakl_sync.storage.base.DiscrepancyStore`."""
        sql = f"SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE shop = ?"
        params: list[Any] = [c.check_shop(shop)]
        if discrepancy_key is not None:
            sql += " AND discrepancy_key = ?"
            params.append(c.check_id("discrepancy_key", discrepancy_key))
        sql += " ORDER BY discrepancy_key, sink"
        return [self._delivery(r) for r in self._read(sql, params)]

    # -- runs -----------------------------------------------------------------------------------

    def _run_record(self, r: Row) -> RunRecord:
        counts = c.loads(r[6])
        assert isinstance(counts, dict)
        return RunRecord(
            shop=r[0],
            run_id=r[1],
            job=r[2],
            started_at=self._ts_out(r[3]),
            finished_at=self._ts_out_opt(r[4]),
            outcome=r[5],
            counts={str(k): int(v) for k, v in counts.items()},
            error=c.text_loads(r[7]),
        )

    def start_run(self, shop: str, job: str, run_id: str, *, now: datetime) -> RunRecord:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        shop = c.check_shop(shop)
        run_id = c.check_id("run_id", run_id)
        rows = self._write(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({_marks(8)}) "
            f"ON CONFLICT (shop, run_id) DO NOTHING RETURNING {RUN_COLUMNS}",
            (
                shop,
                run_id,
                c.check_id("job", job),
                self._ts(c.utc(now, "now")),
                None,
                None,
                "{}",
                None,
            ),
        )
        if not rows:
            raise StorageError(f"run {run_id!r} already exists in shop {shop!r}")
        return self._run_record(rows[0])

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
        shop = c.check_shop(shop)
        run_id = c.check_id("run_id", run_id)
        rows = self._write(
            "UPDATE runs SET finished_at = ?, outcome = ?, counts = ?, error = ? "
            f"WHERE shop = ? AND run_id = ? RETURNING {RUN_COLUMNS}",
            (
                self._ts(c.utc(now, "now")),
                c.check_id("outcome", outcome),
                c.dumps(n.norm_counts(counts)),
                c.text_dumps(c.check_text("error", error)),
                shop,
                run_id,
            ),
        )
        if not rows:
            raise RecordNotFoundError(f"no run {run_id!r} in shop {shop!r}")
        return self._run_record(rows[0])

    def get_run(self, shop: str, run_id: str) -> RunRecord | None:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        rows = self._read(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE shop = ? AND run_id = ?",
            (c.check_shop(shop), c.check_id("run_id", run_id)),
        )
        return self._run_record(rows[0]) if rows else None

    def list_runs(self, shop: str, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
        """See :class:`~mirakl_sync.storage.base.RunStore`."""
        sql = f"SELECT {RUN_COLUMNS} FROM runs WHERE shop = ?"
        params: list[Any] = [c.check_shop(shop)]
        if job is not None:
            sql += " AND job = ?"
            params.append(c.check_id("job", job))
        sql += " ORDER BY started_at DESC, run_id DESC LIMIT ?"
        params.append(n.check_limit(limit))
        return [self._run_record(r) for r in self._read(sql, params)]

    # -- job leases -----------------------------------------------------------------------------

    def _lease(self, r: Row) -> JobLease:
        return JobLease(
            shop=r[0],
            job=r[1],
            owner=r[2],
            acquired_at=self._ts_out(r[3]),
            expires_at=self._ts_out(r[4]),
        )

    def claim_job(
        self, shop: str, job: str, *, worker: str, now: datetime, lease_seconds: float
    ) -> JobLease | None:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        now = c.utc(now, "now")
        expires = c.add_seconds(now, lease_seconds)
        rows = self._write(
            f"INSERT INTO job_leases ({LEASE_COLUMNS}) VALUES ({_marks(5)}) "
            "ON CONFLICT (shop, job) DO UPDATE SET "
            "acquired_at = CASE WHEN job_leases.owner = excluded.owner "
            "THEN job_leases.acquired_at ELSE excluded.acquired_at END, "
            "owner = excluded.owner, expires_at = excluded.expires_at "
            "WHERE job_leases.owner = excluded.owner "
            "OR job_leases.expires_at <= excluded.acquired_at "
            f"RETURNING {LEASE_COLUMNS}",
            (
                c.check_shop(shop),
                c.check_id("job", job),
                c.check_id("worker", worker),
                self._ts(now),
                self._ts(expires),
            ),
        )
        return self._lease(rows[0]) if rows else None

    def release_job(self, shop: str, job: str, *, worker: str) -> bool:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        rows = self._write(
            "DELETE FROM job_leases WHERE shop = ? AND job = ? AND owner = ? RETURNING shop",
            (c.check_shop(shop), c.check_id("job", job), c.check_id("worker", worker)),
        )
        return bool(rows)

    def get_job_lease(self, shop: str, job: str) -> JobLease | None:
        """See :class:`~mirakl_sync.storage.base.JobLeaseStore`."""
        rows = self._read(
            f"SELECT {LEASE_COLUMNS} FROM job_leases WHERE shop = ? AND job = ?",
            (c.check_shop(shop), c.check_id("job", job)),
        )
        return self._lease(rows[0]) if rows else None
