"""Everything a job needs for one shop, and the ledger conventions shared by the jobs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Final

import attrs

from mirakl_sync.core.acceptance import AcceptancePolicy
from mirakl_sync.core.discrepancy import Thresholds
from mirakl_sync.core.mapping import MappingEntry, Resolved, SkuMap, SkuRule
from mirakl_sync.core.models import ItemSku, Order, OrderId, OrderLedger, OrderLineId
from mirakl_sync.core.orders import LifecyclePolicy
from mirakl_sync.core.stock import StockPolicy
from mirakl_sync.engine.adapters import order_from_json
from mirakl_sync.engine.config import ShopConfig
from mirakl_sync.engine.protocols import OrderSink, StockLevels, StockSource
from mirakl_sync.mirakl import MiraklClient
from mirakl_sync.storage import Storage
from mirakl_sync.storage.records import LedgerLine, LedgerOrder, OutboxItem, OutboxStatus

__all__ = ["LedgerState", "ShopRuntime"]


class LedgerState:
    """``LedgerOrder.ledger_state`` values: what the engine has done for an order."""

    NEW = "NEW"
    ACCEPT_PLANNED = "ACCEPT_PLANNED"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    MANUAL = "MANUAL"
    ACCEPT_FAILED = "ACCEPT_FAILED"
    SALES_ORDER_CREATED = "SALES_ORDER_CREATED"
    CLOSED = "CLOSED"

    ACCEPTANCE_SENT = frozenset({ACCEPT_PLANNED, ACCEPTED, REFUSED, SALES_ORDER_CREATED, CLOSED})
    # Every state but CLOSED: the orders the lifecycle job still acts on.
    OPEN = frozenset(
        {NEW, ACCEPT_PLANNED, ACCEPTED, REFUSED, MANUAL, ACCEPT_FAILED, SALES_ORDER_CREATED}
    )


class FeedStatus:
    """``LedgerLine.feed_status`` values for the Inventory Planner sales feed."""

    PENDING = "PENDING"
    PUBLISHED = "PUBLISHED"


# The outbox kinds ledger_view reads (OR23 tracking, OR24 ship, ST01 shipment, OR28 refund).
TRACKING_KIND: Final = "OR23"
SHIP_KIND: Final = "OR24"
SHIPMENT_KIND: Final = "ST01"
REFUND_KIND: Final = "OR28"
LEDGER_KINDS: Final = frozenset({TRACKING_KIND, SHIP_KIND, SHIPMENT_KIND, REFUND_KIND})


@attrs.define(kw_only=True)
class ShopRuntime:
    """One shop's collaborators: config, Mirakl client, storage, plug-ins, clock, policies."""

    config: ShopConfig
    mirakl: MiraklClient
    storage: Storage
    stock_source: StockSource
    order_sink: OrderSink
    now: Callable[[], datetime]
    worker: str
    thresholds: Thresholds = attrs.field(factory=Thresholds)
    mapping_entries: tuple[MappingEntry, ...] = ()
    mapping_rules: tuple[SkuRule, ...] = ()
    _stock_cache: StockLevels | None = attrs.field(default=None, init=False, repr=False)

    @property
    def shop(self) -> str:
        return self.config.key

    @property
    def acceptance_policy(self) -> AcceptancePolicy:
        return AcceptancePolicy(
            allow_refusal=self.config.allow_refusal,
            window=self.config.acceptance_window,
        )

    @property
    def lifecycle_policy(self) -> LifecyclePolicy:
        return LifecyclePolicy(
            create_sales_order_on=self.config.sales_order_on, acceptance=self.acceptance_policy
        )

    @property
    def stock_policy(self) -> StockPolicy:
        return StockPolicy(
            safety_buffer=self.config.safety_buffer, max_published=self.config.max_published
        )

    # -- stock ----------------------------------------------------------------------------

    def stock_levels(self) -> StockLevels:
        """The stock source's levels, read once and shared by the jobs of one round (acceptance,
        push, feed and reconciliation all see the same snapshot; one source read, not four)."""
        if self._stock_cache is None:
            self._stock_cache = self.stock_source.stock_levels(self.config)
        return self._stock_cache

    def forget_stock_levels(self) -> None:
        """Drop the round's snapshot: the next :meth:`stock_levels` reads the source again."""
        self._stock_cache = None

    # -- mapping --------------------------------------------------------------------------

    def sku_map(self, items: Iterable[str] | Mapping[str, object] = ()) -> SkuMap:
        """Explicit mappings (given to the synchronizer, then stored ones), configured rules,
        and identity for the rest: an offer SKU equal to an item SKU maps to it."""
        entries: list[MappingEntry] = list(self.mapping_entries)
        entries.extend(
            MappingEntry.bundle(record.offer_sku, dict(record.components))
            for record in self.storage.list_mappings(self.shop)
            if record.components
        )
        return SkuMap(entries, items=items, rules=self.mapping_rules)

    # -- ledger -----------------------------------------------------------------------------

    def orders(
        self,
        *,
        states: Iterable[str] | None = None,
        ledger_states: Iterable[str] | None = None,
    ) -> list[tuple[LedgerOrder, Order]]:
        """Ledger orders with their core snapshot (optionally only some Mirakl states, or some
        ledger states: the filter runs in storage)."""
        records = self.storage.list_orders(
            self.shop,
            mirakl_states=list(states) if states is not None else None,
            ledger_states=list(ledger_states) if ledger_states is not None else None,
        )
        return [
            (record, order_from_json(record.data))
            for record in records
            if isinstance(record.data, Mapping)
        ]

    def outbox_index(self) -> dict[str, list[OutboxItem]]:
        """What :meth:`ledger_view` reads of the outbox, per order id: the confirmed items of
        the kinds it looks at. Only those are read from storage: the others (every stock push
        with its lines, among them) grow with the shop's history."""
        index: dict[str, list[OutboxItem]] = {}
        items = self.storage.list_items(
            shop=self.shop, statuses=[OutboxStatus.CONFIRMED], kinds=LEDGER_KINDS
        )
        for item in items:
            if isinstance(item.payload, dict) and "order_id" in item.payload:
                index.setdefault(str(item.payload["order_id"]), []).append(item)
        return index

    def ledger_view(
        self,
        record: LedgerOrder,
        lines: Iterable[LedgerLine],
        outbox: Iterable[OutboxItem] = (),
    ) -> OrderLedger:
        """The core's view of what the engine did for an order."""
        line_list = list(lines)
        state = record.ledger_state
        confirmed = [i for i in outbox if i.status == OutboxStatus.CONFIRMED]
        refunded = frozenset(
            str(i.payload["return_id"])
            for i in confirmed
            if i.kind == REFUND_KIND and isinstance(i.payload, dict)
        )
        return OrderLedger(
            order_id=OrderId(record.order_id),
            first_seen_at=record.created_at,
            acceptance_sent=state in LedgerState.ACCEPTANCE_SENT,
            acceptance_failed=state == LedgerState.ACCEPT_FAILED,
            sales_order_created=record.sales_order_ref is not None,
            reservation_held=any(line.reserved_quantity > 0 for line in line_list),
            tracking_sent=any(
                i.kind == TRACKING_KIND
                or (
                    i.kind == SHIPMENT_KIND
                    and isinstance(i.payload, dict)
                    and i.payload.get("tracking_number")
                )
                for i in confirmed
            ),
            ship_sent=any(i.kind in (SHIP_KIND, SHIPMENT_KIND) for i in confirmed),
            refunded_return_ids=refunded,
            forecast_exported_line_ids=frozenset(
                OrderLineId(line.line_id)
                for line in line_list
                if line.feed_status == FeedStatus.PUBLISHED
            ),
        )

    def reserved_items(self, sku_map: SkuMap) -> dict[ItemSku, int]:
        """Soft reservations in inventory-item units (offer units x components).

        Read from storage's total per offer (an indexed query over the lines that hold a
        reservation), not from every ledger line of the shop's history."""
        reserved: dict[ItemSku, int] = {}
        for offer_sku, offer_units in self.storage.reservations(self.shop).items():
            resolved = sku_map.resolve(offer_sku, self.config.marketplace)
            if not isinstance(resolved, Resolved):
                continue
            for component in resolved.components:
                units = component.quantity * offer_units
                reserved[component.item] = reserved.get(component.item, 0) + units
        return reserved
