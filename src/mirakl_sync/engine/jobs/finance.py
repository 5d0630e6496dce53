"""Job "finance": TL02 transaction lines, read incrementally, reconciled to the cent.

TL02 is read with ``sort=lastUpdated`` ascending from the stored cursor (minus an overlap),
seek pagination at 2000 lines a page, inside its budget (20 calls a minute, 60 an hour). Each
line is kept once in the ledger (keyed by its id); the core's finance reconciliation compares
orders, commissions, refunds and transaction lines (``COMMISSION_MISMATCH`` for anything off by
a cent), and :func:`finance_statement` gives the per-order and per-period statement.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from mirakl_sync.core.finance import FinanceReport, Transaction, reconcile_finance
from mirakl_sync.core.models import OrderId, OrderLineId
from mirakl_sync.engine.runtime import ShopRuntime
from mirakl_sync.mirakl.models import Transaction as WireTransaction
from mirakl_sync.storage.records import LedgerEvent

__all__ = [
    "FINANCE_FLOW",
    "export_statement",
    "finance_statement",
    "pull_transactions",
    "transactions",
]

FINANCE_FLOW = "finance"
OVERLAP = timedelta(minutes=10)
INITIAL_LOOKBACK = timedelta(days=45)


def _payload(line: WireTransaction) -> dict[str, str | None]:
    entities = line.entities
    order_id = entities.order.id if entities and entities.order else None
    line_id = entities.order_line.id if entities and entities.order_line else None
    return {
        "type": str(line.type) if line.type is not None else "UNKNOWN",
        "amount": str(line.amount if line.amount is not None else Decimal(0)),
        "currency": line.currency_iso_code or "EUR",
        "order_line_id": line_id,
        "created_at": line.date_created.isoformat() if line.date_created else None,
        "billing_cycle_id": line.seller_billing_cycle_id,
        "payment_state": str(line.payment_state) if line.payment_state else None,
        "order_id": order_id,
    }


def pull_transactions(runtime: ShopRuntime) -> Counter[str]:
    """TL02 from the cursor; every new line stored once (in the same transaction as the
    cursor at the end)."""
    storage, shop = runtime.storage, runtime.shop
    started = runtime.now()
    checkpoint = storage.get_checkpoint(shop, FINANCE_FLOW)
    if checkpoint is not None and isinstance(checkpoint.cursor, dict):
        since = datetime.fromisoformat(str(checkpoint.cursor["since"])) - OVERLAP
    else:
        since = started - INITIAL_LOOKBACK
    counts: Counter[str] = Counter()
    lines = runtime.mirakl.finance.transactions(
        last_updated_from=since, sort="lastUpdated", sort_order="asc"
    )
    for page in lines.pages():
        with storage.transaction():
            for line in page.items:
                payload = _payload(line)
                fresh = storage.record_event(
                    LedgerEvent(
                        shop=shop,
                        event_id=f"tl02:{line.id}",
                        order_id=str(payload["order_id"] or ""),
                        kind="transaction",
                        payload=payload,
                        recorded_at=runtime.now(),
                    )
                )
                counts["new" if fresh else "known"] += 1
    storage.set_checkpoint(shop, FINANCE_FLOW, {"since": started.isoformat()}, now=started)
    return counts


def transactions(runtime: ShopRuntime) -> tuple[Transaction, ...]:
    """The TL02 lines in the ledger, as the core's transactions."""
    out = []
    for event in runtime.storage.list_events(runtime.shop):
        if event.kind != "transaction" or not isinstance(event.payload, dict):
            continue
        p = event.payload
        created = p.get("created_at")
        out.append(
            Transaction(
                transaction_id=event.event_id.removeprefix("tl02:"),
                type=str(p["type"]),
                amount=Decimal(str(p["amount"])),
                order_id=OrderId(event.order_id) if event.order_id else None,
                order_line_id=OrderLineId(str(p["order_line_id"]))
                if p.get("order_line_id")
                else None,
                currency=str(p.get("currency") or "EUR"),
                created_at=datetime.fromisoformat(str(created)) if created else None,
                billing_cycle_id=str(p["billing_cycle_id"]) if p.get("billing_cycle_id") else None,
            )
        )
    return tuple(out)


def finance_statement(runtime: ShopRuntime) -> FinanceReport:
    """Per order and per month: order value, shipping, commission (a non-inventory service
    line), refunds, payout and the TL02 view, with differences; exportable with
    ``to_records()``/``to_pandas()``."""
    orders = [order for _, order in runtime.orders()]
    return reconcile_finance(
        orders,
        transactions(runtime),
        shop=runtime.shop,
        now=runtime.now(),
        tolerance=runtime.thresholds.money_tolerance,
    )


def export_statement(report: FinanceReport, directory: Path | str) -> tuple[Path, Path]:
    """Write a statement for month-end: ``finance-orders.csv`` (one row per order: value,
    commission, refunds, payout, TL02 payout, difference) and ``finance-periods.csv`` (per month
    and currency). Money is written with its exact decimals. Returns both paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "finance-orders.csv", folder / "finance-periods.csv")
    tables = (
        [o.to_record() for o in report.orders],
        [p.to_record() for p in report.periods],
    )
    for path, rows in zip(paths, tables, strict=True):
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            if rows:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        tmp.replace(path)
    return paths
