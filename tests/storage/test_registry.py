"""``open_storage``: schemes, instances, run-time registration and entry-point plugins."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from mirakl_sync.errors import StorageError
from mirakl_sync.storage import available_schemes, open_storage, register_storage, registry
from mirakl_sync.storage.memory import MemoryStorage
from mirakl_sync.storage.sqlite import SQLiteStorage


@pytest.fixture(autouse=True)
def _clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_registered", {})


def _plugins(monkeypatch: pytest.MonkeyPatch, *entries: tuple[str, str]) -> None:
    points = {
        name: EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)
        for name, value in entries
    }
    monkeypatch.setattr(registry, "_entry_points", lambda: points)


def test_builtin_schemes() -> None:
    assert isinstance(open_storage("memory://"), MemoryStorage)
    assert {"memory", "sqlite", "postgresql", "postgres"} <= set(available_schemes())


def test_instance_is_returned_unchanged() -> None:
    store = MemoryStorage()
    assert open_storage(store) is store
    with pytest.raises(StorageError, match="options"):
        open_storage(store, schema="x")
    with pytest.raises(StorageError, match="not a Storage"):
        open_storage(object())  # type: ignore[arg-type]


def test_unknown_and_missing_schemes() -> None:
    with pytest.raises(StorageError, match=r"unknown storage scheme 'nope'.*memory"):
        open_storage("nope://x")
    with pytest.raises(StorageError, match="no scheme"):
        open_storage("state.db")
    with pytest.raises(StorageError, match="takes no options"):
        open_storage("memory://", foo=1)


def test_register_storage_at_run_time() -> None:
    made: list[str] = []

    def factory(url: str, **options: object) -> MemoryStorage:
        made.append(url)
        return MemoryStorage()

    register_storage("Custom", factory)
    assert isinstance(open_storage("custom://anything"), MemoryStorage)
    assert made == ["custom://anything"]
    with pytest.raises(StorageError, match="already registered"):
        register_storage("custom", factory)
    with pytest.raises(StorageError, match="already registered"):
        register_storage("sqlite", factory)
    register_storage("custom", "mirakl_sync.storage.memory:MemoryStorage", clobber=True)
    assert isinstance(open_storage("custom://"), MemoryStorage)
    assert "custom" in available_schemes()
    with pytest.raises(StorageError, match="invalid storage scheme"):
        register_storage("bad scheme!", factory)


def test_factory_returning_something_else_is_reported() -> None:
    register_storage("odd", lambda url, **options: "not a storage")  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="not a Storage"):
        open_storage("odd://")
    register_storage("crashy", lambda url, **options: 1 / 0)  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="could not open crashy"):
        open_storage("crashy://")


def test_entry_point_plugin_is_loaded_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(
        monkeypatch,
        ("plugged", "mirakl_sync.storage.memory:MemoryStorage"),
        ("broken", "mirakl_sync_no_such_module_xyz:Backend"),
    )
    # listing does not import anything, so a broken plugin does not break it
    assert {"plugged", "broken"} <= set(available_schemes())
    assert isinstance(open_storage("plugged://"), MemoryStorage)


def test_broken_plugin_is_reported_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(
        monkeypatch,
        ("broken", "mirakl_sync_no_such_module_xyz:Backend"),
        ("noattr", "mirakl_sync.storage.memory:NoSuchClass"),
    )
    with pytest.raises(StorageError, match=r"storage plugin 'broken' .* failed to load"):
        open_storage("broken://x")
    with pytest.raises(StorageError, match=r"storage plugin 'noattr' .* failed to load"):
        open_storage("noattr://x")
    # the other backends are unaffected
    assert isinstance(open_storage("memory://"), MemoryStorage)


def test_builtin_wins_over_a_plugin_with_the_same_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _plugins(monkeypatch, ("memory", "mirakl_sync_no_such_module_xyz:Backend"))
    assert isinstance(open_storage("memory://"), MemoryStorage)


def test_missing_psycopg_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "mirakl_sync.storage.postgres", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StorageError, match=r"pip install 'mirakl-sync\[postgres\]'"):
        open_storage("postgresql://user@127.0.0.1/db")


def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rel = open_storage("sqlite:///relative.db?busy_timeout=2&synchronous=normal")
    assert isinstance(rel, SQLiteStorage)
    assert rel.path == "relative.db"
    rel.close()
    assert (tmp_path / "relative.db").exists()
    absolute = open_storage(f"sqlite:///{tmp_path / 'abs.db'}", busy_timeout=1)
    assert isinstance(absolute, SQLiteStorage)
    assert absolute.path == str(tmp_path / "abs.db")
    absolute.close()
    with pytest.raises(StorageError, match="unknown SQLite URL options"):
        open_storage("sqlite:///x.db?journal=delete")
    with pytest.raises(StorageError, match="synchronous must be one of"):
        open_storage("sqlite:///x.db?synchronous=bogus;DROP")
    with pytest.raises(StorageError, match="memory://"):
        open_storage("sqlite:///:memory:")
    with pytest.raises(StorageError, match="unexpected host"):
        open_storage("sqlite://host/x.db")
    with pytest.raises(StorageError, match="cannot open SQLite database"):
        open_storage(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


def test_postgres_options_are_checked_before_connecting() -> None:
    with pytest.raises(StorageError, match="invalid Postgres schema name"):
        open_storage("postgresql://u@127.0.0.1:1/db?schema=Bad-Name;drop")
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL"):
        open_storage("postgres://u@127.0.0.1:1/db?connect_timeout=1", pool_timeout=2)
