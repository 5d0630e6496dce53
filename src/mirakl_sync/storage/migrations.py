"""Versioned schema migrations for the SQL backends.

Each backend has a list of numbered migrations; the version applied last is recorded in the
``schema_version`` table. Opening a storage applies the missing ones automatically, inside one
write transaction that first takes the database's migration lock (``BEGIN IMMEDIATE`` on SQLite,
``pg_advisory_xact_lock`` on Postgres), so two processes migrating at once are safe: the second
waits, then sees the new version and does nothing.

Rules for new migrations: never edit a released one; append a new number; keep each one a list of
statements that runs inside a transaction. A database newer than this code is refused.
"""

from __future__ import annotations

import attrs

__all__ = ["POSTGRES_MIGRATIONS", "SQLITE_MIGRATIONS", "Migration", "latest_version"]


@attrs.frozen(kw_only=True)
class Migration:
    """One schema step: ``version`` (1, 2, ...), a description and its SQL statements."""

    version: int
    description: str
    statements: tuple[str, ...]


# One template for both dialects: {ts} timestamp, {num} exact decimal, {id} identifier text,
# {serial} auto-increment primary key, {int} 64-bit integer.
_V1_TEMPLATE: tuple[str, ...] = (
    """CREATE TABLE checkpoints (
        shop {id} NOT NULL,
        flow {id} NOT NULL,
        cursor TEXT NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (shop, flow)
    )""",
    """CREATE TABLE ledger_orders (
        shop {id} NOT NULL,
        order_id {id} NOT NULL,
        mirakl_state {id} NOT NULL,
        ledger_state {id} NOT NULL,
        mirakl_updated_at {ts},
        sales_order_ref {id},
        total_price {num},
        commission {num},
        data TEXT NOT NULL,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (shop, order_id)
    )""",
    "CREATE INDEX ledger_orders_state ON ledger_orders (shop, ledger_state)",
    """CREATE TABLE ledger_lines (
        shop {id} NOT NULL,
        order_id {id} NOT NULL,
        line_id {id} NOT NULL,
        offer_sku {id} NOT NULL,
        quantity {int} NOT NULL,
        mirakl_state {id} NOT NULL,
        ledger_state {id} NOT NULL,
        price {num},
        reserved_quantity {int} NOT NULL,
        feed_status {id},
        data TEXT NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (shop, order_id, line_id)
    )""",
    "CREATE INDEX ledger_lines_feed ON ledger_lines (shop, feed_status)",
    "CREATE INDEX ledger_lines_reserved ON ledger_lines (shop, offer_sku) "
    "WHERE reserved_quantity > 0",
    """CREATE TABLE ledger_events (
        shop {id} NOT NULL,
        event_id {id} NOT NULL,
        order_id {id} NOT NULL,
        kind {id} NOT NULL,
        payload TEXT NOT NULL,
        recorded_at {ts} NOT NULL,
        PRIMARY KEY (shop, event_id)
    )""",
    "CREATE INDEX ledger_events_order ON ledger_events (shop, order_id)",
    """CREATE TABLE outbox (
        id {serial},
        shop {id} NOT NULL,
        item_key {id} NOT NULL,
        kind {id} NOT NULL,
        payload TEXT NOT NULL,
        status {id} NOT NULL,
        attempts {int} NOT NULL,
        next_attempt_at {ts},
        last_error TEXT,
        lease_owner {id},
        lease_expires_at {ts},
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        UNIQUE (shop, item_key)
    )""",
    "CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status IN ('PLANNED', 'SENT')",
    "CREATE INDEX outbox_status ON outbox (shop, status)",
    """CREATE TABLE published_stock (
        shop {id} NOT NULL,
        offer_sku {id} NOT NULL,
        warehouse {id} NOT NULL,
        quantity {int} NOT NULL,
        content_hash {id} NOT NULL,
        confirmed_at {ts} NOT NULL,
        PRIMARY KEY (shop, offer_sku, warehouse)
    )""",
    """CREATE TABLE pending_imports (
        shop {id} NOT NULL,
        import_id {id} NOT NULL,
        kind {id} NOT NULL,
        status {id} NOT NULL,
        lines TEXT NOT NULL,
        error TEXT,
        submitted_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (shop, import_id)
    )""",
    """CREATE TABLE mappings (
        shop {id} NOT NULL,
        offer_sku {id} NOT NULL,
        components TEXT NOT NULL,
        source {id} NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (shop, offer_sku)
    )""",
    """CREATE TABLE discrepancies (
        shop {id} NOT NULL,
        dkey {id} NOT NULL,
        kind {id} NOT NULL,
        severity {id} NOT NULL,
        status {id} NOT NULL,
        details TEXT NOT NULL,
        first_seen {ts} NOT NULL,
        last_seen {ts} NOT NULL,
        occurrences {int} NOT NULL,
        resolved_at {ts},
        PRIMARY KEY (shop, dkey)
    )""",
    "CREATE INDEX discrepancies_status ON discrepancies (status)",
    """CREATE TABLE alert_deliveries (
        shop {id} NOT NULL,
        discrepancy_key {id} NOT NULL,
        sink {id} NOT NULL,
        status {id} NOT NULL,
        attempts {int} NOT NULL,
        last_attempt_at {ts},
        delivered_at {ts},
        last_error TEXT,
        PRIMARY KEY (shop, discrepancy_key, sink)
    )""",
    """CREATE TABLE runs (
        shop {id} NOT NULL,
        run_id {id} NOT NULL,
        job {id} NOT NULL,
        started_at {ts} NOT NULL,
        finished_at {ts},
        outcome {id},
        counts TEXT NOT NULL,
        error TEXT,
        PRIMARY KEY (shop, run_id)
    )""",
    "CREATE INDEX runs_latest ON runs (shop, job, started_at)",
    """CREATE TABLE job_leases (
        shop {id} NOT NULL,
        job {id} NOT NULL,
        owner {id} NOT NULL,
        acquired_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        PRIMARY KEY (shop, job)
    )""",
)

_SQLITE_TYPES = {
    "ts": "TEXT",  # fixed-width ISO 8601 UTC: sorts and compares in time order
    "num": "TEXT",  # str(Decimal): exact
    "id": "TEXT",
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",  # never reuses ids
    "int": "INTEGER",
}
_POSTGRES_TYPES = {
    "ts": "TIMESTAMPTZ",
    "num": "NUMERIC",
    "id": 'TEXT COLLATE "C"',  # code-point order, as in SQLite and in memory
    "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "int": "BIGINT",
}

SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="initial schema",
        statements=tuple(s.format(**_SQLITE_TYPES) for s in _V1_TEMPLATE),
    ),
)

POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="initial schema",
        statements=tuple(s.format(**_POSTGRES_TYPES) for s in _V1_TEMPLATE),
    ),
)


def latest_version(migrations: tuple[Migration, ...]) -> int:
    """The version a fully migrated database has."""
    return max((m.version for m in migrations), default=0)
