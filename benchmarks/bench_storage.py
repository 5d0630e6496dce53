"""Storage throughput, reported as ratios against baselines measured in the same run.

1. Outbox claim -> mark_sent -> complete for N items (default 10,000) by one worker, batches of
   50, one commit per step as the engine does it (the SENT commit precedes the remote call).
   Baseline: the raw driver running the same kind of statements (one claim UPDATE ... RETURNING
   per batch, one UPDATE per step, same number of commits) without the library.
2. Writing M published-stock rows (default 1,000,000) with ``put_published`` (validation, upsert;
   COPY + upsert on Postgres). Baseline: the same rows inserted with a plain ``executemany`` of
   an ``INSERT`` into a table of the same shape.

Usage::

    .venv/bin/python benchmarks/bench_storage.py [--items 10000] [--rows 1000000]
        [--pg-dsn postgresql://postgres@127.0.0.1:5432/test] [--skip-postgres] [--json]

The Postgres DSN defaults to ``MIRAKL_SYNC_TEST_PG_DSN``; each run uses a throwaway schema.
``--json`` adds a ``BENCH-JSON`` summary line (one row per measurement) for ``run_all.py``.
Figures depend on the machine (SQLite commits are fsynced: ``synchronous=FULL``); compare the
ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mirakl_sync.storage import PublishedStock, Storage, open_storage
from mirakl_sync.storage._codec import dt_to_text

NOW = datetime(2026, 3, 1, tzinfo=UTC)
#: every measurement reported, for ``--json``
RESULTS: list[dict[str, Any]] = []
BATCH = 50
SHOP = "bench-shop"


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _report(label: str, count: int, lib_s: float, base_s: float) -> None:
    RESULTS.append(
        {
            "workload": " ".join(label.split()),
            "ours": f"{count / lib_s:,.0f}/s",
            "baseline": f"{count / base_s:,.0f}/s",
            "ratio": lib_s / base_s,
            "peak_mb": None,
            "target": None,
            "ok": None,
            "note": "baseline: the raw driver, same statements",
        }
    )
    print(
        f"{label:<44} library {count / lib_s:>11,.0f}/s ({lib_s:7.2f} s)   "
        f"baseline {count / base_s:>11,.0f}/s ({base_s:7.2f} s)   "
        f"library/baseline time ratio {lib_s / base_s:5.2f}"
    )


# -- outbox ------------------------------------------------------------------------------------


def _enqueue(storage: Storage, items: int) -> None:
    with storage.transaction():
        for i in range(items):
            storage.enqueue(SHOP, f"item-{i:06d}", kind="bench", payload={"i": i}, now=NOW)


def _library_cycle(storage: Storage, items: int) -> None:
    done = 0
    while True:
        batch = storage.claim(worker="bench", now=NOW, lease_seconds=600, limit=BATCH)
        if not batch:
            break
        for item in batch:
            storage.mark_sent(item.shop, item.key, worker="bench", now=NOW)
            storage.complete(item.shop, item.key, worker="bench", now=NOW)
            done += 1
    assert done == items, done


_RAW_TABLE = """CREATE TABLE raw_outbox (
    id {serial}, shop TEXT NOT NULL, item_key TEXT NOT NULL, status TEXT NOT NULL,
    payload TEXT NOT NULL, lease_owner TEXT, lease_expires_at {ts}, next_attempt_at {ts},
    attempts BIGINT NOT NULL DEFAULT 0, UNIQUE (shop, item_key))"""


def _sqlite_raw_cycle(path: Path, items: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(_RAW_TABLE.format(serial="INTEGER PRIMARY KEY AUTOINCREMENT", ts="TEXT"))
    now = dt_to_text(NOW)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO raw_outbox (shop, item_key, status, payload, next_attempt_at) "
        "VALUES (?, ?, 'PLANNED', ?, ?)",
        [(SHOP, f"item-{i:06d}", f'{{"i": {i}}}', now) for i in range(items)],
    )
    conn.execute("COMMIT")

    def cycle() -> None:
        while True:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(
                "UPDATE raw_outbox SET lease_owner = ?, lease_expires_at = ?, "
                "attempts = attempts + 1 WHERE id IN (SELECT id FROM raw_outbox "
                "WHERE status = 'PLANNED' AND next_attempt_at <= ? AND lease_owner IS NULL "
                "ORDER BY next_attempt_at, id LIMIT ?) RETURNING id",
                ("bench", now, now, BATCH),
            ).fetchall()
            conn.execute("COMMIT")
            if not rows:
                return
            for (row_id,) in rows:
                for status in ("SENT", "CONFIRMED"):
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(
                        "UPDATE raw_outbox SET status = ? WHERE id = ? AND lease_owner = ?",
                        (status, row_id, "bench"),
                    )
                    conn.execute("COMMIT")

    elapsed = _timed(cycle)
    conn.close()
    return elapsed


def _pg_raw_cycle(dsn: str, schema: str, items: int) -> float:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(_RAW_TABLE.format(serial="BIGSERIAL PRIMARY KEY", ts="TIMESTAMPTZ"))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO raw_outbox (shop, item_key, status, payload, next_attempt_at) "
                "VALUES (%s, %s, 'PLANNED', %s, %s)",
                [(SHOP, f"item-{i:06d}", f'{{"i": {i}}}', NOW) for i in range(items)],
            )
        conn.commit()

        def cycle() -> None:
            while True:
                rows = conn.execute(
                    "WITH picked AS (SELECT id FROM raw_outbox WHERE status = 'PLANNED' "
                    "AND next_attempt_at <= %s AND lease_owner IS NULL "
                    "ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
                    "UPDATE raw_outbox o SET lease_owner = %s, lease_expires_at = %s, "
                    "attempts = o.attempts + 1 FROM picked WHERE o.id = picked.id RETURNING o.id",
                    (NOW, BATCH, "bench", NOW),
                ).fetchall()
                conn.commit()
                if not rows:
                    return
                for (row_id,) in rows:
                    for status in ("SENT", "CONFIRMED"):
                        conn.execute(
                            "UPDATE raw_outbox SET status = %s WHERE id = %s AND lease_owner = %s",
                            (status, row_id, "bench"),
                        )
                        conn.commit()

        return _timed(cycle)


# -- published stock ---------------------------------------------------------------------------


def _stock_rows(rows: int) -> list[PublishedStock]:
    return [
        PublishedStock(
            shop=SHOP,
            offer_sku=f"SKU-{i:07d}",
            warehouse="",
            quantity=i % 500,
            content_hash=f"{i:016x}",
            confirmed_at=NOW,
        )
        for i in range(rows)
    ]


_RAW_STOCK = """CREATE TABLE raw_stock (shop TEXT NOT NULL, offer_sku TEXT NOT NULL,
    warehouse TEXT NOT NULL, quantity BIGINT NOT NULL, content_hash TEXT NOT NULL,
    confirmed_at {ts} NOT NULL, PRIMARY KEY (shop, offer_sku, warehouse))"""


def _sqlite_raw_stock(path: Path, records: list[PublishedStock]) -> float:
    tuples = [
        (r.shop, r.offer_sku, r.warehouse, r.quantity, r.content_hash, dt_to_text(r.confirmed_at))
        for r in records
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(_RAW_STOCK.format(ts="TEXT"))

    def insert() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO raw_stock VALUES (?, ?, ?, ?, ?, ?)", tuples)
        conn.execute("COMMIT")

    elapsed = _timed(insert)
    conn.close()
    return elapsed


def _pg_raw_stock(dsn: str, schema: str, records: list[PublishedStock]) -> float:
    import psycopg

    tuples = [
        (r.shop, r.offer_sku, r.warehouse, r.quantity, r.content_hash, r.confirmed_at)
        for r in records
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute(f"SET search_path TO {schema}")
        conn.execute(_RAW_STOCK.format(ts="TIMESTAMPTZ"))
        conn.commit()

        def insert() -> None:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO raw_stock VALUES (%s, %s, %s, %s, %s, %s)", tuples)
            conn.commit()

        return _timed(insert)


# -- driver ------------------------------------------------------------------------------------


def bench_sqlite(items: int, rows: int, records: list[PublishedStock]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        storage = open_storage(f"sqlite:///{Path(tmp) / 'lib.db'}")
        _enqueue(storage, items)
        lib = _timed(lambda: _library_cycle(storage, items))
        base = _sqlite_raw_cycle(Path(tmp) / "raw.db", items)
        _report(f"sqlite   outbox claim->sent->complete x{items:,}", items, lib, base)

        lib = _timed(lambda: storage.put_published(records))
        base = _sqlite_raw_stock(Path(tmp) / "raw-stock.db", records)
        _report(f"sqlite   put_published x{rows:,} (insert)", rows, lib, base)
        lib = _timed(lambda: storage.put_published(records))
        _report(f"sqlite   put_published x{rows:,} (update)", rows, lib, base)
        storage.close()


def bench_postgres(dsn: str, items: int, rows: int, records: list[PublishedStock]) -> None:
    import psycopg

    schema = f"mirakl_sync_bench_{secrets.token_hex(4)}"
    raw_schema = schema + "_raw"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {raw_schema}")
    try:
        storage = open_storage(dsn, schema=schema)
        _enqueue(storage, items)
        lib = _timed(lambda: _library_cycle(storage, items))
        base = _pg_raw_cycle(dsn, raw_schema, items)
        _report(f"postgres outbox claim->sent->complete x{items:,}", items, lib, base)

        lib = _timed(lambda: storage.put_published(records))
        base = _pg_raw_stock(dsn, raw_schema, records)
        _report(f"postgres put_published x{rows:,} (insert)", rows, lib, base)
        lib = _timed(lambda: storage.put_published(records))
        _report(f"postgres put_published x{rows:,} (update)", rows, lib, base)
        storage.close()
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name in (schema, raw_schema):
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def main() -> None:
    """Run the benchmarks and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg-dsn", default=os.environ.get("MIRAKL_SYNC_TEST_PG_DSN", ""))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true", help="print a BENCH-JSON summary line")
    args = parser.parse_args()

    records = _stock_rows(args.rows)
    print("time ratio = library time / baseline time in the same run (lower is better)")
    bench_sqlite(args.items, args.rows, records)
    if args.skip_postgres or not args.pg_dsn:
        print("postgres: skipped (no --pg-dsn / MIRAKL_SYNC_TEST_PG_DSN)")
    else:
        bench_postgres(args.pg_dsn, args.items, args.rows, records)
    if args.json:
        skipped = args.skip_postgres or not args.pg_dsn
        summary = {"bench": "storage", "rows": RESULTS, "postgres_skipped": skipped}
        print("BENCH-JSON " + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
