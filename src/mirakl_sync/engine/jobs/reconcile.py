"""Job "reconcile": run the core's detectors over the current snapshots, keep the discrepancies
(open, still open, resolved) in storage, and alert on new ones through every sink.

Snapshots come from the ledger and the storage only (no Mirakl call): the stock target and the
last confirmed push, the stock imports with their error lines, the orders and what the engine did
for them, the lines already in the forecast feed, and when each job last succeeded.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from mirakl_sync.alerts import Alert, AlertSink
from mirakl_sync.core.discrepancy import Discrepancy, DiscrepancyKind
from mirakl_sync.core.finance import Transaction
from mirakl_sync.core.models import OfferSku, Order, OrderId, OrderLineId, WarehouseCode
from mirakl_sync.core.reconcile import (
    Snapshots,
    StockImport,
    StockImportError,
    StockSnapshot,
    reconcile,
)
from mirakl_sync.core.report import ReconciliationReport
from mirakl_sync.engine.jobs.dispatch import fulfilments, returns
from mirakl_sync.engine.jobs.finance import transactions
from mirakl_sync.engine.jobs.stock import (
    EXPORT_CHUNK_MB,
    OFFERS_FLOW,
    compute_target,
    last_published,
    save_catalogue,
    stock_via,
    stored_catalogue,
)
from mirakl_sync.engine.runtime import FeedStatus, ShopRuntime
from mirakl_sync.mirakl.models import OfferExportRequest
from mirakl_sync.storage.records import AlertDelivery, DiscrepancyStatus, LedgerLine

logger = logging.getLogger("mirakl_sync.engine.reconcile")

__all__ = ["JOB_SYNC_NAMES", "build_snapshots", "full_stock_check", "reconcile_shop"]

#: The core's ``sync_status`` names for the engine's jobs (for ``SYNC_STALE``).
JOB_SYNC_NAMES = {
    "pull_orders": "orders",
    "acceptance": "acceptance",
    "push_stock": "stock",
    "sales_feed": "forecast",
    "finance": "finance",
    "stock_full": "stock_full",
}


def _stock_imports(runtime: ShopRuntime) -> tuple[StockImport, ...]:
    imports = []
    for pending in runtime.storage.list_pending_imports(runtime.shop):
        rows = json.loads(pending.error) if pending.error else []
        imports.append(
            StockImport(
                import_id=pending.import_id,
                status=pending.status,
                submitted_at=pending.submitted_at,
                errors=tuple(
                    StockImportError(
                        line=int(row["line"]),
                        message=str(row["message"]),
                        offer_sku=row.get("offer_sku"),
                        warehouse=WarehouseCode(row.get("warehouse") or ""),
                    )
                    for row in rows
                ),
            )
        )
    return tuple(imports)


def _sync_status(runtime: ShopRuntime) -> dict[str, datetime | None]:
    status: dict[str, datetime | None] = {}
    for job, name in JOB_SYNC_NAMES.items():
        runs = runtime.storage.list_runs(runtime.shop, job=job, limit=20)
        finished = [r for r in runs if r.outcome is not None]
        if not finished:
            continue  # never attempted yet (first round): not stale, just not started
        ok = [r.finished_at for r in finished if r.outcome == "success" and r.finished_at]
        status[name] = max(ok) if ok else None
    return status


def _settled_transactions(runtime: ShopRuntime, orders: list[Order]) -> tuple[Transaction, ...]:
    """TL02 lines of the orders whose money has settled. Mirakl books refund lines when the
    refund is paid, so an order with a refund in flight, or changed within ``refund_grace``,
    would look mismatched for a while: its commission check waits until it settles."""
    now = runtime.now()
    grace = runtime.thresholds.refund_grace
    unsettled = {
        o.order_id
        for o in orders
        if (o.last_updated_at is not None and now - o.last_updated_at < grace)
        or any(r.state != "REFUNDED" for line in o.lines for r in line.refunds)
    }
    return tuple(t for t in transactions(runtime) if t.order_id not in unsettled)


def build_snapshots(
    runtime: ShopRuntime, remote: dict[WarehouseCode, dict[OfferSku, int]] | None = None
) -> Snapshots:
    """Everything the detectors look at, read from storage (``remote``: what Mirakl shows now,
    from a fresh full offer export, when the caller has one)."""
    storage, shop = runtime.storage, runtime.shop
    offers = stored_catalogue(runtime)
    stock = None
    mapping = None
    if offers:
        mapping, target = compute_target(runtime, offers)
        stock = StockSnapshot(target=target, last_published=last_published(runtime), remote=remote)
    orders = []
    ledger = {}
    exported: set[OrderLineId] = set()
    outbox = runtime.outbox_index()
    # Every line of the shop in one query (ordered by order id), instead of one per order.
    lines_of: dict[str, list[LedgerLine]] = {}
    for line in storage.list_lines(shop):
        lines_of.setdefault(line.order_id, []).append(line)
    for record, order in runtime.orders():
        lines = lines_of.get(record.order_id, [])
        orders.append(order)
        ledger[OrderId(record.order_id)] = runtime.ledger_view(
            record, lines, outbox.get(record.order_id, ())
        )
        exported.update(
            OrderLineId(line.line_id) for line in lines if line.feed_status == FeedStatus.PUBLISHED
        )
    return Snapshots(
        shop=shop,
        transactions=_settled_transactions(runtime, orders),
        stock=stock,
        mapping=mapping,
        stock_imports=_stock_imports(runtime),
        orders=tuple(orders),
        ledger=ledger,
        forecast_line_ids=frozenset(exported),
        fulfilments=fulfilments(runtime),
        returns=returns(runtime),
        sync_status=_sync_status(runtime),
        acceptance=runtime.acceptance_policy,
    )


_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


def _forget_deliveries(runtime: ShopRuntime, key: str) -> None:
    """A new or escalated discrepancy is told again, even if an older episode was delivered."""
    for delivery in runtime.storage.list_alert_deliveries(runtime.shop, discrepancy_key=key):
        if delivery.status == "delivered":
            runtime.storage.put_alert_delivery(
                AlertDelivery(
                    shop=delivery.shop,
                    discrepancy_key=key,
                    sink=delivery.sink,
                    status="pending",
                    attempts=0,
                )
            )


def _alert(discrepancy: Discrepancy, first_seen: datetime) -> Alert:
    return Alert(
        kind=discrepancy.kind.value,
        severity=discrepancy.severity.value,
        owner=discrepancy.owner.value,
        key=discrepancy.key,
        shop=discrepancy.shop,
        message=discrepancy.message,
        entities=dict(discrepancy.entities),
        first_seen=first_seen,
    )


def _deliver(
    runtime: ShopRuntime, sinks: Sequence[AlertSink], alert: Alert, counts: Counter[str]
) -> None:
    """Send to every sink that has not delivered it yet; one failing sink never stops another."""
    storage, shop, now = runtime.storage, runtime.shop, runtime.now()
    for sink in sinks:
        previous = storage.get_alert_delivery(shop, alert.key, sink.name)
        if previous is not None and previous.status == "delivered":
            continue
        attempts = (previous.attempts if previous else 0) + 1
        try:
            sink.send(alert)
        except Exception as exc:  # a sink is foreign code: isolate every failure
            logger.warning(
                "alert sink %s failed for %s: %s",
                sink.name,
                alert.key,
                exc,
                extra={"shop": shop, "sink": sink.name, "alert_key": alert.key},
            )
            storage.put_alert_delivery(
                AlertDelivery(
                    shop=shop,
                    discrepancy_key=alert.key,
                    sink=sink.name,
                    status="failed",
                    attempts=attempts,
                    last_attempt_at=now,
                    last_error=f"{type(exc).__name__}: {exc}"[:500],
                )
            )
            counts["alerts_failed"] += 1
            continue
        storage.put_alert_delivery(
            AlertDelivery(
                shop=shop,
                discrepancy_key=alert.key,
                sink=sink.name,
                status="delivered",
                attempts=attempts,
                last_attempt_at=now,
                delivered_at=now,
            )
        )
        counts["alerts_sent"] += 1


#: Stock findings made with Mirakl's quantities (a full export): a run without them cannot
#: tell whether they are fixed, so it leaves them open.
_STOCK_KINDS = frozenset({"STOCK_DRIFT", "MISSING_OFFER", "OVERSELL_RISK"})


def reconcile_shop(
    runtime: ShopRuntime,
    sinks: Sequence[AlertSink] = (),
    *,
    remote: dict[WarehouseCode, dict[OfferSku, int]] | None = None,
) -> tuple[ReconciliationReport, Counter[str]]:
    """Detect, store (open/still open/resolved) and alert; returns the report and counts."""
    storage, shop, now = runtime.storage, runtime.shop, runtime.now()
    report = reconcile(build_snapshots(runtime, remote), now, runtime.thresholds)
    counts: Counter[str] = Counter()
    seen = {d.key for d in report.discrepancies}
    to_alert: list[Alert] = []
    with storage.transaction():
        for discrepancy in report.discrepancies:
            previous = storage.get_discrepancy(shop, discrepancy.key)
            details = dict(discrepancy.to_record())
            if remote is not None and discrepancy.kind.value in _STOCK_KINDS:
                details["seen_with_mirakl_quantities"] = True
            record = storage.observe_discrepancy(
                shop,
                discrepancy.key,
                kind=discrepancy.kind.value,
                severity=discrepancy.severity.value,
                now=now,
                details=details,
            )
            is_new = previous is None or previous.status == DiscrepancyStatus.RESOLVED
            escalated = (
                previous is not None
                and not is_new
                and _RANK.get(discrepancy.severity.value, 0) > _RANK.get(previous.severity, 0)
            )
            counts["opened" if is_new else "escalated" if escalated else "still_open"] += 1
            if is_new or escalated:
                _forget_deliveries(runtime, discrepancy.key)
            to_alert.append(_alert(discrepancy, record.first_seen))
        for open_record in storage.list_discrepancies(shop=shop, status=DiscrepancyStatus.OPEN):
            needs_remote = isinstance(open_record.details, dict) and open_record.details.get(
                "seen_with_mirakl_quantities"
            )
            if remote is None and needs_remote:
                continue
            if open_record.key not in seen:
                storage.resolve_discrepancy(shop, open_record.key, now=now)
                counts["resolved"] += 1
    for alert in to_alert:
        _deliver(runtime, sinks, alert, counts)
    return report, counts


def full_stock_check(runtime: ShopRuntime, sinks: Sequence[AlertSink] = ()) -> Counter[str]:
    """Job "stock_full" (nightly): a full OF52 export gives Mirakl's quantities; compared with
    what should be published it finds drift (``STOCK_DRIFT``), oversell risk and offers missing
    on Mirakl, and refreshes the cached offer catalogue."""
    now = runtime.now()
    remote: dict[WarehouseCode, dict[OfferSku, int]] = {}
    skus: list[str] = []
    per_warehouse = bool(runtime.config.warehouse_codes) and stock_via(runtime) == "STO01"
    request = OfferExportRequest(megabytes_per_chunk=EXPORT_CHUNK_MB)
    for offer in runtime.mirakl.offers.export(request):
        if offer.deleted:
            continue
        skus.append(offer.shop_sku)
        if per_warehouse:
            for wh in offer.warehouses:
                remote.setdefault(WarehouseCode(wh.code or ""), {})[OfferSku(offer.shop_sku)] = (
                    wh.quantity or 0
                )
        else:
            remote.setdefault(WarehouseCode(""), {})[OfferSku(offer.shop_sku)] = offer.quantity or 0
    checkpoint = runtime.storage.get_checkpoint(runtime.shop, OFFERS_FLOW)
    cursor = dict(checkpoint.cursor) if checkpoint and isinstance(checkpoint.cursor, dict) else {}
    cursor.update({"full_at": now.isoformat(), "exported_at": now.isoformat()})
    save_catalogue(runtime, cursor, sorted(set(skus)))
    report, counts = reconcile_shop(runtime, sinks, remote=remote)
    counts["offers_checked"] = len(skus)
    counts["drift"] = len(report.of_kind(DiscrepancyKind.STOCK_DRIFT))
    return counts
