"""The pure mapping and reconciliation core: it decides what should be true.

No I/O, no clock, no randomness: every function takes snapshots, configuration and ``now`` and
returns decisions and discrepancies as data. Submodules:

* :mod:`~mirakl_sync.core.models`: wire-independent domain types and Mirakl order states;
* :mod:`~mirakl_sync.core.mapping`: offer SKU -> item(s) (:class:`SkuMap`);
* :mod:`~mirakl_sync.core.stock`: publishable quantities and the stock delta;
* :mod:`~mirakl_sync.core.quantities`: offer -> quantity held by column (:class:`OfferQuantities`);
* :mod:`~mirakl_sync.core.acceptance`: ACCEPT / REFUSE_LINES / MANUAL per order;
* :mod:`~mirakl_sync.core.orders`: the next due actions of each order;
* :mod:`~mirakl_sync.core.finance`: order value vs commission vs refunds vs TL02;
* :mod:`~mirakl_sync.core.reconcile`: the discrepancy detectors and :func:`reconcile`.
"""

from __future__ import annotations

from mirakl_sync.core.acceptance import (
    AcceptanceDecision,
    AcceptancePlan,
    AcceptancePolicy,
    Decision,
    LineDecision,
    LineReason,
    acceptance_deadline,
    decide_acceptance,
)
from mirakl_sync.core.discrepancy import (
    Discrepancy,
    DiscrepancyKind,
    Impact,
    OwnerTeam,
    Severity,
    Thresholds,
)
from mirakl_sync.core.finance import (
    FinanceReport,
    OrderFinance,
    SalesOrderLine,
    Transaction,
    order_finance,
    reconcile_finance,
    sales_order_lines,
)
from mirakl_sync.core.mapping import (
    MappingEntry,
    MappingTable,
    Normalisation,
    Resolved,
    SkuMap,
    SkuRule,
    Unresolved,
    UnresolvedReason,
)
from mirakl_sync.core.models import (
    GLOBAL_WAREHOUSE,
    FulfilmentEvent,
    ItemSku,
    Marketplace,
    OfferSku,
    Order,
    OrderId,
    OrderLedger,
    OrderLine,
    OrderLineId,
    OrderState,
    Refund,
    ReturnEvent,
    ShopId,
    WarehouseCode,
)
from mirakl_sync.core.orders import (
    ActionKind,
    DueAction,
    LifecyclePolicy,
    OrderPlan,
    OrderPlans,
    PlanStatus,
    next_actions,
    plan_orders,
)
from mirakl_sync.core.quantities import OfferQuantities
from mirakl_sync.core.reconcile import (
    DETECTORS,
    Snapshots,
    StockImport,
    StockImportError,
    StockSnapshot,
    compare_stock,
    reconcile,
)
from mirakl_sync.core.report import ReconciliationReport
from mirakl_sync.core.stock import (
    StockDelta,
    StockPolicy,
    publishable_by_warehouse,
    publishable_quantities,
    publishable_quantity,
    stock_delta,
)

__all__ = [
    "DETECTORS",
    "GLOBAL_WAREHOUSE",
    "AcceptanceDecision",
    "AcceptancePlan",
    "AcceptancePolicy",
    "ActionKind",
    "Decision",
    "Discrepancy",
    "DiscrepancyKind",
    "DueAction",
    "FinanceReport",
    "FulfilmentEvent",
    "Impact",
    "ItemSku",
    "LifecyclePolicy",
    "LineDecision",
    "LineReason",
    "MappingEntry",
    "MappingTable",
    "Marketplace",
    "Normalisation",
    "OfferQuantities",
    "OfferSku",
    "Order",
    "OrderFinance",
    "OrderId",
    "OrderLedger",
    "OrderLine",
    "OrderLineId",
    "OrderPlan",
    "OrderPlans",
    "OrderState",
    "OwnerTeam",
    "PlanStatus",
    "ReconciliationReport",
    "Refund",
    "Resolved",
    "ReturnEvent",
    "SalesOrderLine",
    "Severity",
    "ShopId",
    "SkuMap",
    "SkuRule",
    "Snapshots",
    "StockDelta",
    "StockImport",
    "StockImportError",
    "StockPolicy",
    "StockSnapshot",
    "Thresholds",
    "Transaction",
    "Unresolved",
    "UnresolvedReason",
    "WarehouseCode",
    "acceptance_deadline",
    "compare_stock",
    "decide_acceptance",
    "next_actions",
    "order_finance",
    "plan_orders",
    "publishable_by_warehouse",
    "publishable_quantities",
    "publishable_quantity",
    "reconcile",
    "reconcile_finance",
    "sales_order_lines",
    "stock_delta",
]
