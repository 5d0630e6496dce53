"""Discrepancy detectors: each is ``(snapshots, now, thresholds) -> list[Discrepancy]``.

:class:`Snapshots` gathers what the engine (or a notebook user) read: the stock states, the
mapping table, stock import reports, Mirakl orders, the ledger, host events, TL02 lines and the
last successful run of each job. Every detector is pure and only looks at the parts it needs; a
missing part (``None`` / empty) means "not read this run" and yields no finding.

:func:`reconcile` runs all of them (the stock comparison once for its four kinds) and returns a
:class:`~mirakl_sync.core.report.ReconciliationReport`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import repeat
from typing import Final, TypeAlias, cast

import attrs

from mirakl_sync._display import Scalar, to_scalar
from mirakl_sync.core._in_step import values_in_step
from mirakl_sync.core.acceptance import AcceptancePolicy, acceptance_deadline
from mirakl_sync.core.discrepancy import (
    KIND_DEFAULTS,
    Discrepancy,
    DiscrepancyKind,
    FindingColumns,
    Severity,
    Thresholds,
    discrepancy,
    discrepancy_key,
    sort_discrepancies,
)
from mirakl_sync.core.finance import Transaction, commission_mismatches, order_finance
from mirakl_sync.core.mapping import _UNMAPPED_DETAIL, MappingTable, UnresolvedReason
from mirakl_sync.core.models import (
    ZERO,
    FulfilmentEvent,
    OfferSku,
    Order,
    OrderId,
    OrderLedger,
    OrderLineId,
    OrderState,
    ReturnEvent,
    WarehouseCode,
)
from mirakl_sync.core.report import ReconciliationReport
from mirakl_sync.core.stock import StockDelta, StockState, pool_columns, stock_delta

__all__ = [
    "DETECTORS",
    "Detector",
    "Snapshots",
    "StockComparison",
    "StockImport",
    "StockImportError",
    "StockSnapshot",
    "compare_stock",
    "detect_acceptance_at_risk",
    "detect_acceptance_failed",
    "detect_commission_mismatch",
    "detect_missing_offers",
    "detect_orphaned_orders",
    "detect_oversell_risk",
    "detect_refund_not_propagated",
    "detect_sales_not_in_forecast",
    "detect_shipment_not_confirmed",
    "detect_stock_drift",
    "detect_stock_import_errors",
    "detect_sync_stale",
    "detect_tracking_missing",
    "detect_unmapped_skus",
    "reconcile",
]

K = DiscrepancyKind
S = OrderState


@attrs.frozen(kw_only=True)
class StockSnapshot:
    """Stock states ``{warehouse: {offer: quantity}}`` (warehouse ``""`` = global).

    * ``target``: publishable now (:func:`~mirakl_sync.core.stock.publishable_by_warehouse`);
    * ``last_published``: the last quantities Mirakl confirmed (import report OK);
    * ``remote``: what Mirakl shows now (OF52 export), ``None`` when not read this run.
    """

    target: StockState = attrs.field(factory=dict, hash=False)
    last_published: StockState = attrs.field(factory=dict, hash=False)
    remote: StockState | None = attrs.field(default=None, hash=False)


@attrs.frozen(kw_only=True)
class StockImportError:
    line: int
    message: str
    offer_sku: str | None = None
    warehouse: WarehouseCode | None = None


@attrs.frozen(kw_only=True)
class StockImport:
    """An STO01 (or OF01) import as tracked by STO02/STO03."""

    import_id: str
    status: str
    submitted_at: datetime
    errors: tuple[StockImportError, ...] = ()


@attrs.frozen(kw_only=True)
class Snapshots:
    """Everything the detectors look at. All parts are optional."""

    shop: str = ""
    stock: StockSnapshot | None = None
    mapping: MappingTable | None = None
    stock_imports: tuple[StockImport, ...] = ()
    orders: tuple[Order, ...] = ()
    ledger: Mapping[OrderId, OrderLedger] | None = attrs.field(default=None, hash=False)
    """The engine's ledger per order (``None`` = not known: ledger-based checks are skipped and
    every order counts as untouched)."""
    fulfilments: tuple[FulfilmentEvent, ...] = ()
    returns: tuple[ReturnEvent, ...] = ()
    transactions: tuple[Transaction, ...] = ()
    forecast_line_ids: frozenset[OrderLineId] | None = None
    """Order lines already in the Inventory Planner sales feed (``None`` = not known; the
    ledger's ``forecast_exported_line_ids`` are used as well)."""
    sync_status: Mapping[str, datetime | None] = attrs.field(factory=dict, hash=False)
    """Job name -> last successful run (``None`` = never)."""
    acceptance: AcceptancePolicy = attrs.field(factory=AcceptancePolicy)


Detector: TypeAlias = Callable[[Snapshots, datetime, Thresholds], list[Discrepancy]]

# ---------------------------------------------------------------------------------------- stock


@attrs.frozen(kw_only=True)
class StockComparison:
    """One pass over the target state against the last push and Mirakl's view.

    Tuples are ``(warehouse, offer, ...)``: ``oversell`` (remote, target), ``drift`` (remote,
    reference), ``missing`` (target), ``delta`` (the lines to push).
    """

    delta: StockDelta
    oversell: list[tuple[WarehouseCode, str, int, int]]
    drift: list[tuple[WarehouseCode, str, int, int]]
    missing: list[tuple[WarehouseCode, str, int]]


def compare_stock(
    target: StockState,
    last: StockState,
    remote: StockState | None,
    thresholds: Thresholds | None = None,
) -> StockComparison:
    """Compare in one pass.

    * delta: offers whose target differs from ``last``, plus (when ``remote`` is known) offers
      whose Mirakl quantity drifted from the reference beyond the tolerance; offers absent from
      ``remote`` are not pushed (``missing``).
    * oversell: Mirakl shows more than the target plus ``oversell_margin``, and either nothing
      is left, or Mirakl shows more than our last confirmed push (a fall in stock since a push
      Mirakl still shows is only pending: the delta pushes it).
    * drift: Mirakl differs from the reference (last push, else target) by more than
      ``drift_tolerance`` units (not counted again when already an oversell).
    """
    if remote is None:
        return StockComparison(delta=stock_delta(target, last), oversell=[], drift=[], missing=[])
    th = thresholds or Thresholds()
    margin = th.oversell_margin
    tol = th.drift_tolerance
    empty: Mapping[OfferSku, int] = {}
    columns: list[tuple[WarehouseCode, Sequence[str | int], Sequence[str | int]]] = []
    oversell: list[tuple[WarehouseCode, str, int, int]] = []
    drift: list[tuple[WarehouseCode, str, int, int]] = []
    missing: list[tuple[WarehouseCode, str, int]] = []
    for wh in sorted(target):
        offers, quantities = pool_columns(target[wh])
        # The last push and Mirakl's view, read in step with the target (see values_in_step).
        lasts = values_in_step(offers, last.get(wh, empty), None)
        remotes = values_in_step(offers, remote.get(wh, empty), None)
        # The offers to push and their quantities, kept flat (offer, quantity, ...): the delta
        # is built by column (no line tuples).
        changed: list[str | int] = []
        # Findings are kept flat (offer, value, value, ...) while the million-entry lists above
        # are alive, and made into tuples once they are gone: a tuple made now would start a
        # garbage collection that traverses those lists.
        flat_missing: list[str | int] = []
        flat_oversell: list[str | int] = []
        flat_drift: list[str | int] = []
        for o, q, lq, r in zip(offers, quantities, lasts, remotes, strict=True):
            if r == q and lq == q:  # the common case: in sync
                continue
            if r is None:
                flat_missing += o, q
                continue
            if r == q:
                changed += o, q  # only the last push differs: record the target
                continue
            ref = q if lq is None else lq
            if r > q + margin:
                changed += o, q
                # Stock fell since a push Mirakl still shows: the delta fixes it (pending),
                # unless nothing is left or Mirakl shows more than we ever pushed.
                if q == 0 or lq is None or r > lq:
                    flat_oversell += o, r, q
            elif r - ref > tol or ref - r > tol:
                flat_drift += o, r, ref
                changed += o, q
            elif lq != q:
                changed += o, q
        del offers, quantities, lasts, remotes
        missing.extend(_unflatten(wh, flat_missing, 2))  # type: ignore[arg-type]
        oversell.extend(_unflatten(wh, flat_oversell, 3))  # type: ignore[arg-type]
        drift.extend(_unflatten(wh, flat_drift, 3))  # type: ignore[arg-type]
        if changed:
            columns.append((wh, changed[0::2], changed[1::2]))
    delta = StockDelta.from_columns(cast("list[tuple[str, list[str], list[int]]]", columns))
    return StockComparison(delta=delta, oversell=oversell, drift=drift, missing=missing)


def _unflatten(
    wh: WarehouseCode, flat: list[str | int], width: int
) -> Iterator[tuple[object, ...]]:
    """``(wh, *fields)`` for each run of ``width`` fields of ``flat``."""
    return zip(repeat(wh), *(flat[i::width] for i in range(width)))


def _offer_entity(wh: str, offer: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key's entity part and the entities of an offer finding (in a warehouse pool)."""
    if wh:
        return f"{offer}@{wh}", (("offer_sku", offer), ("warehouse", wh))
    return offer, (("offer_sku", offer),)


def _stock_findings(
    cmp: StockComparison, shop: str, now: datetime, kinds: frozenset[DiscrepancyKind]
) -> list[Discrepancy]:
    # Same records as ``discrepancy(...)`` per finding, gathered by column (thousands per run).
    out: list[Discrepancy] = []
    if K.OVERSELL_RISK in kinds:
        prefix = discrepancy_key(K.OVERSELL_RISK, shop, "")
        critical, error = Severity.CRITICAL, Severity.ERROR
        cols = FindingColumns()
        severity, key, entities, message, facts = cols.appenders()
        for wh, o, r, q in cmp.oversell:
            entity, ents = _offer_entity(wh, o) if wh else (o, (("offer_sku", o),))
            severity(critical if q == 0 else error)
            key(f"{prefix}{entity}")
            entities(ents)
            message(
                f"Mirakl offers {r} of {o}{' at ' + wh if wh else ''} but only {q} can be "
                "sold safely: push the stock now and check why the last push did not land."
            )
            facts(_facts({"remote": r, "publishable": q}))
        out += cols.records(K.OVERSELL_RISK, shop=shop, now=now)
    if K.STOCK_DRIFT in kinds:
        prefix = discrepancy_key(K.STOCK_DRIFT, shop, "")
        cols = FindingColumns()
        _, key, entities, message, facts = cols.appenders()
        for wh, o, r, ref in cmp.drift:
            entity, ents = _offer_entity(wh, o) if wh else (o, (("offer_sku", o),))
            key(f"{prefix}{entity}")
            entities(ents)
            message(
                f"Mirakl shows {r} of {o}{' at ' + wh if wh else ''} where we last pushed "
                f"{ref}: the offer is queued for a fresh push; if it keeps drifting, find "
                "who edits stock on Mirakl directly."
            )
            facts(_facts({"remote": r, "expected": ref}))
        cols.severities = [KIND_DEFAULTS[K.STOCK_DRIFT][0]] * len(cols)
        out += cols.records(K.STOCK_DRIFT, shop=shop, now=now)
    if K.MISSING_OFFER in kinds:
        prefix = discrepancy_key(K.MISSING_OFFER, shop, "")
        warning, info = Severity.WARNING, Severity.INFO
        cols = FindingColumns()
        severity, key, entities, message, facts = cols.appenders()
        for wh, o, q in cmp.missing:
            entity, ents = _offer_entity(wh, o) if wh else (o, (("offer_sku", o),))
            severity(warning if q > 0 else info)
            key(f"{prefix}{entity}")
            entities(ents)
            message(
                f"{o}{' at ' + wh if wh else ''} is mapped with {q} publishable but has no "
                "offer on Mirakl: create or re-activate the offer (stock is not pushed "
                "to a missing offer)."
            )
            facts(_facts({"publishable": q}))
        out += cols.records(K.MISSING_OFFER, shop=shop, now=now)
    return out


def _facts(facts: dict[str, object]) -> dict[str, Scalar]:
    """The ``facts`` :func:`discrepancy` would store (plain values are kept as they are)."""
    for v in facts.values():
        if type(v) not in _PLAIN:
            return {k: (v if type(v) in _PLAIN else to_scalar(v)) for k, v in facts.items()}  # type: ignore[misc]
    return facts  # type: ignore[return-value]


_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


_STOCK_KINDS: Final = frozenset({K.OVERSELL_RISK, K.STOCK_DRIFT, K.MISSING_OFFER})


def _stock_detector(kind: DiscrepancyKind) -> Detector:
    def detect(snapshots: Snapshots, now: datetime, thresholds: Thresholds) -> list[Discrepancy]:
        st = snapshots.stock
        if st is None or st.remote is None:
            return []
        cmp = compare_stock(st.target, st.last_published, st.remote, thresholds)
        return _stock_findings(cmp, snapshots.shop, now, frozenset({kind}))

    detect.__name__ = f"detect_{kind.value.lower()}"
    return detect


detect_oversell_risk: Final = _stock_detector(K.OVERSELL_RISK)
detect_oversell_risk.__doc__ = "OVERSELL_RISK: Mirakl shows more than can be sold safely."
detect_stock_drift: Final = _stock_detector(K.STOCK_DRIFT)
detect_stock_drift.__doc__ = "STOCK_DRIFT: Mirakl's quantity moved away from our last push."
detect_missing_offers: Final = _stock_detector(K.MISSING_OFFER)
detect_missing_offers.__doc__ = "MISSING_OFFER: a mapped offer has no offer on Mirakl."


def detect_unmapped_skus(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """UNMAPPED_SKU for every unresolved offer of the mapping table (ambiguous and conflicting
    mappings are errors, plain unmapped SKUs warnings)."""
    table = snapshots.mapping
    if table is None:
        return []
    shop = snapshots.shop
    prefix = discrepancy_key(K.UNMAPPED_SKU, shop, "")
    plain, others = table._compact_unresolved()
    # Plainly unmapped offers (kept by name, see MappingTable) differ only by their name:
    # their columns are made by C-level maps.
    names = list(plain)
    cols = FindingColumns()
    cols.severities = [Severity.WARNING] * len(names)
    cols.keys = list(map(prefix.__add__, names))
    cols.entities = list(zip(zip(repeat("offer_sku"), names)))
    cols.messages = list(
        map(str.__add__, map("Offer ".__add__, names), repeat(_UNMAPPED_MESSAGE_END))
    )
    cols.facts = list(map(dict.copy, repeat(_UNMAPPED_FACTS, len(names))))
    unmapped = UnresolvedReason.UNMAPPED
    for offer, bad in others.items():
        reason, detail, candidates = bad.reason, bad.detail, bad.candidates
        if reason is unmapped:
            what = "unmapped"
            todo = "add it to the mapping table or fix the SKU on Mirakl"
        else:
            what = (
                "ambiguous"
                if reason is UnresolvedReason.AMBIGUOUS
                else "mapped by conflicting rules"
            )
            todo = "fix the mapping table or the rules so only one item matches"
        cols.add(
            Severity.WARNING if reason is unmapped else Severity.ERROR,
            f"{prefix}{offer}",
            (("offer_sku", offer),),
            f"Offer {offer} is {what} ({detail}); its stock is not published: {todo}.",
            _facts(
                {
                    "reason": reason.value,
                    "candidates": "; ".join(candidates) if candidates else "",
                }
            ),
        )
    return cols.records(K.UNMAPPED_SKU, shop=shop, now=now)


# The message and facts of a plainly unmapped offer's UNMAPPED_SKU (after "Offer <sku>").
_UNMAPPED_MESSAGE_END: Final = (
    f" is unmapped ({_UNMAPPED_DETAIL}); its stock is not published: add it to the mapping "
    "table or fix the SKU on Mirakl."
)
_UNMAPPED_FACTS: Final[dict[str, Scalar]] = {
    "reason": UnresolvedReason.UNMAPPED.value,
    "candidates": "",
}
_IMPORT_PENDING: Final = frozenset({"WAITING", "RUNNING", "QUEUED", "SENT"})


def detect_stock_import_errors(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """STOCK_IMPORT_ERROR for failed imports, error-report lines and stuck imports."""
    out = []
    shop = snapshots.shop
    for imp in snapshots.stock_imports:
        ents = (("import_id", imp.import_id),)
        if imp.status == "FAILED":
            out.append(
                discrepancy(
                    K.STOCK_IMPORT_ERROR,
                    shop=shop,
                    entity=imp.import_id,
                    entities=ents,
                    message=(
                        f"Stock import {imp.import_id} FAILED: none of its lines is confirmed; "
                        "it is retried on the next push, check the file format if it fails again."
                    ),
                    now=now,
                    facts={"status": imp.status},
                )
            )
        elif (
            imp.status in _IMPORT_PENDING and now - imp.submitted_at > thresholds.import_stuck_after
        ):
            out.append(
                discrepancy(
                    K.STOCK_IMPORT_ERROR,
                    shop=shop,
                    entity=imp.import_id,
                    entities=ents,
                    message=(
                        f"Stock import {imp.import_id} is still {imp.status} since "
                        f"{imp.submitted_at.isoformat()}: check Mirakl's import queue "
                        "(STO02) or contact the operator."
                    ),
                    now=now,
                    severity=Severity.WARNING,
                    facts={"status": imp.status, "age_s": (now - imp.submitted_at).total_seconds()},
                )
            )
        for err in imp.errors:
            sub = err.offer_sku or f"line{err.line}"
            if err.warehouse:
                sub += f"@{err.warehouse}"
            e_ents = ents + ((("offer_sku", err.offer_sku),) if err.offer_sku else ())
            out.append(
                discrepancy(
                    K.STOCK_IMPORT_ERROR,
                    shop=shop,
                    entity=f"{imp.import_id}/{sub}",
                    entities=e_ents,
                    message=(
                        f"Mirakl rejected the stock of {err.offer_sku or 'line ' + str(err.line)} "
                        f"in import {imp.import_id}: {err.message}. Fix the offer on Mirakl; the "
                        "quantity is pushed again on the next run."
                    ),
                    now=now,
                    facts={"line": err.line, "error": err.message},
                )
            )
    return out


# --------------------------------------------------------------------------------------- orders


def _order_discrepancy(
    kind: DiscrepancyKind,
    snapshots: Snapshots,
    order_id: str,
    *,
    message: str,
    now: datetime,
    severity: Severity | None = None,
    facts: Mapping[str, object] | None = None,
) -> Discrepancy:
    """:func:`discrepancy` about one order of ``snapshots``' shop (the order is the entity)."""
    return discrepancy(
        kind,
        shop=snapshots.shop,
        entity=order_id,
        entities=(("order_id", order_id),),
        message=message,
        now=now,
        severity=severity,
        facts=facts,
    )


def _ledger(snapshots: Snapshots, oid: OrderId) -> OrderLedger:
    led = snapshots.ledger.get(oid) if snapshots.ledger is not None else None
    return led or OrderLedger(order_id=oid)


def detect_acceptance_at_risk(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """ACCEPTANCE_AT_RISK: waiting for our acceptance, deadline within ``acceptance_warning``
    (critical within ``acceptance_critical``), decision not sent yet."""
    out = []
    for o in snapshots.orders:
        if o.state != S.WAITING_ACCEPTANCE or _ledger(snapshots, o.order_id).acceptance_sent:
            continue
        deadline = acceptance_deadline(o, snapshots.acceptance)
        left = deadline - now
        if left > thresholds.acceptance_warning or left <= timedelta(0):
            continue
        hours = left.total_seconds() / 3600
        out.append(
            _order_discrepancy(
                K.ACCEPTANCE_AT_RISK,
                snapshots,
                o.order_id,
                message=(
                    f"Order {o.order_id} must be accepted or refused by {deadline.isoformat()} "
                    f"({hours:.1f} h left) or the operator refuses it: decide it now (check "
                    "mapping and stock if it is waiting for a manual decision)."
                ),
                now=now,
                severity=(
                    Severity.CRITICAL if left <= thresholds.acceptance_critical else Severity.ERROR
                ),
                facts={"deadline": deadline, "hours_left": round(hours, 2)},
            )
        )
    return out


def detect_acceptance_failed(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """ACCEPTANCE_FAILED: auto-refused by the deadline (REFUSED with no decision date and no
    decision sent by us), past the deadline still waiting, or our OR21 failed."""
    out = []
    for o in snapshots.orders:
        led = _ledger(snapshots, o.order_id)
        why: str | None = None
        if o.state == S.REFUSED and o.acceptance_decision_at is None and not led.acceptance_sent:
            why = "was refused automatically when the acceptance deadline passed"
        elif o.state == S.WAITING_ACCEPTANCE:
            deadline = acceptance_deadline(o, snapshots.acceptance)
            if led.acceptance_failed:
                why = "could not be accepted: our acceptance call failed"
            elif now >= deadline and not led.acceptance_sent:
                why = f"is past its acceptance deadline ({deadline.isoformat()})"
        if why is None:
            continue
        out.append(
            _order_discrepancy(
                K.ACCEPTANCE_FAILED,
                snapshots,
                o.order_id,
                message=(
                    f"Order {o.order_id} {why}: repeated auto-refusals hurt the seller rating; "
                    "check the acceptance job, mapping and stock, and re-push the stock (some "
                    "operators zero it after a refusal)."
                ),
                now=now,
                facts={"state": o.state},
            )
        )
    return out


_PAID_STATES: Final = frozenset({S.SHIPPING, S.SHIPPED, S.TO_COLLECT, S.RECEIVED})


def detect_orphaned_orders(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """ORPHANED_ORDER: a live Mirakl order missing from our ledger, or paid with no sales order
    in the inventory system, for longer than ``orphan_grace``; and at once any order in a state
    this version does not know (alert, never act)."""
    out = []
    grace = thresholds.orphan_grace
    for o in snapshots.orders:
        if not o.is_known_state:
            out.append(
                _order_discrepancy(
                    K.ORPHANED_ORDER,
                    snapshots,
                    o.order_id,
                    message=(
                        f"Order {o.order_id} is in state {o.state!r}, which this version does not "
                        "know: nothing is done with it automatically; handle it in the Mirakl back "
                        "office and report the new state."
                    ),
                    now=now,
                    facts={"state": o.state},
                )
            )
            continue
        if snapshots.ledger is None or o.state in (S.CLOSED, S.REFUSED, S.CANCELED, S.STAGING):
            continue
        since = o.last_updated_at or o.created_at
        if now - since <= grace:
            continue
        led = snapshots.ledger.get(o.order_id)
        if led is None:
            why = "is on Mirakl but not in our ledger (the order poll missed it)"
        elif o.state in _PAID_STATES and not led.sales_order_created:
            why = "is paid but has no sales order in the inventory system"
        else:
            continue
        out.append(
            _order_discrepancy(
                K.ORPHANED_ORDER,
                snapshots,
                o.order_id,
                message=(
                    f"Order {o.order_id} ({o.state}) {why}: run a resync of the order window and "
                    "check the order sink."
                ),
                now=now,
                facts={"state": o.state},
            )
        )
    return out


_FORECAST_STATES: Final = frozenset(
    {
        S.WAITING_DEBIT,
        S.WAITING_DEBIT_PAYMENT,
        S.SHIPPING,
        S.SHIPPED,
        S.TO_COLLECT,
        S.RECEIVED,
        S.CLOSED,
    }
)


def detect_sales_not_in_forecast(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """SALES_NOT_IN_FORECAST: accepted/shipped lines older than ``forecast_lag`` that are not in
    the Inventory Planner sales feed."""
    out = []
    exported = snapshots.forecast_line_ids or frozenset()
    for o in snapshots.orders:
        if o.state not in _FORECAST_STATES or now - o.created_at <= thresholds.forecast_lag:
            continue
        led = _ledger(snapshots, o.order_id)
        missing = [
            ln.line_id
            for ln in o.lines
            if ln.is_active
            and ln.line_id not in exported
            and ln.line_id not in led.forecast_exported_line_ids
        ]
        if not missing:
            continue
        out.append(
            discrepancy(
                K.SALES_NOT_IN_FORECAST,
                shop=snapshots.shop,
                entity=o.order_id,
                entities=(("order_id", o.order_id), *(("order_line_id", x) for x in missing)),
                message=(
                    f"{len(missing)} line(s) of order {o.order_id} are not in the Inventory "
                    "Planner sales feed: forecasts under-count marketplace demand; check the feed "
                    "job and that Inventory Planner imported the last file."
                ),
                now=now,
                facts={"lines": len(missing)},
            )
        )
    return out


def detect_shipment_not_confirmed(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """SHIPMENT_NOT_CONFIRMED: fulfilled by the host more than ``ship_confirm_after`` ago but not
    shipped on Mirakl."""
    by_id = {o.order_id: o for o in snapshots.orders}
    first: dict[OrderId, FulfilmentEvent] = {}
    for f in sorted(snapshots.fulfilments, key=lambda f: (f.at, f.event_id)):
        first.setdefault(f.order_id, f)
    out = []
    for oid, f in sorted(first.items()):
        o = by_id.get(oid)
        if o is None or o.state not in (S.SHIPPING, S.WAITING_DEBIT, S.WAITING_DEBIT_PAYMENT):
            continue
        age = now - f.at
        if age <= thresholds.ship_confirm_after:
            continue
        out.append(
            discrepancy(
                K.SHIPMENT_NOT_CONFIRMED,
                shop=snapshots.shop,
                entity=oid,
                entities=(("order_id", oid), ("fulfilment_id", f.event_id)),
                message=(
                    f"Order {oid} left the warehouse at {f.at.isoformat()} but is still {o.state} "
                    "on Mirakl: the customer sees no shipment and payout is held; check the "
                    "dispatch queue (OR23/OR24) and its errors."
                ),
                now=now,
                facts={"hours_since_fulfilment": round(age.total_seconds() / 3600, 2)},
            )
        )
    return out


def detect_tracking_missing(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """TRACKING_MISSING: shipped on Mirakl without tracking for longer than ``tracking_grace``, or
    fulfilled by the host without a tracking number."""
    out = []
    grace = thresholds.tracking_grace
    seen: set[str] = set()
    # Tracking sent with multi-shipments (ST01) lives on the shipments, not on the order: a
    # fulfilment that carried a tracking number counts as tracked.
    tracked = {f.order_id for f in snapshots.fulfilments if f.has_tracking}
    for o in snapshots.orders:
        if o.state != S.SHIPPED or o.shipping_tracking or o.order_id in tracked:
            continue
        since = o.shipped_at or o.last_updated_at or o.created_at
        if now - since <= grace:
            continue
        seen.add(o.order_id)
        out.append(
            _order_discrepancy(
                K.TRACKING_MISSING,
                snapshots,
                o.order_id,
                message=(
                    f"Order {o.order_id} is shipped without a tracking number: add the carrier "
                    "and tracking number (OR23) to avoid 'where is my order' tickets."
                ),
                now=now,
            )
        )
    for f in sorted(snapshots.fulfilments, key=lambda f: (f.order_id, f.at, f.event_id)):
        if f.order_id in seen or f.order_id in tracked or now - f.at <= grace:
            continue
        seen.add(f.order_id)
        out.append(
            discrepancy(
                K.TRACKING_MISSING,
                shop=snapshots.shop,
                entity=f.order_id,
                entities=(("order_id", f.order_id), ("fulfilment_id", f.event_id)),
                message=(
                    f"Order {f.order_id} was fulfilled without a tracking number: ask the "
                    "warehouse for it so it can be sent to Mirakl."
                ),
                now=now,
            )
        )
    return out


def detect_refund_not_propagated(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """REFUND_NOT_PROPAGATED: host returns (per line) older than ``refund_grace`` whose amounts
    Mirakl's refunds on that line do not cover."""
    lines = {(o.order_id, ln.line_id): ln for o in snapshots.orders for ln in o.lines}
    grouped: dict[tuple[OrderId, OrderLineId], list[ReturnEvent]] = {}
    for r in snapshots.returns:
        grouped.setdefault((r.order_id, r.line_id), []).append(r)
    out = []
    for (oid, lid), rets in sorted(grouped.items()):
        rets.sort(key=lambda r: (r.at, r.return_id))
        ln = lines.get((oid, lid))
        refunded = sum((x.amount + x.shipping_amount for x in ln.refunds), ZERO) if ln else ZERO
        # Returns are covered oldest first by what Mirakl refunded.
        covered = refunded
        uncovered: list[ReturnEvent] = []
        for r in rets:
            need = r.amount + r.shipping_amount
            if covered >= need:
                covered -= need
            else:
                covered = ZERO
                uncovered.append(r)
        late = [r for r in uncovered if now - r.at > thresholds.refund_grace]
        if not late:
            continue
        owed = sum((r.amount + r.shipping_amount for r in rets), ZERO)
        out.append(
            discrepancy(
                K.REFUND_NOT_PROPAGATED,
                shop=snapshots.shop,
                entity=f"{oid}/{lid}",
                entities=(
                    ("order_id", oid),
                    ("order_line_id", lid),
                    *(("return_id", r.return_id) for r in late),
                ),
                message=(
                    f"Return(s) {', '.join(r.return_id for r in late)} on order {oid} line {lid} "
                    f"are not refunded on Mirakl ({refunded} of {owed} refunded): check the refund "
                    "queue (OR28) and refund the customer."
                ),
                now=now,
                facts={"refunded": refunded, "owed": owed},
            )
        )
    return out


def detect_commission_mismatch(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """COMMISSION_MISMATCH: TL02 lines of an order disagree with the order (to the cent)."""
    if not snapshots.transactions:
        return []
    by_order: dict[str, list[Transaction]] = {}
    for t in snapshots.transactions:
        if t.order_id is not None:
            by_order.setdefault(t.order_id, []).append(t)
    results = [
        order_finance(o, by_order[o.order_id])
        for o in sorted(snapshots.orders, key=lambda o: o.order_id)
        if o.order_id in by_order
    ]
    return commission_mismatches(
        results, shop=snapshots.shop, now=now, tolerance=thresholds.money_tolerance
    )


def detect_sync_stale(
    snapshots: Snapshots, now: datetime, thresholds: Thresholds
) -> list[Discrepancy]:
    """SYNC_STALE: a job whose last success is older than its maximum age (or that never ran)."""
    out = []
    for job, last in sorted(snapshots.sync_status.items()):
        limit = thresholds.max_age(job)
        if last is not None and now - last <= limit:
            continue
        when = "never succeeded" if last is None else f"last succeeded at {last.isoformat()}"
        out.append(
            discrepancy(
                K.SYNC_STALE,
                shop=snapshots.shop,
                entity=job,
                entities=(("job", job),),
                message=(
                    f"The {job} job {when} (limit {limit}): the systems look connected but are "
                    "not; check the scheduler, credentials and the job's last error."
                ),
                now=now,
                facts={"last_success": last, "max_age_s": limit.total_seconds()},
            )
        )
    return out


DETECTORS: Final[Mapping[DiscrepancyKind, Detector]] = {
    K.OVERSELL_RISK: detect_oversell_risk,
    K.UNMAPPED_SKU: detect_unmapped_skus,
    K.MISSING_OFFER: detect_missing_offers,
    K.STOCK_DRIFT: detect_stock_drift,
    K.STOCK_IMPORT_ERROR: detect_stock_import_errors,
    K.ACCEPTANCE_AT_RISK: detect_acceptance_at_risk,
    K.ACCEPTANCE_FAILED: detect_acceptance_failed,
    K.ORPHANED_ORDER: detect_orphaned_orders,
    K.SALES_NOT_IN_FORECAST: detect_sales_not_in_forecast,
    K.SHIPMENT_NOT_CONFIRMED: detect_shipment_not_confirmed,
    K.TRACKING_MISSING: detect_tracking_missing,
    K.REFUND_NOT_PROPAGATED: detect_refund_not_propagated,
    K.COMMISSION_MISMATCH: detect_commission_mismatch,
    K.SYNC_STALE: detect_sync_stale,
}
"""Every detector by kind (one per :class:`DiscrepancyKind`)."""


def reconcile(
    snapshots: Snapshots,
    now: datetime,
    thresholds: Thresholds | None = None,
    *,
    kinds: Sequence[DiscrepancyKind] | None = None,
) -> ReconciliationReport:
    """Run every detector (or only ``kinds``) and gather the findings in a report.

    The stock comparison runs once for OVERSELL_RISK, STOCK_DRIFT and MISSING_OFFER, and its
    delta (the lines to push) is part of the report.
    """
    th = thresholds or Thresholds()
    wanted = frozenset(kinds) if kinds is not None else frozenset(DETECTORS)
    found: list[Discrepancy] = []
    delta: StockDelta | None = None
    st = snapshots.stock
    if st is not None:
        cmp = compare_stock(st.target, st.last_published, st.remote, th)
        delta = cmp.delta
        found.extend(_stock_findings(cmp, snapshots.shop, now, wanted & _STOCK_KINDS))
    for kind, detector in DETECTORS.items():
        if kind in wanted and kind not in _STOCK_KINDS:
            found.extend(detector(snapshots, now, th))
    return ReconciliationReport(
        shop=snapshots.shop,
        generated_at=now,
        discrepancies=tuple(sort_discrepancies(found)),
        stock_delta=delta,
        checked=tuple(sorted(wanted)),
    )
