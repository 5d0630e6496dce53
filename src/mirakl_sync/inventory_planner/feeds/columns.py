"""The documented column sets of Inventory Planner's CSV connectors, and a header validator.

The Advanced connector silently drops a whole file when a required column is missing **or any
unsupported column is present**, so the writers emit exactly the columns below and
:func:`check_header` (used by the writers and the tests) rejects anything else. Column sets are
from IP's help-center specs (reference section 9.2-9.3); columns that IP documents but this
library never fills are listed as optional so hand-made files validate too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

__all__ = [
    "ADVANCED",
    "STARTER",
    "ColumnSpec",
    "check_file",
    "check_header",
]


@attrs.frozen
class ColumnSpec:
    """A connector file: its ``required`` and ``optional`` columns and the ``emitted`` header
    the writer produces (required + the optional ones it fills), in order."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    emitted: tuple[str, ...]
    case_sensitive: bool = True

    def problems(self, header: Sequence[str]) -> list[str]:
        """What IP would reject: missing required columns, unknown or duplicate columns."""
        norm = (lambda c: c) if self.case_sensitive else str.lower
        names = [norm(c.strip()) for c in header]
        allowed = {norm(c) for c in (*self.required, *self.optional)}
        out = [f"{self.name}: missing column {c}" for c in self.required if norm(c) not in names]
        out += [f"{self.name}: unknown column {c}" for c in names if c not in allowed]
        out += [
            f"{self.name}: duplicate column {c}" for c in sorted(set(names)) if names.count(c) > 1
        ]
        return out


STARTER: dict[str, ColumnSpec] = {
    "products": ColumnSpec(
        "products",
        required=("product_id", "title", "price", "SKU", "created_at", "stock_quantity"),
        optional=(
            "regular_price",
            "cost_price",
            "landing_cost_price",
            "barcode",
            "updated_at",
            "managing_stock",
            "vendor",
            "permalink",
            "categories",
            "image",
            "brand",
            "options",
            "tags",
            "vendor_reference",
            "moq",
            "uom",
        ),
        emitted=(
            "product_id",
            "SKU",
            "title",
            "price",
            "cost_price",
            "barcode",
            "vendor",
            "created_at",
            "updated_at",
            "stock_quantity",
        ),
        case_sensitive=False,
    ),
    "sales_orders": ColumnSpec(
        "sales_orders",
        required=("order_number", "product_id", "SKU", "date", "price", "quantity"),
        optional=("currency", "canceled"),
        emitted=(
            "order_number",
            "product_id",
            "SKU",
            "date",
            "price",
            "quantity",
            "currency",
            "canceled",
        ),
        case_sensitive=False,
    ),
    "purchase_orders": ColumnSpec(
        "purchase_orders",
        required=("po_id", "SKU", "ordered"),
        optional=(
            "po_name",
            "vendor",
            "date",
            "expected_date",
            "product_id",
            "cost_price",
            "received",
            "receive_date",
            "status",
            "currency",
            "tax",
            "tax_included",
        ),
        emitted=(
            "po_id",
            "po_name",
            "vendor",
            "date",
            "expected_date",
            "product_id",
            "SKU",
            "cost_price",
            "ordered",
            "received",
            "receive_date",
            "status",
            "currency",
        ),
        case_sensitive=False,
    ),
}

ADVANCED: dict[str, ColumnSpec] = {
    "warehouse": ColumnSpec(
        "warehouse",
        required=("WAREHOUSE_ID", "DISPLAY_NAME", "UPDATED_AT", "REMOVED"),
        optional=("CURRENCY", "BILLING_ADDRESS", "SHIPPING_ADDRESS"),
        emitted=("WAREHOUSE_ID", "DISPLAY_NAME", "CURRENCY", "UPDATED_AT", "REMOVED"),
    ),
    "variant": ColumnSpec(
        "variant",
        required=(
            "VARIANT_ID",
            "SKU",
            "TITLE",
            "BARCODE",
            "PRODUCT_ID",
            "PRICE",
            "CREATED_AT",
            "UPDATED_AT",
            "REMOVED",
        ),
        optional=("TYPE", "IMAGE", "HANDLE"),
        emitted=(
            "VARIANT_ID",
            "SKU",
            "TITLE",
            "BARCODE",
            "PRODUCT_ID",
            "PRICE",
            "CREATED_AT",
            "UPDATED_AT",
            "REMOVED",
        ),
    ),
    "variant_warehouse": ColumnSpec(
        "variant_warehouse",
        required=("VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT"),
        optional=("GROSS_WEIGHT", "MIN_STOCK", "MAX_STOCK", "MAX_ORDER", "TRANSFER_UOM"),
        emitted=("VARIANT_ID", "WAREHOUSE_ID", "IN_STOCK", "REMOVED", "UPDATED_AT"),
    ),
    "sales_order": ColumnSpec(
        "sales_order",
        required=(
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
        ),
        optional=(
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
        ),
        emitted=(
            "ORDER_ID",
            "ID",
            "VARIANT_ID",
            "WAREHOUSE",
            "CURRENCY",
            "QUANTITY",
            "PRICE",
            "CREATED_AT",
            "CANCELLED",
            "REMOVED",
            "UPDATED_AT",
        ),
    ),
}

for _spec in (*STARTER.values(), *ADVANCED.values()):
    assert not _spec.problems(_spec.emitted), _spec.problems(_spec.emitted)


def check_header(spec: ColumnSpec, header: Iterable[str]) -> None:
    """Raise ``ValueError`` when ``header`` would make IP drop the file."""
    problems = spec.problems(list(header))
    if problems:
        raise ValueError("; ".join(problems))


def check_file(spec: ColumnSpec, source: Path | str) -> list[str]:
    """Problems with a CSV file (a path, or the text itself): its header against ``spec``, and
    rows whose cell count differs from the header."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return [f"{spec.name}: empty file"]
    problems = spec.problems(header)
    for number, row in enumerate(reader, start=2):
        if len(row) != len(header):
            problems.append(f"{spec.name}: line {number} has {len(row)} cells, not {len(header)}")
    return problems
