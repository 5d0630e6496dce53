"""Run the shipped storage conformance suite against every built-in backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mirakl_sync.storage import Storage, open_storage
from mirakl_sync.testing.storage_conformance import StorageConformance


class TestMemoryConformance(StorageConformance):
    """``memory://``."""

    @pytest.fixture
    def storage(self) -> Iterator[Storage]:
        store = open_storage("memory://")
        yield store
        store.close()


class TestSQLiteConformance(StorageConformance):
    """``sqlite:///...`` on a temporary file."""

    @pytest.fixture
    def storage(self, tmp_path: Path) -> Iterator[Storage]:
        store = open_storage(f"sqlite:///{tmp_path / 'state.db'}")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresConformance(StorageConformance):
    """``postgresql://...`` on the test server, in a throwaway schema per test."""

    @pytest.fixture
    def storage(self, pg_dsn: str, pg_schema: str) -> Iterator[Storage]:
        store = open_storage(pg_dsn, schema=pg_schema, pool_max_size=6)
        yield store
        store.close()
