"""Backend specifics: SQLite pragmas, migrations (also run concurrently), Postgres schemas, and
the serialisation rules (no pickle anywhere in storage)."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import mirakl_sync.storage
from mirakl_sync.errors import StorageError
from mirakl_sync.storage import OutboxStatus, open_storage
from mirakl_sync.storage.migrations import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    latest_version,
)
from mirakl_sync.storage.postgres import PostgresStorage
from mirakl_sync.storage.sqlite import SQLiteStorage

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OPEN_SNIPPET = (
    "import sys; from mirakl_sync.storage import open_storage; "
    "kw = {'schema': sys.argv[2]} if len(sys.argv) > 2 else {}; "
    "s = open_storage(sys.argv[1], **kw); "
    "s.enqueue('shop', 'k', kind='k', payload=None, now=__import__('datetime').datetime.now("
    "__import__('datetime').UTC)); s.close()"
)


def _open_concurrently(args: list[str], processes: int) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN_SNIPPET, *args], stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]


# -- SQLite ------------------------------------------------------------------------------------


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "s.db", busy_timeout=7)
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 7000
    assert conn.isolation_level is None
    store.close()
    normal = SQLiteStorage(tmp_path / "s.db", synchronous="normal")
    assert normal._conn().execute("PRAGMA synchronous").fetchone()[0] == 1
    normal.close()


def test_sqlite_one_connection_per_thread(tmp_path: Path) -> None:
    import threading

    store = SQLiteStorage(tmp_path / "s.db")
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(id(store._conn())))
    thread.start()
    thread.join()
    assert seen[0] != id(store._conn())
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.get_item("s", "k")


def test_sqlite_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStorage(path)
    assert store.schema_version() == latest_version(SQLITE_MIGRATIONS) == 1
    store.enqueue("shop", "k", kind="k", payload=None, now=NOW)
    store.close()
    again = SQLiteStorage(path)
    assert again.schema_version() == 1
    assert again.get_item("shop", "k") is not None
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', '2099-01-01')")
    with pytest.raises(StorageError, match="newer than this mirakl_sync"):
        SQLiteStorage(path)


def test_sqlite_concurrent_first_open_is_safe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _open_concurrently([url], processes=6)
    store = open_storage(url)
    assert isinstance(store, SQLiteStorage)
    assert store.schema_version() == 1
    assert store.count_items()[OutboxStatus.PLANNED] == 1
    store.close()


# -- Postgres ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_schema_option_and_alias(pg_dsn: str, pg_schema: str) -> None:
    url = pg_dsn.replace("postgresql://", "postgres://", 1)
    sep = "&" if "?" in url else "?"
    store = open_storage(f"{url}{sep}schema={pg_schema}&pool_max_size=2")
    assert isinstance(store, PostgresStorage)
    assert store.schema == pg_schema
    assert store.schema_version() == latest_version(POSTGRES_MIGRATIONS) == 1
    store.enqueue("shop", "k", kind="k", payload=None, now=NOW)
    store.close()


@pytest.mark.postgres
def test_postgres_schemas_are_isolated(pg_dsn: str, pg_schema: str) -> None:
    from tests.storage.conftest import drop_schema

    other = pg_schema + "_b"
    first = open_storage(pg_dsn, schema=pg_schema)
    second = open_storage(pg_dsn, schema=other)
    try:
        first.enqueue("shop", "k", kind="k", payload=None, now=NOW)
        assert second.get_item("shop", "k") is None
        assert first.get_item("shop", "k") is not None
    finally:
        first.close()
        second.close()
        drop_schema(pg_dsn, other)


@pytest.mark.postgres
def test_postgres_concurrent_migrations_are_safe(pg_dsn: str, pg_schema: str) -> None:
    _open_concurrently([pg_dsn, pg_schema], processes=4)
    store = open_storage(pg_dsn, schema=pg_schema)
    assert isinstance(store, PostgresStorage)
    assert store.schema_version() == 1
    assert store._read("SELECT COUNT(*) FROM schema_version")[0][0] == 1
    assert store.count_items()[OutboxStatus.PLANNED] == 1
    store.close()


@pytest.mark.postgres
def test_postgres_refuses_a_newer_schema(pg_dsn: str, pg_schema: str) -> None:
    store = open_storage(pg_dsn, schema=pg_schema)
    assert isinstance(store, PostgresStorage)
    store._write("INSERT INTO schema_version VALUES (99, 'future', now())")
    store.close()
    with pytest.raises(StorageError, match="newer than this mirakl_sync"):
        open_storage(pg_dsn, schema=pg_schema)


@pytest.mark.postgres
def test_postgres_bulk_published_stock_uses_copy_and_upserts(pg_dsn: str, pg_schema: str) -> None:
    from mirakl_sync.storage import PublishedStock

    store = open_storage(pg_dsn, schema=pg_schema)
    try:
        rows = [
            PublishedStock(
                shop="s", offer_sku=f"SKU-{i:05d}", quantity=i, content_hash="h", confirmed_at=NOW
            )
            for i in range(5000)
        ]
        duplicate = PublishedStock(
            shop="s", offer_sku="SKU-00001", quantity=77, content_hash="dup", confirmed_at=NOW
        )
        assert store.put_published([*rows, duplicate]) == 5001
        assert store.put_published(rows[:3000]) == 3000  # update path
        assert len(store.list_published("s")) == 5000
        got = store.get_published("s", "SKU-04999")
        assert got == rows[4999]
        assert store.get_published("s", "SKU-00001") == rows[1]
    finally:
        store.close()


# -- serialisation -----------------------------------------------------------------------------


def test_no_pickle_in_storage() -> None:
    """Payloads are JSON: no module of the storage package imports pickle-like serialisers."""
    forbidden = {"pickle", "cPickle", "dill", "shelve", "marshal", "cloudpickle"}
    package = Path(mirakl_sync.storage.__file__).parent
    files = [*package.rglob("*.py")]
    assert len(files) >= 8
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            assert not forbidden & set(names), f"{path.name} imports {names}"
