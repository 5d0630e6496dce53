from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core.discrepancy import DiscrepancyKind
from mirakl_sync.core.finance import (
    Transaction,
    cents,
    order_finance,
    reconcile_finance,
    sales_order_lines,
    transactions_for,
)
from mirakl_sync.core.models import ZERO, OrderId, OrderState, Refund

from .factories import NOW, line, order

S = OrderState


def money(max_cents: int = 100_000) -> st.SearchStrategy[Decimal]:
    return st.integers(0, max_cents).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def orders_with_refunds(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    lines = []
    for n in range(draw(st.integers(1, 4))):
        price = draw(money())
        shipping = draw(money(2000))
        taxes = draw(money(5000))
        commission = draw(money(int(price * 100) // 5 + 1))
        refunds = []
        for r in range(draw(st.integers(0, 2))):
            refunds.append(
                Refund(
                    refund_id=f"R{n}{r}",
                    amount=draw(money(int(price * 100) // 2 + 1)),
                    shipping_amount=draw(money(int(shipping * 100) + 1)),
                    taxes=draw(money(100)),
                    commission=draw(money(int(commission * 100) // 2 + 1)),
                )
            )
        state = draw(st.sampled_from([S.SHIPPED, S.SHIPPING, S.REFUSED, S.RECEIVED]))
        lines.append(
            line(
                n,
                f"SKU{n}",
                draw(st.integers(1, 5)),
                state,
                price=str(price),
                shipping=str(shipping),
                taxes=str(taxes),
                commission=str(commission),
                refunds=tuple(refunds),
            )
        )
    return order("O", *lines, state=S.SHIPPED)


@settings(max_examples=200, deadline=None)
@given(o=orders_with_refunds())
def test_finance_balances_to_the_cent(o) -> None:  # type: ignore[no-untyped-def]
    txs = transactions_for(o)
    fin = order_finance(o, txs)
    assert fin.value == fin.payout + fin.net_commission + fin.refunds
    if txs:
        assert fin.difference == ZERO
    else:  # nothing booked: nothing is owed either
        assert fin.payout == ZERO
        assert fin.difference is None
    assert fin.mismatches() == ()
    assert cents(fin.payout) == fin.payout  # already exact cents
    lines = sales_order_lines(o)
    assert sum((ln.amount for ln in lines), ZERO) == fin.payout
    assert [ln for ln in lines if not ln.inventory] == [
        ln for ln in lines if ln.sku.startswith("MARKETPLACE-")
    ]
    report = reconcile_finance([o], transactions_for(o), now=NOW)
    assert report.discrepancies == ()
    (period,) = report.periods
    assert period.payout == fin.payout == period.tl_payout


def test_commission_mismatch_is_reported() -> None:
    o = order(
        "O", line(1, "A", price="100.00", commission="15.00", state=S.SHIPPED), state=S.SHIPPED
    )
    txs = transactions_for(o)
    fixed = [
        Transaction(
            transaction_id=t.transaction_id,
            type=t.type,
            amount=Decimal("-12.00"),
            order_id=t.order_id,
            currency=t.currency,
        )
        if t.type == "COMMISSION_FEE"
        else t
        for t in txs
    ]
    report = reconcile_finance([o], fixed, shop="s", now=NOW)
    (d,) = report.discrepancies
    assert d.kind is DiscrepancyKind.COMMISSION_MISMATCH
    assert d.key == "COMMISSION_MISMATCH:s:O"
    assert d.facts["difference"] == "3.00"
    assert "commission" in d.message
    assert report.orders[0].mismatches() == ("commission",)
    assert "mismatches=1" in repr(report)
    assert report.to_records()[0]["payout"] == "85.00"
    # no transactions yet: nothing to compare
    assert reconcile_finance([o], [], now=NOW).discrepancies == ()
    # other currency is a mismatch
    eur = [
        Transaction(
            transaction_id=t.transaction_id,
            type=t.type,
            amount=t.amount,
            order_id=t.order_id,
            currency="USD",
        )
        for t in txs
    ]
    assert order_finance(o, eur).mismatches() == ("currency",)


def test_periods_group_by_month_and_currency() -> None:
    a = order("A", line(1, "A", state=S.SHIPPED, order="A"), state=S.SHIPPED)
    b = order(
        "B", line(1, "A", state=S.SHIPPED, order="B"), state=S.SHIPPED, age=timedelta(days=40)
    )
    report = reconcile_finance([a, b], [], now=NOW)
    assert [p.period for p in report.periods] == ["2026-10", "2026-11"]
    assert all(p.orders_with_transactions == 0 for p in report.periods)
    assert report.periods[0].to_record()["payout"] == "9.00"
    assert OrderId("A") in {o.order_id for o in report.orders}
    assert "<table>" in report._repr_html_()
