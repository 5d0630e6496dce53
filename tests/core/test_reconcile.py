from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from mirakl_sync.core.discrepancy import (
    KIND_DEFAULTS,
    DiscrepancyKind,
    Severity,
    Thresholds,
)
from mirakl_sync.core.finance import Transaction, transactions_for
from mirakl_sync.core.mapping import SkuMap
from mirakl_sync.core.models import (
    FulfilmentEvent,
    OrderId,
    OrderLedger,
    OrderLineId,
    OrderState,
    Refund,
    ReturnEvent,
)
from mirakl_sync.core.reconcile import (
    DETECTORS,
    Snapshots,
    StockImport,
    StockImportError,
    StockSnapshot,
    compare_stock,
    reconcile,
)

from .factories import NOW, line, order

K = DiscrepancyKind
S = OrderState
H = timedelta(hours=1)


def stock(target: dict[str, int], last: dict[str, int], remote: dict[str, int] | None) -> Snapshots:
    return Snapshots(
        shop="s1",
        stock=StockSnapshot(
            target={"": target},  # type: ignore[dict-item]
            last_published={"": last},  # type: ignore[dict-item]
            remote=None if remote is None else {"": remote},  # type: ignore[dict-item]
        ),
    )


def orders(*os: object, **kw: object) -> Snapshots:
    return Snapshots(shop="s1", orders=tuple(os), **kw)  # type: ignore[arg-type]


def ledger(oid: str, **kw: object) -> dict[OrderId, OrderLedger]:
    return {OrderId(oid): OrderLedger(order_id=OrderId(oid), **kw)}  # type: ignore[arg-type]


def fulfil(oid: str, age: timedelta, tracking: str | None = None) -> FulfilmentEvent:
    return FulfilmentEvent(
        event_id=f"F-{oid}", order_id=OrderId(oid), at=NOW - age, tracking_number=tracking
    )


def ret(oid: str, age: timedelta, amount: str = "10.00") -> ReturnEvent:
    return ReturnEvent(
        return_id=f"R-{oid}",
        order_id=OrderId(oid),
        line_id=OrderLineId(f"{oid}-1"),
        at=NOW - age,
        amount=Decimal(amount),
    )


shipped_line = line(1, "A", state=S.SHIPPED)
refunded_line = line(
    1, "A", state=S.SHIPPED, refunds=(Refund(refund_id="x", amount=Decimal("10.00")),)
)
mismatch_order = order("O", line(1, "A", state=S.SHIPPED, commission="2.00"), state=S.SHIPPED)
bad_tx = tuple(
    Transaction(
        transaction_id=t.transaction_id,
        type=t.type,
        amount=t.amount - Decimal("0.01") if t.type == "COMMISSION_FEE" else t.amount,
        order_id=t.order_id,
    )
    for t in transactions_for(mismatch_order)
)
table = SkuMap(items=["A", "a ", "B"]).resolve_many(["A", "B", "nope"])

# (kind, snapshots, expected number of findings, expected severity of the first)
CASES: list[tuple[str, K, Snapshots, int, Severity | None]] = [
    (
        "oversell-nothing-left",
        K.OVERSELL_RISK,
        stock({"A": 0}, {"A": 5}, {"A": 5}),
        1,
        Severity.CRITICAL,
    ),
    (
        "oversell-above-push",
        K.OVERSELL_RISK,
        stock({"A": 3}, {"A": 3}, {"A": 6}),
        1,
        Severity.ERROR,
    ),
    ("oversell-pending-push", K.OVERSELL_RISK, stock({"A": 3}, {"A": 5}, {"A": 5}), 0, None),
    ("oversell-in-sync", K.OVERSELL_RISK, stock({"A": 3}, {"A": 3}, {"A": 3}), 0, None),
    ("oversell-no-export", K.OVERSELL_RISK, stock({"A": 0}, {"A": 5}, None), 0, None),
    ("unmapped", K.UNMAPPED_SKU, Snapshots(shop="s1", mapping=table), 1, Severity.WARNING),
    (
        "unmapped-none",
        K.UNMAPPED_SKU,
        Snapshots(shop="s1", mapping=SkuMap(items=["A"]).resolve_many(["A"])),
        0,
        None,
    ),
    ("missing", K.MISSING_OFFER, stock({"A": 2}, {}, {"B": 1}), 1, Severity.WARNING),
    ("missing-none", K.MISSING_OFFER, stock({"A": 2}, {}, {"A": 2}), 0, None),
    ("drift", K.STOCK_DRIFT, stock({"A": 10}, {"A": 10}, {"A": 4}), 1, Severity.WARNING),
    ("drift-within-tolerance", K.STOCK_DRIFT, stock({"A": 10}, {"A": 10}, {"A": 9}), 0, None),
    (
        "import-failed",
        K.STOCK_IMPORT_ERROR,
        Snapshots(
            shop="s1",
            stock_imports=(StockImport(import_id="1", status="FAILED", submitted_at=NOW),),
        ),
        1,
        Severity.ERROR,
    ),
    (
        "import-error-lines",
        K.STOCK_IMPORT_ERROR,
        Snapshots(
            shop="s1",
            stock_imports=(
                StockImport(
                    import_id="2",
                    status="COMPLETE",
                    submitted_at=NOW,
                    errors=(
                        StockImportError(line=2, message="unknown offer", offer_sku="A"),
                        StockImportError(line=3, message="bad quantity", warehouse="WH"),  # type: ignore[arg-type]
                    ),
                ),
            ),
        ),
        2,
        Severity.ERROR,
    ),
    (
        "import-stuck",
        K.STOCK_IMPORT_ERROR,
        Snapshots(
            shop="s1",
            stock_imports=(StockImport(import_id="3", status="RUNNING", submitted_at=NOW - 2 * H),),
        ),
        1,
        Severity.WARNING,
    ),
    (
        "import-ok",
        K.STOCK_IMPORT_ERROR,
        Snapshots(
            shop="s1",
            stock_imports=(
                StockImport(import_id="4", status="COMPLETE", submitted_at=NOW - 9 * H),
                StockImport(import_id="5", status="WAITING", submitted_at=NOW - 0.5 * H),
            ),
        ),
        0,
        None,
    ),
    (
        "at-risk",
        K.ACCEPTANCE_AT_RISK,
        orders(order("O", age=timedelta(days=3) - 5 * H)),
        1,
        Severity.ERROR,
    ),
    (
        "at-risk-critical",
        K.ACCEPTANCE_AT_RISK,
        orders(order("O", age=timedelta(days=3) - 1 * H)),
        1,
        Severity.CRITICAL,
    ),
    ("at-risk-early", K.ACCEPTANCE_AT_RISK, orders(order("O", age=H)), 0, None),
    (
        "at-risk-sent",
        K.ACCEPTANCE_AT_RISK,
        orders(order("O", age=timedelta(days=3) - H), ledger=ledger("O", acceptance_sent=True)),
        0,
        None,
    ),
    (
        "failed-auto-refused",
        K.ACCEPTANCE_FAILED,
        orders(order("O", state=S.REFUSED)),
        1,
        Severity.CRITICAL,
    ),
    (
        "failed-past-deadline",
        K.ACCEPTANCE_FAILED,
        orders(order("O", age=timedelta(days=4))),
        1,
        Severity.CRITICAL,
    ),
    (
        "failed-call",
        K.ACCEPTANCE_FAILED,
        orders(order("O"), ledger=ledger("O", acceptance_failed=True)),
        1,
        Severity.CRITICAL,
    ),
    (
        "failed-none",
        K.ACCEPTANCE_FAILED,
        orders(order("O", state=S.REFUSED, acceptance_decision_at=NOW)),
        0,
        None,
    ),
    (
        "orphan-not-in-ledger",
        K.ORPHANED_ORDER,
        orders(order("O", state=S.SHIPPING, age=2 * H), ledger=ledger("other")),
        1,
        Severity.ERROR,
    ),
    (
        "orphan-ledger-unknown",
        K.ORPHANED_ORDER,
        orders(order("O", state=S.SHIPPING, age=2 * H)),
        0,
        None,
    ),
    (
        "orphan-no-sales-order",
        K.ORPHANED_ORDER,
        orders(order("O", state=S.SHIPPED, age=2 * H), ledger=ledger("O")),
        1,
        Severity.ERROR,
    ),
    (
        "orphan-none",
        K.ORPHANED_ORDER,
        orders(
            order("O", state=S.SHIPPING, age=2 * H), ledger=ledger("O", sales_order_created=True)
        ),
        0,
        None,
    ),
    (
        "orphan-unknown-state",
        K.ORPHANED_ORDER,
        orders(order("O", state="NEW_STATE", age=0.1 * H)),
        1,
        Severity.ERROR,
    ),
    ("orphan-recent", K.ORPHANED_ORDER, orders(order("O", state=S.SHIPPING, age=0.1 * H)), 0, None),
    (
        "forecast",
        K.SALES_NOT_IN_FORECAST,
        orders(order("O", shipped_line, state=S.SHIPPED, age=48 * H)),
        1,
        Severity.WARNING,
    ),
    (
        "forecast-exported",
        K.SALES_NOT_IN_FORECAST,
        orders(
            order("O", shipped_line, state=S.SHIPPED, age=48 * H),
            forecast_line_ids=frozenset({"O-1"}),
        ),
        0,
        None,
    ),
    (
        "forecast-exported-ledger",
        K.SALES_NOT_IN_FORECAST,
        orders(
            order("O", shipped_line, state=S.SHIPPED, age=48 * H),
            ledger=ledger("O", forecast_exported_line_ids=frozenset({"O-1"})),
        ),
        0,
        None,
    ),
    (
        "forecast-recent",
        K.SALES_NOT_IN_FORECAST,
        orders(order("O", shipped_line, state=S.SHIPPED, age=H)),
        0,
        None,
    ),
    (
        "not-shipped",
        K.SHIPMENT_NOT_CONFIRMED,
        orders(order("O", state=S.SHIPPING), fulfilments=(fulfil("O", 3 * H),)),
        1,
        Severity.ERROR,
    ),
    (
        "shipped-ok",
        K.SHIPMENT_NOT_CONFIRMED,
        orders(order("O", state=S.SHIPPED), fulfilments=(fulfil("O", 3 * H),)),
        0,
        None,
    ),
    (
        "not-shipped-recent",
        K.SHIPMENT_NOT_CONFIRMED,
        orders(order("O", state=S.SHIPPING), fulfilments=(fulfil("O", 0.5 * H),)),
        0,
        None,
    ),
    (
        "tracking-missing",
        K.TRACKING_MISSING,
        orders(order("O", state=S.SHIPPED, shipped_at=NOW - 2 * H)),
        1,
        Severity.WARNING,
    ),
    (
        "tracking-missing-fulfilment",
        K.TRACKING_MISSING,
        orders(order("O", state=S.SHIPPING), fulfilments=(fulfil("O", 2 * H),)),
        1,
        Severity.WARNING,
    ),
    (
        "tracking-ok",
        K.TRACKING_MISSING,
        orders(
            order("O", state=S.SHIPPED, shipping_tracking="T1", shipped_at=NOW - 2 * H),
            fulfilments=(fulfil("O", 2 * H, "T1"),),
        ),
        0,
        None,
    ),
    (
        "refund-missing",
        K.REFUND_NOT_PROPAGATED,
        orders(order("O", shipped_line, state=S.SHIPPED), returns=(ret("O", 30 * H),)),
        1,
        Severity.ERROR,
    ),
    (
        "refund-missing-order",
        K.REFUND_NOT_PROPAGATED,
        orders(returns=(ret("O", 30 * H),)),
        1,
        Severity.ERROR,
    ),
    (
        "refund-done",
        K.REFUND_NOT_PROPAGATED,
        orders(order("O", refunded_line, state=S.SHIPPED), returns=(ret("O", 30 * H),)),
        0,
        None,
    ),
    (
        "refund-recent",
        K.REFUND_NOT_PROPAGATED,
        orders(order("O", shipped_line, state=S.SHIPPED), returns=(ret("O", H),)),
        0,
        None,
    ),
    (
        "commission",
        K.COMMISSION_MISMATCH,
        orders(mismatch_order, transactions=bad_tx),
        1,
        Severity.WARNING,
    ),
    (
        "commission-ok",
        K.COMMISSION_MISMATCH,
        orders(mismatch_order, transactions=tuple(transactions_for(mismatch_order))),
        0,
        None,
    ),
    (
        "stale",
        K.SYNC_STALE,
        Snapshots(shop="s1", sync_status={"stock": NOW - 2 * H}),
        1,
        Severity.ERROR,
    ),
    (
        "stale-never",
        K.SYNC_STALE,
        Snapshots(shop="s1", sync_status={"custom": None}),
        1,
        Severity.ERROR,
    ),
    (
        "stale-fresh",
        K.SYNC_STALE,
        Snapshots(shop="s1", sync_status={"stock": NOW - 0.2 * H, "custom": NOW}),
        0,
        None,
    ),
]


@pytest.mark.parametrize(
    ("kind", "snapshots", "count", "severity"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_detector_table(
    kind: K, snapshots: Snapshots, count: int, severity: Severity | None
) -> None:
    found = DETECTORS[kind](snapshots, NOW, Thresholds())
    assert len(found) == count
    for d in found:
        assert d.kind is kind
        assert d.key.startswith(f"{kind.value}:s1:")
        assert d.message
        assert d.message.endswith(".")
        assert d.entities
        default = KIND_DEFAULTS[kind]
        assert (d.impact, d.owner) == default[1:]
        assert d.detected_at == NOW
    if severity is not None:
        assert found[0].severity is severity
    # deterministic: same input, same output (keys included)
    assert DETECTORS[kind](snapshots, NOW, Thresholds()) == found


def test_every_kind_has_a_detector_and_both_cases() -> None:
    assert set(DETECTORS) == set(DiscrepancyKind) == set(KIND_DEFAULTS)
    positive = {c[1] for c in CASES if c[3] > 0}
    negative = {c[1] for c in CASES if c[3] == 0}
    assert positive == negative == set(DiscrepancyKind)


def test_compare_stock_delta_and_warehouses() -> None:
    cmp = compare_stock(
        {"": {"A": 3, "B": 2, "C": 1, "D": 7}, "WH": {"A": 1}},  # type: ignore[dict-item]
        {"": {"A": 3, "B": 5, "C": 1}},  # type: ignore[dict-item]
        {"": {"A": 3, "B": 5, "C": 9}, "WH": {"A": 1}},  # type: ignore[dict-item]
    )
    # B: pending fall (pushed), C: oversell above the push, D: missing (not pushed),
    # WH/A: Mirakl already right but never confirmed -> recorded
    assert cmp.delta.lines == (("", "B", 2), ("", "C", 1), ("WH", "A", 1))
    assert cmp.oversell == [("", "C", 9, 1)]
    assert cmp.missing == [("", "D", 7)]
    assert cmp.drift == []
    no_remote = compare_stock({"": {"A": 1}}, {}, None)  # type: ignore[dict-item]
    assert no_remote.delta.lines == (("", "A", 1),)


def test_reconcile_report() -> None:
    snaps = Snapshots(
        shop="s1",
        stock=StockSnapshot(
            target={"": {"A": 0, "B": 3}},  # type: ignore[dict-item]
            last_published={"": {"A": 4, "B": 3}},  # type: ignore[dict-item]
            remote={"": {"A": 4, "B": 3}, "WH": {}},  # type: ignore[dict-item]
        ),
        mapping=table,
        orders=(order("O", state="BRAND_NEW"), order("P", state=S.REFUSED)),
        sync_status={"orders": None},
    )
    report = reconcile(snaps, NOW)
    kinds = {d.kind for d in report.discrepancies}
    assert kinds == {
        K.OVERSELL_RISK,
        K.UNMAPPED_SKU,
        K.ACCEPTANCE_FAILED,
        K.SYNC_STALE,
        K.ORPHANED_ORDER,
    }
    severities = [d.severity.rank for d in report.discrepancies]
    assert severities == sorted(severities, reverse=True)
    assert report.stock_delta is not None
    assert report.stock_delta.lines == (("", "A", 0),)
    assert set(report.checked) == set(DiscrepancyKind)
    assert len(report) == 5
    assert not report.ok
    again = reconcile(snaps, NOW)
    assert [d.key for d in again.discrepancies] == [d.key for d in report.discrepancies]
    only = reconcile(snaps, NOW, kinds=[K.SYNC_STALE])
    assert [d.kind for d in only.discrepancies] == [K.SYNC_STALE]
    assert report.of_kind(K.SYNC_STALE) == list(only.discrepancies)
    assert set(report.by_kind()) == kinds
