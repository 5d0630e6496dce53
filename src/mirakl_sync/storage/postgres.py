"""``postgresql://...``: the backend for many workers on many hosts (extra ``postgres``).

Uses psycopg 3 with a ``psycopg_pool.ConnectionPool``. Outbox items are claimed with one
statement that selects due rows ``FOR UPDATE SKIP LOCKED`` and leases them, then commits: row
locks are never held across a remote call; the lease (owner + expiry) is what protects an item
while a worker processes it, and an expired lease lets another worker take over.

All tables live in one schema (default ``mirakl_sync``; ``?schema=name`` in the URL or
``schema=`` in the constructor), so the library never collides with the host application's
tables and test runs can use a throwaway schema. Migrations run on open under
``pg_advisory_xact_lock``, so several workers starting at once are safe. Do not put a
transaction-pooling PgBouncer in front of it for migrations: only transaction-level locks are
used, which PgBouncer supports.

URL options (query string or keyword arguments): ``schema``, ``pool_min_size`` (default 1),
``pool_max_size`` (default 10), ``pool_timeout`` (seconds to wait for a connection, default 30).
Every other query parameter is passed to libpq (``sslmode``, ``connect_timeout``...).
"""

from __future__ import annotations

# S608: SQL text here is built only from fixed column lists and placeholder counts defined in
# this package; every value is bound as a parameter.
# ruff: noqa: S608
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from mirakl_sync.errors import StorageError
from mirakl_sync.storage._sql import (
    OUTBOX_COLUMNS,
    STOCK_COLUMNS,
    UPSERT_STOCK,
    Params,
    Row,
    SQLStorageBase,
)
from mirakl_sync.storage.migrations import POSTGRES_MIGRATIONS, latest_version

__all__ = ["PostgresStorage"]

_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_OWN_OPTIONS = ("schema", "pool_min_size", "pool_max_size", "pool_timeout")
# Batches at least this large go through COPY into a staging table.
_COPY_THRESHOLD = 2000


def _prefixed(statement: str) -> str:
    return statement.replace("?", "%s")


class PostgresStorage(SQLStorageBase):
    """The PostgreSQL backend.

    Args:
        conninfo: a libpq connection string or ``postgresql://`` URL.
        schema: the schema holding the tables (created if missing); lower-case letters, digits
            and underscores only.
        pool_min_size, pool_max_size: connection pool bounds.
        pool_timeout: seconds to wait for a free connection.
    """

    _for_update = " FOR UPDATE"

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "mirakl_sync",
        pool_min_size: int = 1,
        pool_max_size: int = 10,
        pool_timeout: float = 30.0,
    ) -> None:
        super().__init__()
        if not isinstance(schema, str) or not _SCHEMA_RE.match(schema):
            raise StorageError(
                f"invalid Postgres schema name {schema!r}: use lower-case letters, digits and "
                "underscores (at most 63 characters, not starting with a digit)"
            )
        self.schema = schema
        self._sql_cache: dict[str, str] = {}
        try:
            self._pool = ConnectionPool(
                conninfo,
                min_size=int(pool_min_size),
                max_size=int(pool_max_size),
                timeout=float(pool_timeout),
                configure=self._configure,
                open=False,
                name=f"mirakl_sync:{schema}",
            )
            self._pool.open(wait=True, timeout=float(pool_timeout))
        except psycopg.Error as exc:  # PoolTimeout is a psycopg.OperationalError
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresStorage:
        """Build from ``postgresql://user@host:port/db?schema=name&pool_max_size=8``."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        own: dict[str, Any] = {k: v for k, v in query if k in _OWN_OPTIONS}
        libpq = [(k, v) for k, v in query if k not in _OWN_OPTIONS]
        own.update(options)
        scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
        conninfo = urlunsplit((scheme, parts.netloc, parts.path, urlencode(libpq), parts.fragment))
        return cls(conninfo, **own)

    def __repr__(self) -> str:
        return f"PostgresStorage(schema={self.schema!r})"

    # -- connections ----------------------------------------------------------------------------

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()

    @contextmanager
    def _begin(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc

    @contextmanager
    def _reader(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc

    def _pg(self, statement: str) -> str:
        converted = self._sql_cache.get(statement)
        if converted is None:
            converted = _prefixed(statement)
            self._sql_cache[statement] = converted
        return converted

    def _run(self, conn: Any, sql_text: str, params: Params) -> list[Row]:
        try:
            cur = conn.execute(self._pg(sql_text), params)
            rows: list[Row] = cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc
        return rows

    def _run_many(self, conn: Any, sql_text: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with conn.cursor() as cur:
                cur.executemany(self._pg(sql_text), rows)
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc

    def _bulk_put_published(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        # One row per key, last one wins (as with executemany), so ON CONFLICT never sees a key
        # twice in one statement.
        unique = list({(r[0], r[1], r[2]): r for r in rows}.values())
        if len(unique) < _COPY_THRESHOLD:
            self._run_many(conn, UPSERT_STOCK, unique)
            return
        updates = ", ".join(
            f"{col} = excluded.{col}" for col in ("quantity", "content_hash", "confirmed_at")
        )
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS published_stock_stage "
                    "(LIKE published_stock) ON COMMIT DELETE ROWS"
                )
                with cur.copy(f"COPY published_stock_stage ({STOCK_COLUMNS}) FROM STDIN") as copy:
                    for row in unique:
                        copy.write_row(row)
                cur.execute(
                    f"INSERT INTO published_stock ({STOCK_COLUMNS}) "
                    f"SELECT {STOCK_COLUMNS} FROM published_stock_stage "
                    f"ON CONFLICT (shop, offer_sku, warehouse) DO UPDATE SET {updates}"
                )
                cur.execute("TRUNCATE published_stock_stage")
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL: {exc}") from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._closed = True
        self._pool.close()

    # -- migrations -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        latest = latest_version(POSTGRES_MIGRATIONS)
        lock_key = zlib.crc32(f"mirakl_sync.migrations:{self.schema}".encode())
        schema = sql.Identifier(self.schema)
        with self._begin() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {}.schema_version (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
                ).format(schema)
            )
            row = conn.execute(
                sql.SQL("SELECT MAX(version) FROM {}.schema_version").format(schema)
            ).fetchone()
            current = int(row[0] or 0) if row else 0
            if current > latest:
                raise StorageError(
                    f"Postgres schema {self.schema!r} has version {current}, newer than this "
                    f"mirakl_sync supports ({latest}): upgrade mirakl_sync"
                )
            for migration in POSTGRES_MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)  # search_path is the schema
                conn.execute(
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES (%s, %s, %s)",
                    (migration.version, migration.description, datetime.now(UTC)),
                )

    def schema_version(self) -> int:
        """The schema version of the database."""
        version = self._read("SELECT MAX(version) FROM schema_version")[0][0]
        return int(version or 0)

    # -- dialect --------------------------------------------------------------------------------

    def _claim_sql(self, by_shop: bool) -> str:
        shop = " AND shop = %(shop)s" if by_shop else ""
        columns = ", ".join(f"o.{col.strip()}" for col in OUTBOX_COLUMNS.split(","))
        return (
            "WITH picked AS (SELECT id FROM outbox "
            "WHERE status IN ('PLANNED', 'SENT') AND next_attempt_at <= %(now)s "
            f"AND (lease_expires_at IS NULL OR lease_expires_at <= %(now)s){shop} "
            "ORDER BY next_attempt_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
            "UPDATE outbox AS o SET attempts = o.attempts + 1, lease_owner = %(worker)s, "
            "lease_expires_at = %(expires)s, updated_at = %(now)s "
            f"FROM picked WHERE o.id = picked.id RETURNING {columns}"
        )

    def _ts(self, value: datetime) -> Any:
        return value

    def _ts_out(self, value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value.astimezone(UTC)

    def _num(self, value: Decimal) -> Any:
        return value

    def _num_out(self, value: Any) -> Decimal:
        return value if isinstance(value, Decimal) else Decimal(value)
