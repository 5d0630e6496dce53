"""Job "sales_feed": marketplace sales (and stock) into Inventory Planner's CSV connectors.

Inventory Planner cannot receive sales through its API; its connectors read CSV files:

* **Starter** (default): full snapshots under stable names that IP pulls daily. Every accepted
  line the ledger holds is written each time (IP deletes what disappears from a snapshot), so
  a line reaches the forecast exactly once, as one row, however often the job runs.
* **Advanced**: incremental files (only rows changed since the last delivered state) with unique
  names; the state is saved only after the files are written, so a crash re-writes the same
  files instead of losing rows.

Offer SKUs are mapped to inventory SKUs first; a bundle line becomes one row per component
(``<line id>:<item>``). Lines of orders the engine has not accepted are not sales yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs

from mirakl_sync.core.mapping import Resolved, SkuMap
from mirakl_sync.core.models import Order, OrderState
from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.engine.jobs.dispatch import returns
from mirakl_sync.engine.jobs.stock import stock_pools
from mirakl_sync.engine.runtime import FeedStatus, LedgerState, ShopRuntime
from mirakl_sync.inventory_planner.feeds import (
    FeedState,
    Product,
    SalesLine,
    build_advanced_feed,
    build_starter_feed,
)
from mirakl_sync.inventory_planner.feeds.records import StockLevel

__all__ = ["FEED_FLOW", "sales_feed", "sales_lines"]

FEED_FLOW = "feed"

#: Ledger states whose orders count as sales (accepted at least partly).
_SOLD = frozenset(
    {
        LedgerState.ACCEPTED,
        LedgerState.SALES_ORDER_CREATED,
        LedgerState.CLOSED,
        LedgerState.ACCEPT_PLANNED,
    }
)
_CANCELLED = frozenset({OrderState.REFUSED, OrderState.CANCELED})


def returned_units(runtime: ShopRuntime) -> dict[str, int]:
    """Units returned per order line, from the host's return events (Advanced feeds write them
    as negative rows; Starter snapshots net them out)."""
    units: dict[str, int] = {}
    for ret in returns(runtime):
        units[ret.line_id] = units.get(ret.line_id, 0) + ret.quantity
    return units


def sales_lines(runtime: ShopRuntime, sku_map: SkuMap) -> Iterator[tuple[str, SalesLine]]:
    """(ledger line id, feed row) for every line of every order sold through the engine."""
    returned = returned_units(runtime)
    for record, order in runtime.orders():
        if record.ledger_state not in _SOLD:
            continue
        yield from _rows(runtime, sku_map, order, returned)


def _rows(
    runtime: ShopRuntime, sku_map: SkuMap, order: Order, returned: dict[str, int]
) -> Iterator[tuple[str, SalesLine]]:
    for line in order.lines:
        if line.quantity <= 0:
            continue
        resolved = sku_map.resolve(line.offer_sku, runtime.config.marketplace)
        if not isinstance(resolved, Resolved):
            continue  # reported as UNMAPPED_SKU by the reconciliation, never guessed
        unit_price = (line.price / line.quantity) if line.quantity else Decimal(0)
        for component in resolved.components:
            row_id = line.line_id if not resolved.is_bundle else f"{line.line_id}:{component.item}"
            yield (
                line.line_id,
                SalesLine(
                    order_id=order.order_id,
                    order_line_id=row_id,
                    sku=component.item,
                    created_at=order.created_at,
                    updated_at=order.last_updated_at or order.created_at,
                    unit_price=(unit_price / component.quantity).quantize(Decimal("0.0001")),
                    quantity=line.quantity * component.quantity,
                    currency=order.currency,
                    canceled=line.state in _CANCELLED,
                    returned_quantity=min(line.quantity, returned.get(line.line_id, 0))
                    * component.quantity,
                ),
            )


def sales_feed(runtime: ShopRuntime, directory: Path, kind: str = "starter") -> Counter[str]:
    """Write the feed files into ``directory`` and mark the lines published."""
    storage, shop, now = runtime.storage, runtime.shop, runtime.now()
    pools = stock_pools(runtime)
    items: dict[str, int] = {}
    for pool in pools.values():
        for sku, quantity in pool.items():
            items[sku] = items.get(sku, 0) + quantity
    sku_map = runtime.sku_map(items=items)
    rows = list(sales_lines(runtime, sku_map))
    published_ids = {line_id for line_id, _ in rows}
    directory.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    if kind == "advanced":
        checkpoint = storage.get_checkpoint(shop, FEED_FLOW)
        state = (
            FeedState.from_json(str(checkpoint.cursor["state"]))
            if checkpoint is not None and isinstance(checkpoint.cursor, dict)
            else None
        )
        batch = build_advanced_feed(
            directory,
            as_of=now,
            sales=[row for _, row in rows],
            stock=[
                StockLevel(sku=sku, warehouse=warehouse or "default", quantity=quantity)
                for warehouse, pool in pools.items()
                for sku, quantity in pool.items()
            ],
            state=state,
            default_warehouse="default",
        )
        crash_point("feed.after_write")
        new_state = {"state": batch.state.to_json()}
    else:
        batch = build_starter_feed(
            directory,
            products=[
                Product(sku=sku, title=sku, price=Decimal(0), created_at=now)
                for sku in sorted(items)
            ],
            stock=items,
            sales=[row for _, row in rows],
        )
        crash_point("feed.after_write")
        new_state = {"written_at": now.isoformat()}
    with storage.transaction():
        lines = [
            attrs.evolve(line, feed_status=FeedStatus.PUBLISHED, updated_at=now)
            for line in storage.list_lines(shop)
            if line.line_id in published_ids and line.feed_status != FeedStatus.PUBLISHED
        ]
        storage.put_lines(lines)
        storage.set_checkpoint(shop, FEED_FLOW, new_state, now=now)
    counts["rows"] = sum(f.rows for f in batch.files)
    counts["files"] = len(batch.files)
    counts["lines_newly_published"] = len(lines)
    return counts
