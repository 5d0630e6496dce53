"""Inventory Planner's CSV connectors, simulated: the files the feeds produce can be loaded into
the sandbox and checked end to end.

* **Starter CSV connector** (:meth:`CsvConnectors.import_starter`): full-snapshot products,
  sales-orders and optional purchase-orders files for one connection = one warehouse. Rows
  missing from a new snapshot are deleted, as Inventory Planner does on its daily pull.
  :meth:`CsvConnectors.pull_starter` fetches the three files over HTTP (HEAD then GET), as
  Inventory Planner does from the permanent URLs.
* **Advanced CSV connector** (:meth:`CsvConnectors.import_advanced`): incremental per-entity files
  (warehouse, variant, variant_warehouse, sales_order, vendor). A missing required column or any
  unsupported column rejects the whole file; ``REMOVED=true`` soft-deletes; re-sent records
  replace earlier ones.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from mirakl_sync.sandbox.inventory_planner.state import InventoryPlannerState, SalesRow

__all__ = ["ADVANCED_COLUMNS", "ConnectorReport", "CsvConnectors"]

STARTER_PRODUCT_REQUIRED = ("product_id", "title", "price", "sku", "created_at", "stock_quantity")
STARTER_SALES_REQUIRED = ("order_number", "product_id", "sku", "date", "price", "quantity")
STARTER_PO_REQUIRED = ("po_id", "sku", "ordered")

#: entity -> (required columns, optional columns)
ADVANCED_COLUMNS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "warehouse": (
        frozenset({"WAREHOUSE_ID", "DISPLAY_NAME", "UPDATED_AT", "REMOVED"}),
        frozenset({"CURRENCY", "BILLING_ADDRESS", "SHIPPING_ADDRESS"}),
    ),
    "variant": (
        frozenset(
            {
                "VARIANT_ID",
                "SKU",
                "TITLE",
                "BARCODE",
                "PRODUCT_ID",
                "PRICE",
                "CREATED_AT",
                "UPDATED_AT",
                "REMOVED",
            }
        ),
        frozenset(
            {
                "TYPE",
                "IMAGE",
                "HANDLE",
                "COST_PRICE",
                "VENDOR",
                "BRAND",
                "OPTIONS",
                "TAGS",
                "PRODUCT_TITLE",
            }
        ),
    ),
    "variant_warehouse": (
        frozenset({"VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT"}),
        frozenset({"GROSS_WEIGHT", "MIN_STOCK", "MAX_STOCK", "MAX_ORDER", "TRANSFER_UOM"}),
    ),
    "sales_order": (
        frozenset(
            {
                "ORDER_ID",
                "ID",
                "VARIANT_ID",
                "WAREHOUSE",
                "CURRENCY",
                "QUANTITY",
                "PRICE",
                "CREATED_AT",
                "REMOVED",
                "UPDATED_AT",
            }
        ),
        frozenset(
            {
                "REFERENCE",
                "REFERENCE2",
                "ORIGINAL_COST_PRICE",
                "CUSTOMER",
                "DISCOUNT",
                "TAX",
                "TAX_INCLUDED",
                "SHIPPING",
                "SHIPPING_TAX",
                "CANCELLED",
            }
        ),
    ),
    "vendor": (
        frozenset({"VENDOR_ID", "DISPLAY_NAME", "CURRENCY", "REMOVED", "UPDATED_AT"}),
        frozenset({"DISCOUNT", "TAX", "EMAIL", "VENDOR_ADDRESS"}),
    ),
}


@dataclass
class ConnectorReport:
    """What a connector run did. ``accepted`` is false when a file was rejected as a whole."""

    accepted: bool
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    removed: int = 0
    sales_rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "errors": self.errors,
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "sales_rows": self.sales_rows,
        }


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = "\t" if "\t" in first else (";" if ";" in first and "," not in first else ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    return header, [
        dict(zip(header, r, strict=False)) for r in rows[1:] if any(c.strip() for c in r)
    ]


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _number(value: str | None) -> Decimal:
    try:
        return Decimal((value or "0").strip() or "0")
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None


class CsvConnectors:
    """The CSV connections of one simulated account."""

    def __init__(self, state: InventoryPlannerState) -> None:
        self.state = state
        self.connections: dict[str, str] = {}
        self.external_variants: dict[str, int] = {}
        self.files_received: list[tuple[str, str]] = []

    def _warehouse_for(self, connection: str) -> str:
        if connection not in self.connections:
            name = f"c{len(self.connections) + 1}_csv"
            self.connections[connection] = name
            self.state.add_warehouse(name, connection, type="csv", connection=connection)
        return self.connections[connection]

    def import_starter(
        self,
        connection: str,
        products: str,
        sales_orders: str,
        purchase_orders: str | None = None,
    ) -> ConnectorReport:
        """Load a Starter CSV connection's full snapshot (one warehouse per connection)."""
        self.files_received.append((f"starter:{connection}", products))
        report = ConnectorReport(accepted=True)
        p_header, p_rows = _rows(products)
        s_header, s_rows = _rows(sales_orders)
        lower_p = {h.lower() for h in p_header}
        lower_s = {h.lower() for h in s_header}
        missing = [c for c in STARTER_PRODUCT_REQUIRED if c not in lower_p]
        missing += [c for c in STARTER_SALES_REQUIRED if c not in lower_s]
        if purchase_orders is not None:
            po_header, _ = _rows(purchase_orders)
            missing += [c for c in STARTER_PO_REQUIRED if c not in {h.lower() for h in po_header}]
        if missing:
            return ConnectorReport(accepted=False, errors=[f"missing column {c}" for c in missing])
        warehouse = self._warehouse_for(connection)
        seen: set[str] = set()
        for number, raw in enumerate(p_rows, start=2):
            row = {k.lower(): v.strip() for k, v in raw.items()}
            sku = row["sku"]
            try:
                stock = float(_number(row["stock_quantity"]))
                price = _number(row["price"])
            except ValueError as error:
                report.errors.append(f"products line {number}: {error}")
                continue
            if not sku or not row["product_id"]:
                report.errors.append(f"products line {number}: SKU and product_id are required")
                continue
            seen.add(sku)
            variant = self.state.variant_by_sku(sku)
            if variant is None:
                variant = self.state.add_variant(
                    sku,
                    title=row["title"],
                    price=price,
                    product_id=row["product_id"],
                    cost_price=row.get("cost_price") or "0",
                )
                report.created += 1
            else:
                report.updated += 1
            variant.stock[warehouse] = stock
            variant.updated_at = self.state.now()
        for variant in self.state.variants.values():
            if warehouse in variant.stock and variant.sku not in seen:
                del variant.stock[warehouse]
                report.removed += 1
        self.state.sales = [s for s in self.state.sales if s.warehouse != warehouse]
        for number, raw in enumerate(s_rows, start=2):
            row = {k.lower(): v.strip() for k, v in raw.items()}
            try:
                quantity = float(_number(row["quantity"]))
                price = _number(row["price"])
            except ValueError as error:
                report.errors.append(f"sales line {number}: {error}")
                continue
            self.state.sales.append(
                SalesRow(
                    order_id=row["order_number"],
                    line_id=f"{row['order_number']}:{number}",
                    sku=row["sku"],
                    warehouse=warehouse,
                    quantity=quantity,
                    price=price,
                    date=row["date"],
                    cancelled=_true(row.get("canceled")),
                )
            )
            report.sales_rows += 1
        return report

    def pull_starter(
        self,
        connection: str,
        client: httpx.Client,
        products_url: str,
        sales_orders_url: str,
        purchase_orders_url: str | None = None,
    ) -> ConnectorReport:
        """Fetch the three files as Inventory Planner does (HEAD to verify, then GET)."""
        texts: list[str | None] = []
        for url in (products_url, sales_orders_url, purchase_orders_url):
            if url is None:
                texts.append(None)
                continue
            head = client.head(url)
            if head.status_code >= 400:
                return ConnectorReport(False, [f"HEAD {url} -> {head.status_code}"])
            response = client.get(url)
            if response.status_code >= 400:
                return ConnectorReport(False, [f"GET {url} -> {response.status_code}"])
            texts.append(response.text)
        assert texts[0] is not None
        assert texts[1] is not None
        return self.import_starter(connection, texts[0], texts[1], texts[2])

    def import_advanced(self, entity: str, text: str) -> ConnectorReport:
        """Load one Advanced CSV connector file for ``entity`` (see ``ADVANCED_COLUMNS``)."""
        self.files_received.append((f"advanced:{entity}", text))
        if entity not in ADVANCED_COLUMNS:
            return ConnectorReport(False, [f"unknown entity {entity}"])
        required, optional = ADVANCED_COLUMNS[entity]
        header, rows = _rows(text)
        columns = set(header)
        errors = [f"missing column {c}" for c in sorted(required - columns)]
        errors += [f"unsupported column {c}" for c in sorted(columns - required - optional)]
        if errors:
            return ConnectorReport(False, errors)
        report = ConnectorReport(True)
        handler = getattr(self, f"_advanced_{entity}")
        for number, row in enumerate(rows, start=2):
            try:
                handler(row, report)
            except (ValueError, KeyError) as error:
                report.errors.append(f"line {number}: {error}")
        return report

    def _advanced_warehouse(self, row: dict[str, str], report: ConnectorReport) -> None:
        name = row["WAREHOUSE_ID"]
        if _true(row["REMOVED"]):
            if name in self.state.warehouses:
                self.state.warehouses[name].disabled = True
                report.removed += 1
            return
        existed = name in self.state.warehouses
        self.state.add_warehouse(name, row["DISPLAY_NAME"], currency=row.get("CURRENCY") or "EUR")
        report.updated += existed
        report.created += not existed

    def _advanced_vendor(self, row: dict[str, str], report: ConnectorReport) -> None:
        if _true(row["REMOVED"]):
            report.removed += self.state.vendors.pop(row["DISPLAY_NAME"].lower(), None) is not None
            return
        existed = row["DISPLAY_NAME"].lower() in self.state.vendors
        self.state.add_vendor(
            row["DISPLAY_NAME"], currency=row["CURRENCY"], external_id=row["VENDOR_ID"]
        )
        report.updated += existed
        report.created += not existed

    def _advanced_variant(self, row: dict[str, str], report: ConnectorReport) -> None:
        external = row["VARIANT_ID"]
        internal = self.external_variants.get(external)
        variant = self.state.variants.get(internal) if internal is not None else None
        if _true(row["REMOVED"]):
            if variant is not None:
                variant.removed = True
                report.removed += 1
            return
        if variant is None:
            variant = self.state.add_variant(
                row["SKU"],
                title=row["TITLE"],
                price=_number(row["PRICE"]),
                product_id=row["PRODUCT_ID"],
                cost_price=row.get("COST_PRICE") or "0",
                vendor=row.get("VENDOR") or None,
            )
            self.external_variants[external] = variant.id
            report.created += 1
        else:
            variant.sku, variant.title = row["SKU"], row["TITLE"]
            variant.price = _number(row["PRICE"])
            variant.removed = False
            report.updated += 1
        variant.barcode = row["BARCODE"]
        variant.updated_at = self.state.now()

    def _variant_for(self, external: str) -> int:
        if external not in self.external_variants:
            raise ValueError(f"unknown VARIANT_ID {external}")
        return self.external_variants[external]

    def _advanced_variant_warehouse(self, row: dict[str, str], report: ConnectorReport) -> None:
        variant = self.state.variants[self._variant_for(row["VARIANT_ID"])]
        warehouse = row["WAREHOUSE_ID"]
        if warehouse not in self.state.warehouses:
            raise ValueError(f"unknown WAREHOUSE_ID {warehouse}")
        if _true(row["REMOVED"]):
            report.removed += variant.stock.pop(warehouse, None) is not None
            return
        variant.stock[warehouse] = float(_number(row["IN_STOCK"]))
        if row.get("MIN_STOCK"):
            variant.minimum_stock = int(_number(row["MIN_STOCK"]))
        variant.updated_at = self.state.now()
        report.updated += 1

    def _advanced_sales_order(self, row: dict[str, str], report: ConnectorReport) -> None:
        variant = self.state.variants[self._variant_for(row["VARIANT_ID"])]
        line_id = row["ORDER_ID"]
        self.state.sales = [s for s in self.state.sales if s.line_id != line_id]
        if _true(row["REMOVED"]):
            report.removed += 1
            return
        self.state.sales.append(
            SalesRow(
                order_id=row["ID"],
                line_id=line_id,
                sku=variant.sku,
                warehouse=row["WAREHOUSE"],
                quantity=float(_number(row["QUANTITY"])),
                price=_number(row["PRICE"]),
                date=row["CREATED_AT"],
                cancelled=_true(row.get("CANCELLED")),
            )
        )
        report.sales_rows += 1
