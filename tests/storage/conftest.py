"""Fixtures for the storage tests: the Postgres DSN and throwaway schemas."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest


def postgres_dsn() -> str:
    """The test server's DSN; skip (or fail, when ``MIRAKL_SYNC_REQUIRE_PG`` is set) without it."""
    dsn = os.environ.get("MIRAKL_SYNC_TEST_PG_DSN", "").strip()
    if not dsn:
        if os.environ.get("MIRAKL_SYNC_REQUIRE_PG"):
            pytest.fail(
                "MIRAKL_SYNC_REQUIRE_PG is set but MIRAKL_SYNC_TEST_PG_DSN is not: the Postgres "
                "tests must run here"
            )
        pytest.skip("set MIRAKL_SYNC_TEST_PG_DSN to run the Postgres tests")
    return dsn


def drop_schema(dsn: str, schema: str) -> None:
    """Drop a test schema and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_dsn() -> str:
    """The Postgres DSN (see :func:`postgres_dsn`)."""
    return postgres_dsn()


@pytest.fixture
def pg_schema(pg_dsn: str) -> Iterator[str]:
    """A fresh schema name, dropped after the test."""
    schema = f"mirakl_sync_test_{secrets.token_hex(6)}"
    yield schema
    drop_schema(pg_dsn, schema)
