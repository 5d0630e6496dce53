"""Order value vs commission vs refunds vs the TL02 transaction log, to the cent.

The identity the finance view keeps (all ``Decimal``)::

    value  = sum over active lines of (price + shipping_price + taxes)
    refunds = sum over refunds of (amount + shipping_amount + taxes)
    net_commission = commission - refunded_commission
    payout = value - refunds - net_commission        # what Mirakl pays the shop

so ``value == payout + net_commission + refunds``. TL02 lines are grouped by type (credits
positive, debits negative, as Mirakl signs them) and compared component by component; any gap
above the tolerance is a ``COMMISSION_MISMATCH``.

For the inventory system, :func:`sales_order_lines` expresses the commission (and refunds) as
non-inventory service lines, so the sales order total equals the payout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar, flat_record
from mirakl_sync.core.discrepancy import Discrepancy, DiscrepancyKind, discrepancy
from mirakl_sync.core.models import ZERO, Order, OrderId, OrderLineId

__all__ = [
    "COMMISSION_TYPES",
    "REFUND_COMMISSION_TYPES",
    "REFUND_TYPES",
    "VALUE_TYPES",
    "FinanceReport",
    "OrderFinance",
    "PeriodSummary",
    "SalesOrderLine",
    "Transaction",
    "cents",
    "commission_mismatches",
    "order_finance",
    "reconcile_finance",
    "sales_order_lines",
    "transactions_for",
]

CENT: Final = Decimal("0.01")

VALUE_TYPES: Final = frozenset(
    {"ORDER_AMOUNT", "ORDER_AMOUNT_TAX", "ORDER_SHIPPING_AMOUNT", "ORDER_SHIPPING_AMOUNT_TAX"}
)
COMMISSION_TYPES: Final = frozenset({"COMMISSION_FEE", "COMMISSION_VAT"})
REFUND_TYPES: Final = frozenset(
    {
        "REFUND_ORDER_AMOUNT",
        "REFUND_ORDER_AMOUNT_TAX",
        "REFUND_ORDER_SHIPPING_AMOUNT",
        "REFUND_ORDER_SHIPPING_AMOUNT_TAX",
    }
)
REFUND_COMMISSION_TYPES: Final = frozenset({"REFUND_COMMISSION_FEE", "REFUND_COMMISSION_VAT"})


def cents(value: Decimal) -> Decimal:
    """Round to the cent (half up)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@attrs.frozen(kw_only=True)
class Transaction:
    """One TL02 transaction-log line. ``amount`` is signed (credit positive, debit negative)."""

    transaction_id: str
    type: str
    amount: Decimal
    order_id: OrderId | None = None
    order_line_id: OrderLineId | None = None
    currency: str = "EUR"
    created_at: datetime | None = None
    billing_cycle_id: str | None = None


@attrs.frozen(kw_only=True)
class OrderFinance:
    """The money of one order, from the order itself and (when present) from TL02."""

    order_id: OrderId
    currency: str
    created_at: datetime
    value: Decimal
    commission: Decimal
    refunds: Decimal
    refunded_commission: Decimal
    tl_value: Decimal | None = None
    tl_commission: Decimal | None = None
    tl_refunds: Decimal | None = None
    tl_refunded_commission: Decimal | None = None
    tl_other: Decimal | None = None
    tl_currencies: tuple[str, ...] = ()

    @property
    def net_commission(self) -> Decimal:
        return self.commission - self.refunded_commission

    @property
    def payout(self) -> Decimal:
        """value - refunds - net commission."""
        return self.value - self.refunds - self.net_commission

    @property
    def has_transactions(self) -> bool:
        return self.tl_value is not None

    @property
    def tl_payout(self) -> Decimal | None:
        if self.tl_value is None:
            return None
        assert self.tl_commission is not None
        assert self.tl_refunds is not None
        assert self.tl_refunded_commission is not None
        return self.tl_value - self.tl_refunds - self.tl_commission + self.tl_refunded_commission

    @property
    def difference(self) -> Decimal | None:
        """TL02 payout minus the order's payout (``None`` without transactions)."""
        tl = self.tl_payout
        return None if tl is None else tl - self.payout

    def mismatches(self, tolerance: Decimal = ZERO) -> tuple[str, ...]:
        """Names of the components whose TL02 total differs from the order by > tolerance."""
        if self.tl_value is None:
            return ()
        out: list[str] = []
        pairs = (
            ("value", self.value, self.tl_value),
            ("commission", self.commission, self.tl_commission),
            ("refunds", self.refunds, self.tl_refunds),
            ("refunded_commission", self.refunded_commission, self.tl_refunded_commission),
        )
        for name, ours, theirs in pairs:
            assert theirs is not None
            if abs(ours - theirs) > tolerance:
                out.append(name)
        if any(c != self.currency for c in self.tl_currencies):
            out.append("currency")
        return tuple(out)

    def to_record(self) -> dict[str, Scalar]:
        return flat_record(
            {
                "order_id": self.order_id,
                "currency": self.currency,
                "created_at": self.created_at,
                "value": self.value,
                "commission": self.commission,
                "refunds": self.refunds,
                "refunded_commission": self.refunded_commission,
                "payout": self.payout,
                "tl_payout": self.tl_payout,
                "difference": self.difference,
            }
        )


def order_finance(order: Order, transactions: Iterable[Transaction] = ()) -> OrderFinance:
    """The :class:`OrderFinance` of one order; ``transactions`` are its TL02 lines (others are
    ignored)."""
    value = commission = refunds = refunded_commission = ZERO
    for line in order.lines:
        if line.is_active:
            value += line.value
            commission += line.commission
        for r in line.refunds:
            refunds += r.total
            refunded_commission += r.commission
    mine = [t for t in transactions if t.order_id == order.order_id]
    fields: dict[str, object] = {}
    if mine:
        tl = {"value": ZERO, "commission": ZERO, "refunds": ZERO, "refunded": ZERO, "other": ZERO}
        for t in mine:
            if t.type in VALUE_TYPES:
                tl["value"] += t.amount
            elif t.type in COMMISSION_TYPES:
                tl["commission"] -= t.amount
            elif t.type in REFUND_TYPES:
                tl["refunds"] -= t.amount
            elif t.type in REFUND_COMMISSION_TYPES:
                tl["refunded"] += t.amount
            else:
                tl["other"] += t.amount
        fields = {
            "tl_value": tl["value"],
            "tl_commission": tl["commission"],
            "tl_refunds": tl["refunds"],
            "tl_refunded_commission": tl["refunded"],
            "tl_other": tl["other"],
            "tl_currencies": tuple(sorted({t.currency for t in mine})),
        }
    return OrderFinance(
        order_id=order.order_id,
        currency=order.currency,
        created_at=order.created_at,
        value=value,
        commission=commission,
        refunds=refunds,
        refunded_commission=refunded_commission,
        **fields,  # type: ignore[arg-type]
    )


@attrs.frozen(kw_only=True)
class SalesOrderLine:
    """A line of the sales order written to the inventory system.

    Item lines carry the offer SKU and quantity (``inventory=True``); the commission and refunds
    are non-inventory service lines with a negative amount.
    """

    sku: str
    description: str
    quantity: int
    amount: Decimal
    inventory: bool


def sales_order_lines(
    order: Order,
    *,
    commission_sku: str = "MARKETPLACE-COMMISSION",
    refund_sku: str = "MARKETPLACE-REFUND",
) -> tuple[SalesOrderLine, ...]:
    """Sales-order lines whose amounts sum to the order's payout (to the cent)."""
    fin = order_finance(order)
    lines = [
        SalesOrderLine(
            sku=line.offer_sku,
            description=f"Mirakl order line {line.line_id}",
            quantity=line.quantity,
            amount=line.value,
            inventory=True,
        )
        for line in order.lines
        if line.is_active
    ]
    if fin.net_commission:
        lines.append(
            SalesOrderLine(
                sku=commission_sku,
                description="Marketplace commission (non-inventory service)",
                quantity=1,
                amount=-fin.net_commission,
                inventory=False,
            )
        )
    if fin.refunds:
        lines.append(
            SalesOrderLine(
                sku=refund_sku,
                description="Refunds issued on Mirakl (non-inventory service)",
                quantity=1,
                amount=-fin.refunds,
                inventory=False,
            )
        )
    return tuple(lines)


@attrs.frozen(kw_only=True)
class PeriodSummary:
    """Totals for the orders created in one calendar month (UTC) and one currency."""

    period: str
    currency: str
    orders: int
    value: Decimal
    commission: Decimal
    refunds: Decimal
    refunded_commission: Decimal
    payout: Decimal
    tl_payout: Decimal
    orders_with_transactions: int

    def to_record(self) -> dict[str, Scalar]:
        return flat_record(attrs.asdict(self))


@attrs.frozen(kw_only=True)
class FinanceReport(RecordsDisplayMixin):
    """Per-order and per-month finance reconciliation (``to_records`` gives one row per order)."""

    orders: tuple[OrderFinance, ...]
    periods: tuple[PeriodSummary, ...]
    discrepancies: tuple[Discrepancy, ...]

    def __repr__(self) -> str:
        return (
            f"<FinanceReport orders={len(self.orders)} periods={len(self.periods)}"
            f" mismatches={len(self.discrepancies)}>"
        )

    def to_records(self) -> list[dict[str, Scalar]]:
        return [o.to_record() for o in self.orders]

    def _display_title(self) -> str:
        return "FinanceReport"

    def _display_summary(self) -> list[tuple[str, Scalar]]:
        return [
            *((f"{p.period} {p.currency} payout", str(p.payout)) for p in self.periods),
            ("mismatches", len(self.discrepancies)),
        ]


def _summaries(results: Sequence[OrderFinance]) -> tuple[PeriodSummary, ...]:
    groups: dict[tuple[str, str], list[OrderFinance]] = {}
    for r in results:
        groups.setdefault((r.created_at.strftime("%Y-%m"), r.currency), []).append(r)
    out = []
    for (period, currency), rs in sorted(groups.items()):
        out.append(
            PeriodSummary(
                period=period,
                currency=currency,
                orders=len(rs),
                value=sum((r.value for r in rs), ZERO),
                commission=sum((r.commission for r in rs), ZERO),
                refunds=sum((r.refunds for r in rs), ZERO),
                refunded_commission=sum((r.refunded_commission for r in rs), ZERO),
                payout=sum((r.payout for r in rs), ZERO),
                tl_payout=sum((r.tl_payout or ZERO for r in rs), ZERO),
                orders_with_transactions=sum(1 for r in rs if r.has_transactions),
            )
        )
    return tuple(out)


def commission_mismatches(
    results: Iterable[OrderFinance],
    *,
    shop: str,
    now: datetime,
    tolerance: Decimal = ZERO,
) -> list[Discrepancy]:
    """``COMMISSION_MISMATCH`` for each order whose TL02 lines disagree with the order."""
    out: list[Discrepancy] = []
    for r in results:
        bad = r.mismatches(tolerance)
        if not bad:
            continue
        tl_payout = r.tl_payout
        out.append(
            discrepancy(
                DiscrepancyKind.COMMISSION_MISMATCH,
                shop=shop,
                entity=r.order_id,
                entities=(("order_id", r.order_id),),
                message=(
                    f"Order {r.order_id}: the transaction log pays {tl_payout} {r.currency} "
                    f"but the order implies {r.payout} {r.currency} "
                    f"(differs on {', '.join(bad)}). Check the commission rate and refunds "
                    "with the operator before closing the period."
                ),
                now=now,
                facts={
                    "payout": r.payout,
                    "tl_payout": tl_payout,
                    "difference": r.difference,
                    "components": ",".join(bad),
                },
            )
        )
    return out


def reconcile_finance(
    orders: Iterable[Order],
    transactions: Iterable[Transaction],
    *,
    shop: str = "",
    now: datetime,
    tolerance: Decimal = ZERO,
) -> FinanceReport:
    """Per-order and per-month finance, with ``COMMISSION_MISMATCH`` discrepancies."""
    by_order: dict[str, list[Transaction]] = {}
    for t in transactions:
        if t.order_id is not None:
            by_order.setdefault(t.order_id, []).append(t)
    results = tuple(
        order_finance(o, by_order.get(o.order_id, ()))
        for o in sorted(orders, key=lambda o: (o.created_at, o.order_id))
    )
    return FinanceReport(
        orders=results,
        periods=_summaries(results),
        discrepancies=tuple(
            commission_mismatches(results, shop=shop, now=now, tolerance=tolerance)
        ),
    )


def transactions_for(order: Order, *, prefix: str = "T") -> list[Transaction]:
    """The TL02 lines Mirakl would book for ``order`` (value, commission, refunds), one per line
    and type. Handy for notebooks and tests; taxes are booked with the amounts."""
    out: list[Transaction] = []
    n = 0

    def add(kind: str, amount: Decimal, line_id: OrderLineId) -> None:
        nonlocal n
        if amount:
            n += 1
            out.append(
                Transaction(
                    transaction_id=f"{prefix}{order.order_id}-{n}",
                    type=kind,
                    amount=amount,
                    order_id=order.order_id,
                    order_line_id=line_id,
                    currency=order.currency,
                )
            )

    for line in order.lines:
        if line.is_active:
            add("ORDER_AMOUNT", line.price + line.taxes, line.line_id)
            add("ORDER_SHIPPING_AMOUNT", line.shipping_price, line.line_id)
            add("COMMISSION_FEE", -line.commission, line.line_id)
        for r in line.refunds:
            add("REFUND_ORDER_AMOUNT", -(r.amount + r.taxes), line.line_id)
            add("REFUND_ORDER_SHIPPING_AMOUNT", -r.shipping_amount, line.line_id)
            add("REFUND_COMMISSION_FEE", r.commission, line.line_id)
    return out
