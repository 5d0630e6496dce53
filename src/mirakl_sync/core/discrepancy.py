"""The :class:`Discrepancy` record every detector returns, and the detection thresholds.

A discrepancy says what is wrong, how bad it is (:class:`Severity`), what it hurts
(:class:`Impact`), who should act (:class:`OwnerTeam`), and what to do (``message``). Its ``key``
(``"<KIND>:<shop>:<entity>"``) is stable across runs so alert sinks can deduplicate.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import repeat
from typing import Any, Final

import attrs

from mirakl_sync._display import Scalar, to_scalar
from mirakl_sync._records import records_by_column

__all__ = [
    "KIND_DEFAULTS",
    "Discrepancy",
    "DiscrepancyKind",
    "FindingColumns",
    "Impact",
    "OwnerTeam",
    "Severity",
    "Thresholds",
    "discrepancy",
    "discrepancy_key",
    "sort_discrepancies",
]


class DiscrepancyKind(StrEnum):
    OVERSELL_RISK = "OVERSELL_RISK"
    UNMAPPED_SKU = "UNMAPPED_SKU"
    MISSING_OFFER = "MISSING_OFFER"
    STOCK_DRIFT = "STOCK_DRIFT"
    STOCK_IMPORT_ERROR = "STOCK_IMPORT_ERROR"
    ACCEPTANCE_AT_RISK = "ACCEPTANCE_AT_RISK"
    ACCEPTANCE_FAILED = "ACCEPTANCE_FAILED"
    ORPHANED_ORDER = "ORPHANED_ORDER"
    SALES_NOT_IN_FORECAST = "SALES_NOT_IN_FORECAST"
    SHIPMENT_NOT_CONFIRMED = "SHIPMENT_NOT_CONFIRMED"
    TRACKING_MISSING = "TRACKING_MISSING"
    REFUND_NOT_PROPAGATED = "REFUND_NOT_PROPAGATED"
    COMMISSION_MISMATCH = "COMMISSION_MISMATCH"
    SYNC_STALE = "SYNC_STALE"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: Final = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.ERROR: 2,
    Severity.CRITICAL: 3,
}


class Impact(StrEnum):
    STOCK_ACCURACY = "stock accuracy"
    REVENUE = "revenue"
    CUSTOMER = "customer"
    FINANCE = "finance"


class OwnerTeam(StrEnum):
    INVENTORY = "inventory"
    ECOMMERCE = "ecommerce"
    FINANCE = "finance"
    OPERATIONS = "operations"


K = DiscrepancyKind
KIND_DEFAULTS: Final[Mapping[DiscrepancyKind, tuple[Severity, Impact, OwnerTeam]]] = {
    K.OVERSELL_RISK: (Severity.CRITICAL, Impact.CUSTOMER, OwnerTeam.INVENTORY),
    K.UNMAPPED_SKU: (Severity.WARNING, Impact.STOCK_ACCURACY, OwnerTeam.ECOMMERCE),
    K.MISSING_OFFER: (Severity.WARNING, Impact.REVENUE, OwnerTeam.ECOMMERCE),
    K.STOCK_DRIFT: (Severity.WARNING, Impact.STOCK_ACCURACY, OwnerTeam.INVENTORY),
    K.STOCK_IMPORT_ERROR: (Severity.ERROR, Impact.STOCK_ACCURACY, OwnerTeam.ECOMMERCE),
    K.ACCEPTANCE_AT_RISK: (Severity.ERROR, Impact.REVENUE, OwnerTeam.OPERATIONS),
    K.ACCEPTANCE_FAILED: (Severity.CRITICAL, Impact.REVENUE, OwnerTeam.OPERATIONS),
    K.ORPHANED_ORDER: (Severity.ERROR, Impact.REVENUE, OwnerTeam.OPERATIONS),
    K.SALES_NOT_IN_FORECAST: (Severity.WARNING, Impact.STOCK_ACCURACY, OwnerTeam.INVENTORY),
    K.SHIPMENT_NOT_CONFIRMED: (Severity.ERROR, Impact.CUSTOMER, OwnerTeam.OPERATIONS),
    K.TRACKING_MISSING: (Severity.WARNING, Impact.CUSTOMER, OwnerTeam.OPERATIONS),
    K.REFUND_NOT_PROPAGATED: (Severity.ERROR, Impact.CUSTOMER, OwnerTeam.FINANCE),
    K.COMMISSION_MISMATCH: (Severity.WARNING, Impact.FINANCE, OwnerTeam.FINANCE),
    K.SYNC_STALE: (Severity.ERROR, Impact.STOCK_ACCURACY, OwnerTeam.OPERATIONS),
}
del K


_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def discrepancy_key(kind: DiscrepancyKind, shop: str, entity: str) -> str:
    """The stable dedupe key ``"<KIND>:<shop>:<entity>"``."""
    return f"{kind.value}:{shop}:{entity}"


@attrs.frozen(kw_only=True)
class Discrepancy:
    """One thing that is wrong, with who should fix it and how.

    ``entities`` are ``(type, id)`` pairs (``("offer_sku", "ABC")``, ``("order_id", "X-1")``);
    ``facts`` holds the measured values behind the finding (JSON-safe scalars).
    """

    kind: DiscrepancyKind
    severity: Severity
    impact: Impact
    owner: OwnerTeam
    key: str
    shop: str
    entities: tuple[tuple[str, str], ...]
    message: str
    detected_at: datetime
    facts: Mapping[str, Scalar] = attrs.field(factory=dict, hash=False)

    def to_record(self) -> dict[str, Scalar]:
        """A flat JSON-safe dict (entities joined as ``type=id``, facts prefixed ``fact_``)."""
        rec: dict[str, Scalar] = {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "impact": self.impact.value,
            "owner": self.owner.value,
            "key": self.key,
            "shop": self.shop,
            "entities": "; ".join(f"{t}={i}" for t, i in self.entities),
            "message": self.message,
            "detected_at": self.detected_at.isoformat(),
        }
        for name, value in self.facts.items():
            rec[f"fact_{name}"] = value
        return rec


def discrepancy(
    kind: DiscrepancyKind,
    *,
    shop: str,
    entity: str,
    entities: tuple[tuple[str, str], ...],
    message: str,
    now: datetime,
    severity: Severity | None = None,
    facts: Mapping[str, object] | None = None,
) -> Discrepancy:
    """Build a :class:`Discrepancy` with the kind's default severity/impact/owner."""
    default_severity, impact, owner = KIND_DEFAULTS[kind]
    return Discrepancy(
        kind=kind,
        severity=severity or default_severity,
        impact=impact,
        owner=owner,
        key=discrepancy_key(kind, shop, entity),
        shop=shop,
        entities=entities,
        message=message,
        detected_at=now,
        facts={
            k: (v if type(v) in _PLAIN else to_scalar(v))  # type: ignore[misc]
            for k, v in (facts or {}).items()
        },
    )


class FindingColumns:
    """Findings of one kind, gathered by column and made into :class:`Discrepancy` records at
    once by :meth:`records`.

    Each finding is ``add(severity, key, entities, message, facts)``, or one call of each of
    :meth:`appenders` (what a detector's hot loop does). :meth:`records` gives the same records as
    ``Discrepancy(...)`` per finding, with the kind's impact and owner (:data:`KIND_DEFAULTS`);
    ``facts`` are stored as given (JSON-safe scalars). It writes each field into every record
    with a C-level loop over the slot's descriptor: a frozen record's ``__init__`` costs about
    17,000 machine instructions (ten guarded ``object.__setattr__`` calls), most of a finding's
    cost when a large reconciliation makes tens of thousands. Columns also spare a tuple per
    finding, which the garbage collector would keep scanning while they accumulate.
    """

    __slots__ = ("entities", "facts", "keys", "messages", "severities")

    def __init__(self) -> None:
        self.severities: list[Severity] = []
        self.keys: list[str] = []
        self.entities: list[tuple[tuple[str, str], ...]] = []
        self.messages: list[str] = []
        self.facts: list[Mapping[str, Scalar]] = []

    def add(
        self,
        severity: Severity,
        key: str,
        entities: tuple[tuple[str, str], ...],
        message: str,
        facts: Mapping[str, Scalar],
    ) -> None:
        """One finding."""
        self.severities.append(severity)
        self.keys.append(key)
        self.entities.append(entities)
        self.messages.append(message)
        self.facts.append(facts)

    def __len__(self) -> int:
        return len(self.keys)

    def appenders(self) -> tuple[Callable[[Any], None], ...]:
        """The ``append`` of each column, in :meth:`add`'s order (severities, keys, entities,
        messages, facts): a detector's loop calls them without a method call per finding."""
        return (
            self.severities.append,
            self.keys.append,
            self.entities.append,
            self.messages.append,
            self.facts.append,
        )

    def records(self, kind: DiscrepancyKind, *, shop: str, now: datetime) -> list[Discrepancy]:
        """The findings as records of ``kind`` for ``shop``, detected at ``now``."""
        _, impact, owner = KIND_DEFAULTS[kind]
        # records_by_column refuses columns of another length than the keys (ValueError).
        return records_by_column(
            Discrepancy,
            len(self.keys),
            {
                "kind": repeat(kind),
                "severity": self.severities,
                "impact": repeat(impact),
                "owner": repeat(owner),
                "key": self.keys,
                "shop": repeat(shop),
                "entities": self.entities,
                "message": self.messages,
                "detected_at": repeat(now),
                "facts": self.facts,
            },
        )


def sort_discrepancies(items: list[Discrepancy]) -> list[Discrepancy]:
    """Most severe first, then by key (deterministic)."""
    # One bucket per severity (most severe first), each sorted by key at C level: the same
    # stable order as sorting on ``(-severity.rank, key)``.
    buckets: dict[Severity, list[Discrepancy]] = {s: [] for s in _MOST_SEVERE_FIRST}
    try:
        for d in items:
            buckets[d.severity].append(d)
    except KeyError:
        return sorted(items, key=lambda d: (-d.severity.rank, d.key))
    out: list[Discrepancy] = []
    for bucket in buckets.values():
        bucket.sort(key=_KEY)
        out.extend(bucket)
    return out


_MOST_SEVERE_FIRST: Final = sorted(Severity, key=lambda s: -s.rank)
_KEY: Final = operator.attrgetter("key")


def _max_ages(value: Mapping[str, timedelta]) -> dict[str, timedelta]:
    return dict(value)


DEFAULT_SYNC_MAX_AGE: Final[Mapping[str, timedelta]] = {
    "orders": timedelta(minutes=15),
    "acceptance": timedelta(minutes=15),
    "stock": timedelta(minutes=30),
    "stock_full": timedelta(hours=26),
    "forecast": timedelta(hours=26),
    "finance": timedelta(hours=26),
}


@attrs.frozen(kw_only=True)
class Thresholds:
    """When a finding becomes a discrepancy. Defaults:

    * ``oversell_margin`` 0: Mirakl showing even one unit more than is safely available is
      ``OVERSELL_RISK``.
    * ``drift_tolerance`` 2 units: Mirakl lowers an offer's quantity by itself on every order, so a
      gap of a couple of units between the export and the last push is normal; a larger gap (or any
      rise) is ``STOCK_DRIFT`` and the offer is pushed again.
    * ``import_stuck_after`` 1 h: a stock import still WAITING/RUNNING is reported.
    * ``acceptance_warning`` 12 h / ``acceptance_critical`` 2 h before the acceptance deadline.
    * ``orphan_grace`` 30 min: an order Mirakl has that our ledger (or the inventory system's
      sales orders) lacks.
    * ``forecast_lag`` 36 h: Inventory Planner pulls feeds daily, so a line missing from the
      exported sales after a day and a half is ``SALES_NOT_IN_FORECAST``.
    * ``ship_confirm_after`` 2 h: fulfilled in the warehouse but still SHIPPING on Mirakl.
    * ``tracking_grace`` 1 h: shipped (or fulfilled) without a tracking number.
    * ``refund_grace`` 24 h: a host return not refunded on Mirakl.
    * ``money_tolerance`` 0.00: finance must balance to the cent.
    * ``sync_max_age``: per job name, the age of the last successful run above which the job is
      ``SYNC_STALE`` (orders/acceptance 15 min, stock 30 min, stock_full/forecast/finance 26 h);
      ``default_sync_max_age`` 1 h for other job names.
    """

    oversell_margin: int = 0
    drift_tolerance: int = 2
    import_stuck_after: timedelta = timedelta(hours=1)
    acceptance_warning: timedelta = timedelta(hours=12)
    acceptance_critical: timedelta = timedelta(hours=2)
    orphan_grace: timedelta = timedelta(minutes=30)
    forecast_lag: timedelta = timedelta(hours=36)
    ship_confirm_after: timedelta = timedelta(hours=2)
    tracking_grace: timedelta = timedelta(hours=1)
    refund_grace: timedelta = timedelta(hours=24)
    money_tolerance: Decimal = Decimal("0.00")
    sync_max_age: Mapping[str, timedelta] = attrs.field(
        factory=lambda: dict(DEFAULT_SYNC_MAX_AGE), converter=_max_ages, hash=False
    )
    default_sync_max_age: timedelta = timedelta(hours=1)

    def max_age(self, job: str) -> timedelta:
        return self.sync_max_age.get(job, self.default_sync_max_age)
