"""``sqlite:///path.db``: the default backend (stdlib ``sqlite3``).

* WAL journal: readers never block the writer; one writer at a time. All processes sharing the
  file must run on the same host (WAL does not work over network filesystems).
* Every write transaction starts with ``BEGIN IMMEDIATE`` (``isolation_level=None``, transactions
  managed explicitly), so a writer waits for the lock up to the busy timeout instead of failing
  with ``SQLITE_BUSY`` half-way through.
* ``synchronous=FULL`` by default: every commit is fsynced, so an outbox commit that precedes an
  irreversible remote call survives a power loss. ``?synchronous=NORMAL`` trades that for speed.
* One connection per thread (and per process: never share an open storage across ``fork``).
* Schema migrations run on open, under ``BEGIN IMMEDIATE``.

URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``; query options
``busy_timeout`` (seconds, default 30) and ``synchronous`` (``FULL``, ``NORMAL``, ``EXTRA``).
"""

from __future__ import annotations

# S608: SQL text here is built only from fixed column lists and placeholder counts defined in
# this package; every value is bound as a parameter.
# ruff: noqa: S608
import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mirakl_sync.errors import StorageError
from mirakl_sync.storage import _codec as c
from mirakl_sync.storage._sql import OUTBOX_COLUMNS, Params, Row, SQLStorageBase
from mirakl_sync.storage.migrations import SQLITE_MIGRATIONS, latest_version

__all__ = ["SQLiteStorage"]

_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStorage(SQLStorageBase):
    """The SQLite backend.

    Args:
        path: the database file (created if missing).
        busy_timeout: seconds a writer waits for the write lock before failing.
        synchronous: the ``PRAGMA synchronous`` level (``FULL`` by default).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: str = "FULL",
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        if self.path in ("", ":memory:") or self.path.startswith("file:"):
            raise StorageError(
                "SQLite storage needs a file path (use 'memory://' for an in-memory storage)"
            )
        level = str(synchronous).upper()
        if level not in _SYNCHRONOUS:
            raise StorageError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self._synchronous = level
        try:
            self._busy_timeout = float(busy_timeout)
        except (TypeError, ValueError) as exc:
            raise StorageError(f"busy_timeout must be a number of seconds: {exc}") from exc
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._migrate()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteStorage:
        """Build from ``sqlite:///relative.db`` or ``sqlite:////absolute.db``."""
        parts = urlsplit(url)
        if parts.netloc:
            raise StorageError(
                f"unexpected host {parts.netloc!r} in SQLite URL: use 'sqlite:///relative.db' or "
                "'sqlite:////absolute/path.db'"
            )
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        query: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(query) - {"busy_timeout", "synchronous"}
        if unknown:
            raise StorageError(f"unknown SQLite URL options: {', '.join(sorted(unknown))}")
        query.update(options)
        return cls(path, **query)

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    # -- connections ----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            mode = self._enable_wal(conn)
            # The level comes from the allow-list above, never from data.
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path!r}: {exc}") from exc
        if str(mode).lower() != "wal":
            conn.close()
            raise StorageError(f"SQLite database {self.path!r} cannot use WAL (got {mode!r})")
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> str:
        """Switch to WAL. Several processes opening a new file at once can get "database is
        locked" here without the busy handler being called, so retry until the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.005
        while True:
            try:
                mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
                if mode.lower() != "wal":
                    mode = str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
                return mode
            except sqlite3.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if not locked or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _conn(self) -> sqlite3.Connection:
        self._check_open()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _begin(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite: cannot start a write transaction: {exc}") from exc
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # already rolled back by SQLite
                    conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StorageError(f"SQLite: commit failed: {exc}") from exc

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        yield self._conn()

    def _run(self, conn: Any, sql: str, params: Params) -> list[Row]:
        try:
            rows: list[Row] = conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite: {exc}") from exc
        return rows

    def _run_many(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite: {exc}") from exc

    def close(self) -> None:
        """Close every connection this storage opened (from any thread)."""
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    # -- migrations -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        latest = latest_version(SQLITE_MIGRATIONS)
        with self._begin() as conn:
            self._run(
                conn,
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at TEXT NOT NULL)",
                (),
            )
            current = self._run(conn, "SELECT MAX(version) FROM schema_version", ())[0][0] or 0
            if current > latest:
                raise StorageError(
                    f"SQLite database {self.path!r} has schema version {current}, newer than "
                    f"this mirakl_sync supports ({latest}): upgrade mirakl_sync"
                )
            for migration in SQLITE_MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    self._run(conn, statement, ())
                self._run(
                    conn,
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES (?, ?, ?)",
                    (migration.version, migration.description, c.dt_to_text(datetime.now(UTC))),
                )

    def schema_version(self) -> int:
        """The schema version of the database."""
        version = self._read("SELECT MAX(version) FROM schema_version")[0][0]
        return int(version or 0)

    # -- dialect --------------------------------------------------------------------------------

    def _claim_sql(self, by_shop: bool) -> str:
        shop = " AND shop = :shop" if by_shop else ""
        return (
            "UPDATE outbox SET attempts = attempts + 1, lease_owner = :worker, "
            "lease_expires_at = :expires, updated_at = :now WHERE id IN (SELECT id FROM outbox "
            "WHERE status IN ('PLANNED', 'SENT') AND next_attempt_at <= :now "
            f"AND (lease_expires_at IS NULL OR lease_expires_at <= :now){shop} "
            f"ORDER BY next_attempt_at, id LIMIT :limit) RETURNING {OUTBOX_COLUMNS}"
        )

    def _ts(self, value: datetime) -> Any:
        return c.dt_to_text(value)

    def _ts_out(self, value: Any) -> datetime:
        return c.dt_from_text(value)

    def _num(self, value: Decimal) -> Any:
        return str(value)

    def _num_out(self, value: Any) -> Decimal:
        return Decimal(value)
