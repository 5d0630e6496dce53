from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirakl_sync.core.acceptance import (
    AcceptanceDecision,
    AcceptancePlan,
    AcceptancePolicy,
    Decision,
    LineReason,
    acceptance_deadline,
    decide_acceptance,
)
from mirakl_sync.core.mapping import MappingEntry, SkuMap
from mirakl_sync.core.models import ItemSku, Order, OrderState

from .factories import NOW, line, order

S = OrderState
MAP = SkuMap(
    [MappingEntry.single("A6", "A", pack_size=6), MappingEntry.bundle("KIT", {"A": 1, "B": 2})],
    items=["A", "B", "C", "dup", "DUP "],
)


def decide(
    orders: list[Order],
    available: dict[str, int],
    policy: AcceptancePolicy | None = None,
    reserved: dict[str, int] | None = None,
) -> AcceptancePlan:
    return decide_acceptance(
        orders,
        mapping=MAP,
        available=available,  # type: ignore[arg-type]
        reserved=reserved,  # type: ignore[arg-type]
        policy=policy,
    )


def test_accept_when_all_lines_covered() -> None:
    o = order("O", line(1, "A", 2), line(2, "KIT", 1))
    plan = decide([o], {"A": 3, "B": 2})
    d = plan.decisions[0]
    assert d.decision is Decision.ACCEPT
    assert [ld.reason for ld in d.lines] == [LineReason.COVERED, LineReason.COVERED]
    assert dict(d.committed) == {"A": 3, "B": 2}
    assert d.or21_lines == (("O-1", True), ("O-2", True))
    assert plan.remaining == {"A": 0, "B": 0}
    assert d.deadline == o.created_at + timedelta(days=3)


@pytest.mark.parametrize(
    ("allow_refusal", "refuse_unmapped", "lines", "decision", "reasons"),
    [
        # stock short, refusal off -> MANUAL
        (False, False, [("A6", 1)], Decision.MANUAL, [LineReason.INSUFFICIENT_STOCK]),
        # stock short, refusal on -> refuse that line, accept the other
        (
            True,
            False,
            [("A6", 1), ("A", 1)],
            Decision.REFUSE_LINES,
            [LineReason.INSUFFICIENT_STOCK, LineReason.COVERED],
        ),
        # unmapped with refusal off -> MANUAL, covered line undecided too
        (
            False,
            False,
            [("nope", 1), ("A", 1)],
            Decision.MANUAL,
            [LineReason.UNMAPPED, LineReason.ORDER_UNDECIDED],
        ),
        # unmapped with refusal of unmapped lines -> refused
        (
            True,
            True,
            [("nope", 1), ("A", 1)],
            Decision.REFUSE_LINES,
            [LineReason.UNMAPPED, LineReason.COVERED],
        ),
        # ambiguous is never refused automatically
        (True, True, [("DUP", 1)], Decision.MANUAL, [LineReason.AMBIGUOUS]),
        (True, True, [("A", 0)], Decision.MANUAL, [LineReason.INVALID_QUANTITY]),
    ],
)
def test_policy_table(
    allow_refusal: bool,
    refuse_unmapped: bool,
    lines: list[tuple[str, int]],
    decision: Decision,
    reasons: list[LineReason],
) -> None:
    o = order("O", *(line(n, sku, q) for n, (sku, q) in enumerate(lines)))
    policy = AcceptancePolicy(allow_refusal=allow_refusal, refuse_unmapped=refuse_unmapped)
    d = decide([o], {"A": 5}, policy).decisions[0]
    assert d.decision is decision
    assert [ld.reason for ld in d.lines] == reasons
    if decision is Decision.MANUAL:
        assert d.committed == ()
        assert d.or21_lines is None
        assert all(ld.accepted is None for ld in d.lines)
    else:
        assert all(ld.accepted is not None for ld in d.lines)


def test_unknown_and_other_states_are_manual() -> None:
    plan = decide(
        [order("U", state="SOMETHING_NEW"), order("S", state=S.SHIPPING)],
        {"A": 10},
    )
    by_id: dict[str, AcceptanceDecision] = {d.order_id: d for d in plan.decisions}
    assert by_id["U"].decision is Decision.MANUAL
    assert by_id["U"].lines[0].reason is LineReason.UNKNOWN_STATE
    assert by_id["S"].lines[0].reason is LineReason.NOT_WAITING_ACCEPTANCE
    odd_line = order("L", line(1, "A", state="WHATEVER"))
    assert decide([odd_line], {"A": 1}).decisions[0].decision is Decision.MANUAL


def test_oldest_deadline_first_and_reservations() -> None:
    young = order("Y", line(1, "A", 2, order="Y"), age=timedelta(hours=1))
    old = order("X", line(1, "A", 2, order="X"), age=timedelta(hours=30))
    # a 5-day marketplace: created earlier but later deadline
    slow = order("Z", line(1, "A", 2, order="Z"), age=timedelta(hours=40), marketplace="slow")
    policy = AcceptancePolicy(marketplace_windows={"slow": timedelta(days=5)})
    assert acceptance_deadline(slow, policy) > acceptance_deadline(young, policy)
    plan = decide([young, slow, old], {"A": 5}, policy, reserved={"A": 1})
    assert [d.order_id for d in plan.decisions] == ["X", "Y", "Z"]
    assert [d.decision for d in plan.decisions] == [
        Decision.ACCEPT,
        Decision.ACCEPT,
        Decision.MANUAL,
    ]
    assert plan.get("Z") is not None
    assert plan.get("nope") is None
    assert "accept=2" in repr(plan)
    assert plan.to_records()[2]["decision"] == "MANUAL"


@settings(max_examples=150, deadline=None)
@given(
    stock=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(0, 12)),
    reserved=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.integers(0, 4)),
    orders=st.lists(
        st.lists(
            st.tuples(st.sampled_from(["A", "B", "C", "A6", "KIT", "nope"]), st.integers(1, 4)),
            min_size=1,
            max_size=4,
        ),
        max_size=6,
    ),
    ages=st.lists(st.integers(0, 100), min_size=6, max_size=6),
    allow=st.booleans(),
)
def test_never_commits_the_same_unit_twice(
    stock: dict[str, int],
    reserved: dict[str, int],
    orders: list[list[tuple[str, int]]],
    ages: list[int],
    allow: bool,
) -> None:
    os_ = [
        order(
            f"O{k}",
            *(line(n, sku, q, order=f"O{k}") for n, (sku, q) in enumerate(ls)),
            age=timedelta(hours=ages[k]),
        )
        for k, ls in enumerate(orders)
    ]
    policy = AcceptancePolicy(allow_refusal=allow, refuse_unmapped=allow)
    plan = decide(os_, stock, policy, reserved=reserved)
    committed: Counter[ItemSku] = Counter()
    for d in plan.decisions:
        # every line decided exactly once, none dropped
        assert len(d.lines) == len(next(o for o in os_ if o.order_id == d.order_id).lines)
        needs: Counter[ItemSku] = Counter()
        for ld in d.lines:
            if ld.accepted:
                res = MAP.resolve(ld.offer_sku)
                for c in res.components:  # type: ignore[union-attr]
                    needs[c.item] += c.quantity * ld.quantity
        assert dict(needs) == dict(d.committed)
        committed.update(needs)
    for item, n in committed.items():
        assert n <= stock.get(item, 0) - reserved.get(item, 0)
    # deadlines are non-decreasing in the plan order
    deadlines = [d.deadline for d in plan.decisions]
    assert deadlines == sorted(deadlines)
    assert all(d.deadline > NOW - timedelta(days=10) for d in plan.decisions)
