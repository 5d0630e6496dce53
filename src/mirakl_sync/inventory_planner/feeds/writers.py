"""Streaming CSV writers for Inventory Planner's Starter and Advanced CSV connectors.

Every writer takes an iterable of :mod:`records <mirakl_sync.inventory_planner.feeds.records>`
and a text stream, writes one row at a time with the stdlib ``csv`` module (nothing is
accumulated: a million order lines cost the memory of one), and returns a :class:`WriteResult`.
Writers are pure apart from the output stream: no clock (``as_of`` is passed in), no I/O of their
own, deterministic output (the same input gives byte-identical files).

**Starter connector** (full snapshots pulled daily): IP deletes whatever disappears from a
snapshot, so the Starter writers always write everything they are given; feed them the whole
history. Returns are written as net quantities (``quantity - returned_quantity``) because the
Starter sales file has no return rows.

**Advanced connector** (incremental files over SFTP): only rows changed since the last feed.
Two ways to say what "changed" means, usable together:

* ``since``: only records whose ``updated_at`` (``last_change`` for sales lines) is at or after
  ``since`` (cheap; relies on the ledger's timestamps);
* ``previous``: the row fingerprints returned by the previous run (:attr:`WriteResult.fingerprints`,
  persisted by the caller **after** publishing succeeded). A row is written when its fingerprint
  (a hash of its cells except ``UPDATED_AT``) differs; a stock or catalogue row that vanished
  from the input is written once with ``REMOVED=true``. Because the caller only stores the new
  fingerprints once the files are delivered, a failed publish loses nothing: the next run
  computes the same changes again.

With neither, everything is written (the initial sync).

Advanced sales rows: ``ORDER_ID`` = Mirakl order-line id, ``ID`` = Mirakl order id,
``CANCELLED=true`` for refused/cancelled lines, and a line's returns as one extra row
``ORDER_ID=<line id>-RETURN`` with ``QUANTITY=-returned_quantity`` (cumulative, so re-sending it
replaces the earlier return row instead of adding to it).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, TextIO

import attrs

if TYPE_CHECKING:
    import _csv

from mirakl_sync.inventory_planner.feeds.columns import ADVANCED, STARTER, ColumnSpec
from mirakl_sync.inventory_planner.feeds.records import (
    FeedPurchaseOrderLine,
    FeedWarehouse,
    Product,
    SalesLine,
    StockLevel,
)

__all__ = [
    "RETURN_SUFFIX",
    "WriteResult",
    "write_advanced_sales",
    "write_advanced_stock",
    "write_advanced_variants",
    "write_advanced_warehouses",
    "write_starter_products",
    "write_starter_purchase_orders",
    "write_starter_sales",
]

#: Suffix of the ``ORDER_ID`` of a line's return row in the Advanced sales file.
RETURN_SUFFIX = "-RETURN"

Fingerprints = dict[str, int]


@attrs.frozen
class WriteResult:
    """What a writer did: ``rows`` written (header excluded) and, for Advanced writers, the
    fingerprints of every row of the input (store them once the file is delivered and pass them
    as ``previous`` next time)."""

    rows: int
    fingerprints: Mapping[str, int] = attrs.field(factory=dict, repr=False)


# -- cell formatting ---------------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def fmt_timestamp(value: dt.datetime) -> str:
    """``2026-01-05T09:00:00Z`` (UTC, seconds)."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_date(value: dt.datetime | dt.date) -> str:
    """``2026-01-05`` (the UTC date of a timestamp)."""
    if isinstance(value, dt.datetime):
        value = _utc(value).date()
    return value.isoformat()


def fmt_decimal(value: Decimal | int) -> str:
    """Exact fixed-point digits, never an exponent or a binary float."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    return format(value, "f")


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def _fingerprint(cells: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(cells).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _writer(out: TextIO, spec: ColumnSpec) -> _csv.Writer:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.emitted)
    return writer


# -- Starter connector -------------------------------------------------------------------------


def write_starter_sales(lines: Iterable[SalesLine], out: TextIO) -> WriteResult:
    """The Starter sales-orders file: one row per order line, the whole history.

    Columns: ``order_number`` (Mirakl order id), ``product_id``, ``SKU``, ``date``
    (YYYY-MM-DD, UTC), ``price`` (unit price), ``quantity`` (net of returns), ``currency``,
    ``canceled``.
    """
    writer = _writer(out, STARTER["sales_orders"])
    rows = 0
    writerow = writer.writerow
    for line in lines:
        writerow(
            (
                line.order_id,
                line.product_id or line.sku,
                line.sku,
                fmt_date(line.created_at),
                fmt_decimal(line.unit_price),
                str(line.quantity - line.returned_quantity),
                line.currency,
                "true" if line.canceled else "false",
            )
        )
        rows += 1
    return WriteResult(rows)


def write_starter_products(
    products: Iterable[Product], stock: Mapping[str, Decimal | int], out: TextIO
) -> WriteResult:
    """The Starter products file: every product with its ``stock_quantity`` in this connection's
    warehouse (``stock`` maps SKU to quantity; a SKU without an entry is written with 0 stock)."""
    writer = _writer(out, STARTER["products"])
    rows = 0
    for product in products:
        if product.removed:
            continue  # the Starter connector deletes what is absent
        writer.writerow(
            (
                product.product_id or product.sku,
                product.sku,
                product.title,
                fmt_decimal(product.price),
                fmt_decimal(product.cost_price) if product.cost_price is not None else "",
                product.barcode,
                product.vendor or "",
                fmt_date(product.created_at),
                fmt_date(product.updated_at) if product.updated_at else "",
                fmt_decimal(stock.get(product.sku, 0)),
            )
        )
        rows += 1
    return WriteResult(rows)


def write_starter_purchase_orders(
    lines: Iterable[FeedPurchaseOrderLine], out: TextIO
) -> WriteResult:
    """The optional Starter purchase-orders file (``status``: ``open``, ``closed``,
    ``partially_received``)."""
    writer = _writer(out, STARTER["purchase_orders"])
    rows = 0
    for line in lines:
        writer.writerow(
            (
                line.po_id,
                line.po_name or line.po_id,
                line.vendor or "",
                fmt_date(line.date),
                fmt_date(line.expected_date) if line.expected_date else "",
                line.product_id or line.sku,
                line.sku,
                fmt_decimal(line.cost_price) if line.cost_price is not None else "",
                str(line.ordered),
                str(line.received),
                fmt_date(line.receive_date) if line.receive_date else "",
                line.status,
                line.currency or "",
            )
        )
        rows += 1
    return WriteResult(rows)


# -- Advanced connector ------------------------------------------------------------------------


class _Incremental:
    """Decides which rows to write: ``since`` and/or ``previous`` fingerprints."""

    def __init__(
        self,
        since: dt.datetime | None,
        previous: Mapping[str, int] | None,
        record: bool = True,
    ) -> None:
        if since is not None and (since.tzinfo is None or since.utcoffset() is None):
            raise ValueError("since must be timezone-aware")
        self.since = since
        self.previous = previous
        self.record = record
        self.seen: Fingerprints = {}

    def changed(self, key: str, cells: tuple[str, ...], last_change: dt.datetime | None) -> bool:
        """Record the row's fingerprint and tell whether to write it."""
        if self.previous is None and not self.record:
            return self.since is None or last_change is None or last_change >= self.since
        digest = _fingerprint(cells)
        if self.record:
            self.seen[key] = digest
        if self.since is not None and last_change is not None and last_change < self.since:
            return False
        return self.previous is None or self.previous.get(key) != digest

    def vanished(self) -> Iterator[str]:
        """Keys of the previous run missing from this input (rows to mark ``REMOVED``)."""
        if self.previous is None:
            return
        for key in self.previous:
            if key not in self.seen:
                yield key


def write_advanced_sales(
    lines: Iterable[SalesLine],
    out: TextIO,
    *,
    default_warehouse: str | None = None,
    since: dt.datetime | None = None,
    previous: Mapping[str, int] | None = None,
    fingerprints: bool = True,
) -> WriteResult:
    """The Advanced sales-order file (see the module docstring for rows and incrementality).

    ``default_warehouse``: the IP warehouse id for lines without their own ``warehouse``.
    ``fingerprints=False`` skips collecting the new fingerprints (about 100 bytes per row kept
    in memory) when the caller relies on ``since`` alone.
    """
    spec = ADVANCED["sales_order"]
    writer = _writer(out, spec)
    track = _Incremental(since, previous, fingerprints)
    rows = 0
    for line in lines:
        warehouse = line.warehouse or default_warehouse
        if not warehouse:
            raise ValueError(f"order line {line.order_line_id}: no warehouse and no default")
        variant = line.variant_id or line.sku
        created = fmt_timestamp(line.created_at)
        updated = fmt_timestamp(line.last_change)
        price = fmt_decimal(line.unit_price)
        main = (
            line.order_line_id,
            line.order_id,
            variant,
            warehouse,
            line.currency,
            str(line.quantity),
            price,
            created,
            fmt_bool(line.canceled),
            "false",
        )
        if track.changed(line.order_line_id, main, line.last_change):
            writer.writerow((*main, updated))
            rows += 1
        return_key = line.order_line_id + RETURN_SUFFIX
        if line.returned_quantity:
            ret = (
                return_key,
                line.order_id,
                variant,
                warehouse,
                line.currency,
                str(-line.returned_quantity),
                price,
                created,
                "false",
                "false",
            )
            if track.changed(return_key, ret, line.last_change):
                writer.writerow((*ret, updated))
                rows += 1
        elif previous is not None and return_key in previous:
            # The return was undone: remove the earlier return row.
            gone = (return_key, line.order_id, variant, warehouse, line.currency, "0", price)
            writer.writerow((*gone, created, "false", "true", updated))
            rows += 1
    return WriteResult(rows, track.seen)


def _split_key(key: str) -> tuple[str, str]:
    first, _, second = key.partition("\x1f")
    return first, second


def write_advanced_stock(
    levels: Iterable[StockLevel],
    out: TextIO,
    *,
    as_of: dt.datetime,
    since: dt.datetime | None = None,
    previous: Mapping[str, int] | None = None,
) -> WriteResult:
    """The Advanced variant-warehouse file: ``IN_STOCK`` per (variant, warehouse).

    ``as_of`` is the snapshot time, written as ``UPDATED_AT`` for levels without their own.
    With ``previous``, a (variant, warehouse) pair missing from ``levels`` is written once with
    ``REMOVED=true``.
    """
    writer = _writer(out, ADVANCED["variant_warehouse"])
    track = _Incremental(since, previous)
    stamp = fmt_timestamp(as_of)
    rows = 0
    for level in levels:
        variant = level.variant_id or level.sku
        key = f"{variant}\x1f{level.warehouse}"
        cells = (variant, level.warehouse, fmt_decimal(level.quantity), fmt_bool(level.removed))
        if track.changed(key, cells, level.updated_at):
            writer.writerow(
                (*cells, fmt_timestamp(level.updated_at) if level.updated_at else stamp)
            )
            rows += 1
    for key in list(track.vanished()):
        variant, warehouse = _split_key(key)
        writer.writerow((variant, warehouse, "0", "true", stamp))
        rows += 1
    return WriteResult(rows, track.seen)


def write_advanced_variants(
    products: Iterable[Product],
    out: TextIO,
    *,
    as_of: dt.datetime,
    since: dt.datetime | None = None,
    previous: Mapping[str, int] | None = None,
) -> WriteResult:
    """The Advanced variant file. A variant that vanished from ``products`` (with
    ``previous``) is not guessed: mark it ``removed`` in the input to soft-delete it."""
    writer = _writer(out, ADVANCED["variant"])
    track = _Incremental(since, previous)
    rows = 0
    for product in products:
        variant = product.variant_id or product.sku
        cells = (
            variant,
            product.sku,
            product.title,
            product.barcode,
            product.product_id or product.sku,
            fmt_decimal(product.price),
            fmt_timestamp(product.created_at),
        )
        if track.changed(variant, (*cells, fmt_bool(product.removed)), product.updated_at):
            updated = product.updated_at or as_of
            writer.writerow((*cells, fmt_timestamp(updated), fmt_bool(product.removed)))
            rows += 1
    return WriteResult(rows, track.seen)


def write_advanced_warehouses(
    warehouses: Iterable[FeedWarehouse],
    out: TextIO,
    *,
    as_of: dt.datetime,
    previous: Mapping[str, int] | None = None,
) -> WriteResult:
    """The Advanced warehouse file (must be part of the initial sync)."""
    writer = _writer(out, ADVANCED["warehouse"])
    track = _Incremental(None, previous)
    rows = 0
    for warehouse in warehouses:
        cells = (
            warehouse.warehouse_id,
            warehouse.display_name,
            warehouse.currency or "",
            fmt_bool(warehouse.removed),
        )
        if track.changed(warehouse.warehouse_id, cells, None):
            updated = fmt_timestamp(warehouse.updated_at or as_of)
            writer.writerow((*cells[:3], updated, cells[3]))
            rows += 1
    return WriteResult(rows, track.seen)
