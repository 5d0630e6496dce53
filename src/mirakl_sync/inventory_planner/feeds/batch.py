"""Building a feed: the connector files for one run, written to a local staging directory,
plus the state to store once they are delivered.

* :func:`build_starter_feed`: the Starter connector's full snapshots under stable names
  (``products.csv``, ``sales_orders.csv``, optional ``purchase_orders.csv``).
* :func:`build_advanced_feed`: the Advanced connector's incremental files, in dependency order
  (warehouse, variant, variant_warehouse, sales_order), only for entities with changes, under
  unique content-addressed names ``<prefix>-<entity>-<as_of>-<sha256[:12]>.csv``.

Idempotent: the same inputs (and ``as_of``) give byte-identical files with identical names.
Nothing is committed here: :attr:`FeedBatch.state` is the :class:`FeedState` to persist **after**
a publisher delivered every file; if publishing fails halfway, keep the old state and the next
run resends the same changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import attrs

from mirakl_sync.inventory_planner.feeds.records import (
    FeedPurchaseOrderLine,
    FeedWarehouse,
    Product,
    SalesLine,
    StockLevel,
)
from mirakl_sync.inventory_planner.feeds.writers import (
    WriteResult,
    write_advanced_sales,
    write_advanced_stock,
    write_advanced_variants,
    write_advanced_warehouses,
    write_starter_products,
    write_starter_purchase_orders,
    write_starter_sales,
)

__all__ = [
    "ADVANCED_ORDER",
    "FeedBatch",
    "FeedFile",
    "FeedState",
    "build_advanced_feed",
    "build_starter_feed",
]

#: Advanced entities in the order IP needs them (dependencies first).
ADVANCED_ORDER = ("warehouse", "variant", "variant_warehouse", "sales_order")
STARTER_NAMES = {
    "products": "products.csv",
    "sales_orders": "sales_orders.csv",
    "purchase_orders": "purchase_orders.csv",
}


@attrs.frozen
class FeedFile:
    """A produced connector file.

    Attributes:
        connector: ``"starter"`` or ``"advanced"``.
        entity: ``products``/``sales_orders``/``purchase_orders`` (Starter) or
            ``warehouse``/``variant``/``variant_warehouse``/``sales_order`` (Advanced).
        path: the local file.
        name: the file name to publish under.
        rows: data rows (header excluded).
        sha256: hex digest of the content.
    """

    connector: str
    entity: str
    path: Path
    name: str
    rows: int
    sha256: str


@attrs.frozen
class FeedState:
    """Row fingerprints per Advanced entity, as delivered by the last successful publish."""

    fingerprints: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)

    def for_entity(self, entity: str) -> Mapping[str, int] | None:
        return self.fingerprints.get(entity)

    def to_json(self) -> str:
        """Compact, deterministic JSON (store it in the ledger or next to the feed)."""
        data = {k: dict(sorted(v.items())) for k, v in sorted(self.fingerprints.items())}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FeedState:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("feed state must be a JSON object")
        return cls({str(k): {str(a): int(b) for a, b in v.items()} for k, v in data.items()})


@attrs.frozen
class FeedBatch:
    """The files of one run (in publishing order) and the state to persist after delivery."""

    files: tuple[FeedFile, ...]
    state: FeedState = attrs.field(factory=FeedState)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write(directory: Path, write: Callable[[TextIO], WriteResult]) -> tuple[Path, WriteResult]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".writing-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            result = write(handle)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), result


def build_starter_feed(
    directory: Path | str,
    *,
    products: Iterable[Product],
    stock: Mapping[str, Decimal | int],
    sales: Iterable[SalesLine],
    purchase_orders: Iterable[FeedPurchaseOrderLine] | None = None,
) -> FeedBatch:
    """Write the Starter connector's full snapshots into ``directory`` (one connector = one IP
    warehouse: ``stock`` maps SKU to that warehouse's quantity)."""
    root = Path(directory)
    jobs: list[tuple[str, Callable[[TextIO], WriteResult]]] = [
        ("products", lambda out: write_starter_products(products, stock, out)),
        ("sales_orders", lambda out: write_starter_sales(sales, out)),
    ]
    if purchase_orders is not None:
        pos = purchase_orders
        jobs.append(("purchase_orders", lambda out: write_starter_purchase_orders(pos, out)))
    files = []
    for entity, job in jobs:
        tmp, result = _write(root, job)
        final = root / STARTER_NAMES[entity]
        os.replace(tmp, final)
        files.append(
            FeedFile("starter", entity, final, STARTER_NAMES[entity], result.rows, _sha256(final))
        )
    return FeedBatch(tuple(files))


def build_advanced_feed(
    directory: Path | str,
    *,
    as_of: dt.datetime,
    warehouses: Iterable[FeedWarehouse] | None = None,
    products: Iterable[Product] | None = None,
    stock: Iterable[StockLevel] | None = None,
    sales: Iterable[SalesLine] | None = None,
    state: FeedState | None = None,
    since: dt.datetime | None = None,
    default_warehouse: str | None = None,
    prefix: str = "mirakl",
) -> FeedBatch:
    """Write the Advanced connector's incremental files into ``directory/<entity>/``.

    Only rows changed since ``state`` (and/or ``since``) are written; an entity without changes
    produces no file (IP wants none). An entity whose input is ``None`` is skipped and keeps its
    previous fingerprints (pass ``[]`` to say "there are none any more": with a ``state``,
    stock pairs and warehouses then vanish as ``REMOVED`` rows). ``as_of`` (aware) stamps
    ``UPDATED_AT`` defaults and the file names. Returns the files and the new state (persist
    it after publishing).
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    root = Path(directory)
    previous = state or FeedState()
    stamp = as_of.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    jobs: dict[str, Callable[[TextIO], WriteResult]] = {}
    if warehouses is not None:
        w_in = warehouses
        jobs["warehouse"] = lambda out: write_advanced_warehouses(
            w_in, out, as_of=as_of, previous=previous.for_entity("warehouse")
        )
    if products is not None:
        p_in = products
        jobs["variant"] = lambda out: write_advanced_variants(
            p_in, out, as_of=as_of, since=since, previous=previous.for_entity("variant")
        )
    if stock is not None:
        s_in = stock
        jobs["variant_warehouse"] = lambda out: write_advanced_stock(
            s_in, out, as_of=as_of, since=since, previous=previous.for_entity("variant_warehouse")
        )
    if sales is not None:
        l_in = sales
        jobs["sales_order"] = lambda out: write_advanced_sales(
            l_in,
            out,
            default_warehouse=default_warehouse,
            since=since,
            previous=previous.for_entity("sales_order"),
        )
    files: list[FeedFile] = []
    fingerprints: dict[str, Mapping[str, int]] = dict(previous.fingerprints)
    for entity in ADVANCED_ORDER:
        if entity not in jobs:
            continue
        tmp, result = _write(root / entity, jobs[entity])
        fingerprints[entity] = result.fingerprints
        if result.rows == 0:
            tmp.unlink()
            continue
        digest = _sha256(tmp)
        name = f"{prefix}-{entity}-{stamp}-{digest[:12]}.csv"
        final = root / entity / name
        os.replace(tmp, final)
        files.append(FeedFile("advanced", entity, final, name, result.rows, digest))
    return FeedBatch(tuple(files), FeedState(fingerprints))
