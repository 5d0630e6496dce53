"""The simulated Inventory Planner account: warehouses, vendors, variants with stock per
warehouse and replenishment fields, purchase orders (create, update, receive), webhooks, and the
data the CSV connectors deliver (see ``connector.py``). Pure state, no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["IPError", "InventoryPlannerState", "PurchaseOrder", "SalesRow", "Variant", "Warehouse"]

JSON = Any
OPEN_PO_STATUSES = frozenset({"open", "draft", "partially_received"})
PO_STATUSES = frozenset({"open", "draft", "partially_received", "closed", "cancelled"})


class IPError(Exception):
    """A request Inventory Planner refuses: ``{"result": {"status": "error", "message"}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def iso(value: datetime | None) -> str | None:
    """``2026-01-05T09:00:00+00:00`` as Inventory Planner writes timestamps."""
    return None if value is None else value.isoformat(timespec="seconds")


@dataclass
class Warehouse:
    name: str
    display_name: str
    type: str = "warehouse"
    connection: str | None = None
    currency: str = "EUR"
    disabled: bool = False

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "type": self.type,
            "disabled": self.disabled,
            "connection": self.connection,
            "currency": self.currency,
        }


@dataclass
class Variant:
    id: int
    sku: str
    title: str
    product_id: str
    price: Decimal
    cost_price: Decimal
    created_at: datetime
    updated_at: datetime
    barcode: str = ""
    vendor: str | None = None
    stock: dict[str, float] = field(default_factory=dict)
    lead_time: int = 14
    review_period: int = 30
    minimum_stock: int = 0
    daily_sales: float = 1.0
    removed: bool = False
    replenishment_notes: str = ""


@dataclass
class POItem:
    id: int
    variant_id: int
    sku: str
    title: str
    replenishment: int
    received: int = 0
    cost_price: Decimal = Decimal("0")


@dataclass
class PurchaseOrder:
    id: int
    reference: str
    status: str
    warehouse: str
    vendor: str | None
    currency: str
    created_at: datetime
    updated_at: datetime
    items: list[POItem]
    expected_date: str | None = None
    notes: str = ""
    type: str = "po"
    received_date: str | None = None
    history: list[JSON] = field(default_factory=list)


@dataclass
class SalesRow:
    """One sales-order line delivered by a CSV connector."""

    order_id: str
    line_id: str
    sku: str
    warehouse: str
    quantity: float
    price: Decimal
    date: str
    cancelled: bool = False


class InventoryPlannerState:
    """All data of one simulated Inventory Planner account."""

    def __init__(self, *, now: Callable[[], datetime]) -> None:
        self._now = now
        self.warehouses: dict[str, Warehouse] = {}
        self.vendors: dict[str, JSON] = {}
        self.variants: dict[int, Variant] = {}
        self.purchase_orders: dict[int, PurchaseOrder] = {}
        self.webhooks: dict[int, JSON] = {}
        self.sales: list[SalesRow] = []
        self._ids = {"variant": 100000, "po": 5000, "item": 90000, "webhook": 10}

    def now(self) -> datetime:
        return self._now()

    def next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # -- setup -----------------------------------------------------------------------------

    def add_warehouse(self, name: str, display_name: str | None = None, **kw: Any) -> Warehouse:
        warehouse = Warehouse(name, display_name or name, **kw)
        self.warehouses[name] = warehouse
        return warehouse

    def add_vendor(self, name: str, **fields: Any) -> JSON:
        vendor = {"id": name.lower(), "name": name, "display_name": name, **fields}
        self.vendors[vendor["id"]] = vendor
        return vendor

    def add_variant(
        self,
        sku: str,
        *,
        stock: dict[str, float] | None = None,
        title: str | None = None,
        price: Decimal | str = "19.99",
        cost_price: Decimal | str = "8.00",
        vendor: str | None = None,
        lead_time: int = 14,
        review_period: int = 30,
        daily_sales: float = 1.0,
        product_id: str | None = None,
    ) -> Variant:
        now = self.now()
        for name in stock or {}:
            if name not in self.warehouses:
                self.add_warehouse(name)
        if vendor is not None and vendor.lower() not in self.vendors:
            self.add_vendor(vendor)
        variant = Variant(
            id=self.next_id("variant"),
            sku=sku,
            title=title or f"Product {sku}",
            product_id=product_id or f"P-{sku}",
            price=Decimal(str(price)),
            cost_price=Decimal(str(cost_price)),
            created_at=now,
            updated_at=now,
            barcode=f"{4000000000000 + len(self.variants):013d}",
            vendor=vendor,
            stock=dict(stock or {}),
            lead_time=lead_time,
            review_period=review_period,
            daily_sales=daily_sales,
        )
        self.variants[variant.id] = variant
        return variant

    def variant_by_sku(self, sku: str) -> Variant | None:
        return next((v for v in self.variants.values() if v.sku == sku and not v.removed), None)

    def variant(self, variant_id: int | str) -> Variant:
        try:
            key = int(variant_id)
        except ValueError:
            key = -1
        variant = self.variants.get(key)
        if variant is None:
            raise IPError(404, f"Failed to find variant {variant_id}")
        return variant

    # -- derived metrics -------------------------------------------------------------------

    def on_order(self, variant_id: int, warehouse: str | None = None) -> int:
        total = 0
        for po in self.purchase_orders.values():
            if po.status in OPEN_PO_STATUSES and (warehouse is None or po.warehouse == warehouse):
                total += sum(
                    max(0, i.replenishment - i.received)
                    for i in po.items
                    if i.variant_id == variant_id
                )
        return total

    def replenishment(self, variant: Variant, warehouse: str | None = None) -> int:
        """Suggested order quantity: cover lead time + review period, minus stock and on-order."""
        stock = variant.stock.get(warehouse, 0) if warehouse else sum(variant.stock.values())
        share = 1.0 if warehouse is None else 1.0 / max(1, len(variant.stock))
        need = variant.daily_sales * share * (variant.lead_time + variant.review_period)
        need += variant.minimum_stock
        return max(0, round(need - stock - self.on_order(variant.id, warehouse)))

    def variant_json(self, variant: Variant) -> JSON:
        in_stock = sum(variant.stock.values())
        oos = round(in_stock / variant.daily_sales) if variant.daily_sales > 0 else None
        blocks = []
        for name, qty in sorted(variant.stock.items()):
            blocks.append(
                {
                    "warehouse": name,
                    "in_stock": qty,
                    "replenishment": self.replenishment(variant, name),
                    "lead_time": variant.lead_time,
                    "review_period": variant.review_period,
                    "minimum_stock": variant.minimum_stock,
                    "purchase_orders_qty": self.on_order(variant.id, name),
                    "replenishment_notes": variant.replenishment_notes,
                }
            )
        vendors = (
            [{"vendor": variant.vendor, "cost_price": float(variant.cost_price)}]
            if variant.vendor
            else []
        )
        return {
            "id": variant.id,
            "sku": variant.sku,
            "title": variant.title,
            "product_id": variant.product_id,
            "product_title": variant.title,
            "barcode": variant.barcode,
            "price": float(variant.price),
            "cost_price": float(variant.cost_price),
            "removed": variant.removed,
            "in_stock": in_stock,
            "replenishment": self.replenishment(variant),
            "purchase_orders_qty": self.on_order(variant.id),
            "lead_time": variant.lead_time,
            "review_period": variant.review_period,
            "minimum_stock": variant.minimum_stock,
            "oos": oos,
            "under_value": 0.0 if in_stock > 0 else float(variant.price * 30),
            "total_sales": sum(
                s.quantity for s in self.sales if s.sku == variant.sku and not s.cancelled
            ),
            "vendor": variant.vendor,
            "connections": [{"sku": variant.sku, "connection_main": True, "vendors": vendors}],
            "warehouse": blocks,
            "created_at": iso(variant.created_at),
            "updated_at": iso(variant.updated_at),
        }

    # -- purchase orders -------------------------------------------------------------------

    def po_json(self, po: PurchaseOrder) -> JSON:
        items = [
            {
                "id": i.id,
                "variant": i.variant_id,
                "sku": i.sku,
                "title": i.title,
                "replenishment": i.replenishment,
                "received": i.received,
                "remaining": max(0, i.replenishment - i.received),
                "cost_price": float(i.cost_price),
                "total": float(i.cost_price * i.replenishment),
            }
            for i in po.items
        ]
        warehouse = self.warehouses.get(po.warehouse)
        return {
            "id": po.id,
            "reference": po.reference,
            "status": po.status,
            "type": po.type,
            "source_type": "vendor",
            "vendor": po.vendor,
            "vendor_display_name": po.vendor,
            "warehouse": po.warehouse,
            "warehouse_display_name": warehouse.display_name if warehouse else po.warehouse,
            "currency": po.currency,
            "created_date": po.created_at.date().isoformat(),
            "expected_date": po.expected_date,
            "received_date": po.received_date,
            "notes": po.notes,
            "items": items,
            "total": sum(i["total"] for i in items),
            "total_ordered": sum(i.replenishment for i in po.items),
            "total_received": sum(i.received for i in po.items),
            "history": po.history,
            "created_at": iso(po.created_at),
            "updated_at": iso(po.updated_at),
            "last_modified": iso(po.updated_at),
        }

    @staticmethod
    def _status(raw: JSON) -> str:
        status = str(raw).strip().lower().replace(" ", "_")
        if status not in PO_STATUSES:
            raise IPError(400, f"Unknown status {raw}")
        return status

    def create_po(self, body: JSON) -> PurchaseOrder:
        if not isinstance(body, dict):
            raise IPError(400, "purchase-order is required")
        warehouse = body.get("warehouse")
        if not warehouse:
            raise IPError(400, "warehouse is required")
        if warehouse not in self.warehouses:
            raise IPError(400, f"Failed to find warehouse {warehouse}")
        vendor = body.get("vendor")
        if vendor is not None and str(vendor).lower() not in self.vendors:
            raise IPError(400, f"Failed to find vendor {vendor}")
        items: list[POItem] = []
        for raw in body.get("items") or []:
            variant = self.variant(raw.get("id") or raw.get("variant") or "")
            qty = raw.get("replenishment")
            if not isinstance(qty, int) or qty <= 0:
                raise IPError(400, "replenishment must be a positive integer")
            cost = Decimal(str(raw.get("cost_price", variant.cost_price)))
            items.append(
                POItem(self.next_id("item"), variant.id, variant.sku, variant.title, qty, 0, cost)
            )
        if body.get("variants_filter") is not None and not items:
            for variant in self._filter_variants(body["variants_filter"]):
                qty = self.replenishment(variant, warehouse)
                if qty > 0:
                    items.append(
                        POItem(
                            self.next_id("item"),
                            variant.id,
                            variant.sku,
                            variant.title,
                            qty,
                            0,
                            variant.cost_price,
                        )
                    )
        if not items:
            raise IPError(400, "A purchase order needs items or a variants_filter")
        now = self.now()
        po_id = self.next_id("po")
        po = PurchaseOrder(
            id=po_id,
            reference=str(body.get("reference") or f"PO-{po_id}"),
            status=self._status(body.get("status", "open")),
            warehouse=warehouse,
            vendor=vendor,
            currency=str(body.get("currency") or self.warehouses[warehouse].currency),
            created_at=now,
            updated_at=now,
            items=items,
            expected_date=body.get("expected_date"),
            notes=str(body.get("notes") or ""),
        )
        self.purchase_orders[po.id] = po
        return po

    def _filter_variants(self, flt: JSON) -> list[Variant]:
        out = []
        for variant in self.variants.values():
            if variant.removed:
                continue
            if flt.get("vendor") and (variant.vendor or "").lower() != str(flt["vendor"]).lower():
                continue
            out.append(variant)
        return out

    def po(self, po_id: int | str) -> PurchaseOrder:
        try:
            key = int(po_id)
        except ValueError:
            key = -1
        po = self.purchase_orders.get(key)
        if po is None:
            raise IPError(404, f"Failed to find purchase-order {po_id}")
        return po

    def update_po(self, po_id: int | str, body: JSON) -> PurchaseOrder:
        po = self.po(po_id)
        if not isinstance(body, dict):
            raise IPError(400, "purchase-order is required")
        if "status" in body:
            po.status = self._status(body["status"])
        for name in ("reference", "expected_date", "notes"):
            if name in body:
                setattr(po, name, body[name])
        po.updated_at = self.now()
        return po

    def receive(self, po_id: int | str, items: JSON) -> PurchaseOrder:
        """Record cumulative ``received`` quantities per item; stock grows by the difference."""
        po = self.po(po_id)
        if po.status in ("closed", "cancelled"):
            raise IPError(400, f"Purchase order {po.id} is {po.status}")
        if not isinstance(items, list) or not items:
            raise IPError(400, "items is required")
        by_id = {i.id: i for i in po.items}
        plan = []
        for raw in items:
            item_id = raw.get("id") if isinstance(raw, dict) else None
            # Inventory Planner ids travel as strings ("1234") as often as numbers.
            if isinstance(item_id, str) and item_id.isdigit():
                item_id = int(item_id)
            item = by_id.get(item_id) if isinstance(item_id, int) else None
            received = raw.get("received") if isinstance(raw, dict) else None
            if item is None:
                raise IPError(400, f"Failed to find item {raw}")
            if not isinstance(received, int) or received < 0:
                raise IPError(400, "received must be a non-negative integer")
            plan.append((item, received))
        now = self.now()
        for item, received in plan:
            delta = received - item.received
            item.received = received
            variant = self.variants[item.variant_id]
            variant.stock[po.warehouse] = variant.stock.get(po.warehouse, 0) + delta
            variant.updated_at = now
            po.history.append({"date": int(now.timestamp()), "item": item.id, "value": delta})
        if all(i.received >= i.replenishment for i in po.items):
            po.status = "closed"
        elif any(i.received for i in po.items):
            po.status = "partially_received"
        po.received_date = now.date().isoformat()
        po.updated_at = now
        return po
