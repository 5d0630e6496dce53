"""Acceptance decisions: ACCEPT, REFUSE_LINES or MANUAL per order, with a reason per line.

Orders waiting for acceptance compete for the same stock in a deterministic order: the oldest
acceptance deadline first (then creation date, then order id). Each accepted line commits its units
(per component, for multipacks and bundles) so no unit is promised to two orders. The pool starts
from ``available - reserved`` where ``reserved`` is the soft reservation of orders already accepted
but not yet deducted by the inventory system. The safety buffer of the stock policy is *not*
applied: it protects publishing, the units are really there.

* ACCEPT: every line is mapped and covered.
* REFUSE_LINES: some lines cannot be covered (or are unmapped) and the policy allows refusing
  them; the covered lines are accepted (every line gets a decision, as OR21 requires). When no line
  can be covered, every line is refused.
* MANUAL: anything uncertain: unknown order or line state, ambiguous mapping, an invalid quantity,
  or a line that cannot be covered while refusal is disabled. A MANUAL order commits no stock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar
from mirakl_sync.core.mapping import Resolved, SkuMap, Unresolved, UnresolvedReason
from mirakl_sync.core.models import (
    ItemSku,
    OfferSku,
    Order,
    OrderId,
    OrderLineId,
    OrderState,
)

__all__ = [
    "AcceptanceDecision",
    "AcceptancePlan",
    "AcceptancePolicy",
    "Decision",
    "LineDecision",
    "LineReason",
    "acceptance_deadline",
    "decide_acceptance",
]


class Decision(StrEnum):
    ACCEPT = "ACCEPT"
    REFUSE_LINES = "REFUSE_LINES"
    MANUAL = "MANUAL"


class LineReason(StrEnum):
    COVERED = "COVERED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    UNMAPPED = "UNMAPPED"
    AMBIGUOUS = "AMBIGUOUS"
    CONFLICTING_RULES = "CONFLICTING_RULES"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    UNKNOWN_STATE = "UNKNOWN_STATE"
    NOT_WAITING_ACCEPTANCE = "NOT_WAITING_ACCEPTANCE"
    ORDER_UNDECIDED = "ORDER_UNDECIDED"
    """The line itself was fine but another line of the order needs a human."""


def _windows(value: Mapping[str, timedelta]) -> dict[str, timedelta]:
    return dict(value)


@attrs.frozen(kw_only=True)
class AcceptancePolicy:
    """How orders are accepted.

    Attributes:
        allow_refusal: refuse the lines that cannot be covered (default ``False``: such orders
            become MANUAL).
        refuse_unmapped: with ``allow_refusal``, also refuse lines whose SKU is unmapped (default
            ``False``: an unmapped line makes the order MANUAL). Ambiguous or conflicting
            mappings are always MANUAL.
        window: the operator's acceptance window (default 3 days, the shortest seen in the wild).
        marketplace_windows: per-marketplace windows, e.g. ``{"conrad": timedelta(days=5)}``.
    """

    allow_refusal: bool = False
    refuse_unmapped: bool = False
    window: timedelta = timedelta(days=3)
    marketplace_windows: Mapping[str, timedelta] = attrs.field(
        factory=dict, converter=_windows, hash=False
    )

    def window_for(self, marketplace: str) -> timedelta:
        return self.marketplace_windows.get(marketplace, self.window)


def acceptance_deadline(order: Order, policy: AcceptancePolicy | None = None) -> datetime:
    """``created_at`` + the operator's window for the order's marketplace."""
    policy = policy or AcceptancePolicy()
    return order.created_at + policy.window_for(order.marketplace)


@attrs.frozen(kw_only=True)
class LineDecision:
    """``accepted`` is ``True``/``False`` for OR21, ``None`` when a human must decide."""

    line_id: OrderLineId
    offer_sku: OfferSku
    quantity: int
    accepted: bool | None
    reason: LineReason
    detail: str = ""


@attrs.frozen(kw_only=True)
class AcceptanceDecision:
    order_id: OrderId
    decision: Decision
    deadline: datetime
    lines: tuple[LineDecision, ...]
    committed: tuple[tuple[ItemSku, int], ...] = ()
    """Units committed to this order (per item), empty unless some line is accepted."""
    reason: str = ""

    @property
    def or21_lines(self) -> tuple[tuple[OrderLineId, bool], ...] | None:
        """The OR21 body lines, ``None`` for MANUAL."""
        if self.decision is Decision.MANUAL:
            return None
        return tuple((ld.line_id, bool(ld.accepted)) for ld in self.lines)

    def to_record(self) -> dict[str, Scalar]:
        return {
            "order_id": self.order_id,
            "decision": self.decision.value,
            "deadline": self.deadline.isoformat(),
            "accepted_lines": sum(1 for ld in self.lines if ld.accepted),
            "refused_lines": sum(1 for ld in self.lines if ld.accepted is False),
            "manual_lines": sum(1 for ld in self.lines if ld.accepted is None),
            "reason": self.reason,
            "line_reasons": "; ".join(f"{ld.line_id}={ld.reason.value}" for ld in self.lines),
        }


@attrs.frozen(kw_only=True)
class AcceptancePlan(RecordsDisplayMixin):
    decisions: tuple[AcceptanceDecision, ...]
    remaining: Mapping[ItemSku, int] = attrs.field(hash=False)
    """Free units per item after every accepted line (only items touched by the orders)."""

    def __repr__(self) -> str:
        counts = {d: sum(1 for x in self.decisions if x.decision is d) for d in Decision}
        return (
            f"<AcceptancePlan orders={len(self.decisions)} accept={counts[Decision.ACCEPT]}"
            f" refuse_lines={counts[Decision.REFUSE_LINES]} manual={counts[Decision.MANUAL]}>"
        )

    def to_records(self) -> list[dict[str, Scalar]]:
        return [d.to_record() for d in self.decisions]

    def _display_title(self) -> str:
        return "AcceptancePlan"

    def get(self, order_id: str) -> AcceptanceDecision | None:
        for d in self.decisions:
            if d.order_id == order_id:
                return d
        return None


_REASON_OF: dict[UnresolvedReason, LineReason] = {
    UnresolvedReason.UNMAPPED: LineReason.UNMAPPED,
    UnresolvedReason.AMBIGUOUS: LineReason.AMBIGUOUS,
    UnresolvedReason.CONFLICTING_RULES: LineReason.CONFLICTING_RULES,
}


def decide_acceptance(
    orders: Iterable[Order],
    *,
    mapping: SkuMap,
    available: Mapping[ItemSku, int],
    reserved: Mapping[ItemSku, int] | None = None,
    policy: AcceptancePolicy | None = None,
) -> AcceptancePlan:
    """Decide every order (in deadline order); see the module doc for the rules.

    Orders not in WAITING_ACCEPTANCE get MANUAL with reason ``NOT_WAITING_ACCEPTANCE`` (there is
    nothing to accept); unknown states get MANUAL with ``UNKNOWN_STATE``.
    """
    policy = policy or AcceptancePolicy()
    reserved = reserved or {}
    free: dict[ItemSku, int] = {}

    def free_of(item: ItemSku) -> int:
        if item not in free:
            free[item] = available.get(item, 0) - reserved.get(item, 0)
        return free[item]

    ordered = sorted(
        orders, key=lambda o: (acceptance_deadline(o, policy), o.created_at, o.order_id)
    )
    decisions: list[AcceptanceDecision] = []
    for order in ordered:
        deadline = acceptance_deadline(order, policy)
        if order.state != OrderState.WAITING_ACCEPTANCE:
            known = order.is_known_state
            reason = LineReason.NOT_WAITING_ACCEPTANCE if known else LineReason.UNKNOWN_STATE
            text = (
                f"order is {order.state}, not WAITING_ACCEPTANCE"
                if known
                else f"unknown order state {order.state!r}: a human must check it"
            )
            decisions.append(
                AcceptanceDecision(
                    order_id=order.order_id,
                    decision=Decision.MANUAL,
                    deadline=deadline,
                    lines=tuple(
                        LineDecision(
                            line_id=ln.line_id,
                            offer_sku=ln.offer_sku,
                            quantity=ln.quantity,
                            accepted=None,
                            reason=reason,
                        )
                        for ln in order.lines
                    ),
                    reason=text,
                )
            )
            continue

        # First pass: per line, what it needs (or why it is uncertain).
        needs: list[tuple[tuple[ItemSku, int], ...] | None] = []
        pre: list[LineDecision | None] = []
        for ln in order.lines:
            bad: LineDecision | None = None
            comps: tuple[tuple[ItemSku, int], ...] | None = None
            if ln.state != OrderState.WAITING_ACCEPTANCE:
                bad = LineDecision(
                    line_id=ln.line_id,
                    offer_sku=ln.offer_sku,
                    quantity=ln.quantity,
                    accepted=None,
                    reason=LineReason.UNKNOWN_STATE,
                    detail=f"line state {ln.state!r} in an order waiting for acceptance",
                )
            elif ln.quantity < 1:
                bad = LineDecision(
                    line_id=ln.line_id,
                    offer_sku=ln.offer_sku,
                    quantity=ln.quantity,
                    accepted=None,
                    reason=LineReason.INVALID_QUANTITY,
                    detail=f"quantity {ln.quantity}",
                )
            else:
                res = mapping.resolve(ln.offer_sku, order.marketplace or None)
                if isinstance(res, Unresolved):
                    refusable = (
                        res.reason is UnresolvedReason.UNMAPPED
                        and policy.allow_refusal
                        and policy.refuse_unmapped
                    )
                    bad = LineDecision(
                        line_id=ln.line_id,
                        offer_sku=ln.offer_sku,
                        quantity=ln.quantity,
                        accepted=False if refusable else None,
                        reason=_REASON_OF[res.reason],
                        detail=res.detail,
                    )
                else:
                    assert isinstance(res, Resolved)
                    comps = tuple((c.item, c.quantity * ln.quantity) for c in res.components)
            needs.append(comps)
            pre.append(bad)

        if any(p is not None and p.accepted is None for p in pre):
            lines = tuple(
                p
                if p is not None
                else LineDecision(
                    line_id=ln.line_id,
                    offer_sku=ln.offer_sku,
                    quantity=ln.quantity,
                    accepted=None,
                    reason=LineReason.ORDER_UNDECIDED,
                )
                for p, ln in zip(pre, order.lines, strict=True)
            )
            decisions.append(
                AcceptanceDecision(
                    order_id=order.order_id,
                    decision=Decision.MANUAL,
                    deadline=deadline,
                    lines=lines,
                    reason="; ".join(
                        f"line {p.line_id}: {p.reason.value}"
                        for p in pre
                        if p is not None and p.accepted is None
                    ),
                )
            )
            continue

        # Second pass: commit stock line by line (tentatively).
        tentative: dict[ItemSku, int] = {}
        line_out: list[LineDecision] = []
        short = False
        for ln, comps, p in zip(order.lines, needs, pre, strict=True):
            if p is not None:
                line_out.append(p)
                continue
            assert comps is not None
            ok = all(free_of(item) - tentative.get(item, 0) >= qty for item, qty in comps)
            if ok:
                for item, qty in comps:
                    tentative[item] = tentative.get(item, 0) + qty
                line_out.append(
                    LineDecision(
                        line_id=ln.line_id,
                        offer_sku=ln.offer_sku,
                        quantity=ln.quantity,
                        accepted=True,
                        reason=LineReason.COVERED,
                    )
                )
            else:
                short = True
                detail = ", ".join(
                    f"{item}: need {qty}, free {free_of(item) - tentative.get(item, 0)}"
                    for item, qty in comps
                )
                line_out.append(
                    LineDecision(
                        line_id=ln.line_id,
                        offer_sku=ln.offer_sku,
                        quantity=ln.quantity,
                        accepted=False if policy.allow_refusal else None,
                        reason=LineReason.INSUFFICIENT_STOCK,
                        detail=detail,
                    )
                )
        refused_any = any(ld.accepted is False for ld in line_out)
        if short and not policy.allow_refusal:
            decisions.append(
                AcceptanceDecision(
                    order_id=order.order_id,
                    decision=Decision.MANUAL,
                    deadline=deadline,
                    lines=tuple(
                        ld
                        if ld.accepted is None
                        else attrs.evolve(ld, accepted=None, reason=LineReason.ORDER_UNDECIDED)
                        for ld in line_out
                    ),
                    reason="stock does not cover every line and refusal is disabled",
                )
            )
            continue
        for item, qty in tentative.items():
            free[item] -= qty
        decisions.append(
            AcceptanceDecision(
                order_id=order.order_id,
                decision=Decision.REFUSE_LINES if refused_any else Decision.ACCEPT,
                deadline=deadline,
                lines=tuple(line_out),
                committed=tuple(sorted(tentative.items())),
                reason=(
                    "some lines cannot be covered and are refused by policy"
                    if refused_any
                    else "every line is mapped and covered"
                ),
            )
        )
    return AcceptancePlan(decisions=tuple(decisions), remaining=dict(sorted(free.items())))
