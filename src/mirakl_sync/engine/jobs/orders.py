"""Job "pull_orders": OR11 incrementally into the order ledger.

* The window starts at the stored cursor minus an overlap (Mirakl subtracts its own delta too),
  so consecutive pulls overlap; an order is rewritten only when its ``last_updated_date``
  changed (dedupe by order id + ``last_updated_date``).
* The new cursor is the job's *start time*, never the newest record seen (a record updated while
  the pull runs is caught by the next one), and it is stored in the same transaction as the last
  page of ledger rows: a crash before that commit repeats the pull, never skips orders.
* No customer data reaches the ledger: only what the core needs (lines, states, amounts, dates).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from mirakl_sync._http import Page
from mirakl_sync.engine.adapters import order_from_mirakl, order_to_json
from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.engine.runtime import FeedStatus, LedgerState, ShopRuntime
from mirakl_sync.mirakl.models import Order as WireOrder
from mirakl_sync.storage.records import LedgerLine, LedgerOrder

__all__ = ["INITIAL_LOOKBACK", "ORDERS_FLOW", "OVERLAP", "pull_orders", "record_orders"]

ORDERS_FLOW = "orders"
#: Extra overlap on top of Mirakl's own delta, for clock skew between us and Mirakl.
OVERLAP = timedelta(minutes=5)
#: How far back the very first pull looks (longer than any acceptance window).
INITIAL_LOOKBACK = timedelta(days=14)


def _with_lookahead(pages: Iterable[Page[WireOrder]]) -> Iterator[tuple[Page[WireOrder], bool]]:
    """Yield (page, is_last) so the last page can share the checkpoint's transaction."""
    iterator = iter(pages)
    try:
        current = next(iterator)
    except StopIteration:
        return
    for following in iterator:
        yield current, False
        current = following
    yield current, True


def record_orders(runtime: ShopRuntime, orders: Iterable[WireOrder], now: datetime) -> Counter[str]:
    """Upsert OR11 orders into the ledger (call inside a transaction); counts new/updated/same."""
    counts: Counter[str] = Counter()
    storage, shop = runtime.storage, runtime.shop
    for wire in orders:
        existing = storage.get_order(shop, wire.order_id)
        if existing is not None and existing.mirakl_updated_at == wire.last_updated_date:
            counts["unchanged"] += 1
            continue
        core = order_from_mirakl(wire, shop=shop, marketplace=runtime.config.marketplace)
        storage.put_order(
            LedgerOrder(
                shop=shop,
                order_id=wire.order_id,
                mirakl_state=core.state,
                ledger_state=existing.ledger_state if existing else LedgerState.NEW,
                mirakl_updated_at=wire.last_updated_date,
                sales_order_ref=existing.sales_order_ref if existing else None,
                total_price=wire.total_price,
                commission=wire.total_commission,
                data=order_to_json(core),
                created_at=existing.created_at if existing else now,
                updated_at=now,
            )
        )
        previous = {line.line_id: line for line in storage.get_lines(shop, wire.order_id)}
        storage.put_lines(
            LedgerLine(
                shop=shop,
                order_id=wire.order_id,
                line_id=line.line_id,
                offer_sku=line.offer_sku,
                quantity=line.quantity,
                mirakl_state=line.state,
                ledger_state=previous[line.line_id].ledger_state
                if line.line_id in previous
                else LedgerState.NEW,
                price=line.price,
                reserved_quantity=previous[line.line_id].reserved_quantity
                if line.line_id in previous
                else 0,
                feed_status=previous[line.line_id].feed_status
                if line.line_id in previous
                else FeedStatus.PENDING,
                updated_at=now,
            )
            for line in core.lines
        )
        counts["updated" if existing else "new"] += 1
    return counts


def pull_orders(runtime: ShopRuntime) -> Counter[str]:
    """OR11 from the cursor (minus the overlap) to now; see the module doc."""
    storage, shop = runtime.storage, runtime.shop
    started = runtime.now()
    checkpoint = storage.get_checkpoint(shop, ORDERS_FLOW)
    if checkpoint is not None and isinstance(checkpoint.cursor, dict):
        since = datetime.fromisoformat(str(checkpoint.cursor["since"])) - OVERLAP
    else:
        since = started - INITIAL_LOOKBACK
    counts: Counter[str] = Counter()
    pager = runtime.mirakl.orders.list(updated_from=since, sort_order="asc")
    saw_last = False
    for page, is_last in _with_lookahead(pager.pages()):
        with storage.transaction():
            counts.update(record_orders(runtime, page.items, runtime.now()))
            if is_last:
                storage.set_checkpoint(
                    shop, ORDERS_FLOW, {"since": started.isoformat()}, now=started
                )
                saw_last = True
        crash_point("orders.after_page")
    if not saw_last:  # no page at all: still move the cursor
        storage.set_checkpoint(shop, ORDERS_FLOW, {"since": started.isoformat()}, now=started)
    return counts
