"""Offer and stock models: OF21 offers, OF52/OF53/OF54 async export, OF01/OF02/OF03 file imports
and STO01/STO02/STO03 stock imports.

Also the two pure file helpers of the stock flow: :func:`stock_csv` writes the STO01 CSV and
:func:`parse_error_report` reads STO03/OF03 error reports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

import attrs

from mirakl_sync.errors import BODY_EXCERPT_CHARS, ResponseValidationError
from mirakl_sync.mirakl.models.common import (
    AdditionalField,
    DiscountCampaign,
    EcoContribution,
    ExportStatus,
    Fulfillment,
    ImportMode,
    ImportStatus,
    InactivityReason,
)
from mirakl_sync.mirakl.models.orders import ExportTracking

__all__ = [
    "STOCK_CSV_HEADER",
    "ExportError",
    "ExportTracking",
    "ExportedOffer",
    "ImportErrorLine",
    "LogisticClass",
    "Offer",
    "OfferExportRequest",
    "OfferExportStatus",
    "OfferExportTracking",
    "OfferImportResult",
    "OfferImportStatus",
    "ProductReference",
    "StockImportResult",
    "StockImportStatus",
    "StockUpdate",
    "WarehouseQuantity",
    "order_stock_updates",
    "parse_error_report",
    "stock_csv",
]

OfferExportTracking = ExportTracking
"""OF52 answers ``{tracking_id}`` like OR13."""


@attrs.frozen(kw_only=True)
class WarehouseQuantity:
    """Available quantity of an offer in one warehouse (OF21/OF54 ``warehouses[]``)."""

    code: str
    quantity: int | None = None


@attrs.frozen(kw_only=True)
class ProductReference:
    """A product reference such as an EAN (OF21 ``product_references[]``)."""

    reference_type: str | None = None
    reference: str | None = None


@attrs.frozen(kw_only=True)
class LogisticClass:
    """Logistic class of an offer (OF21 ``{code, label}``; OF54 ``{code}``)."""

    code: str | None = None
    label: str | None = None


@attrs.frozen(kw_only=True)
class Offer:
    """A shop offer (OF21 ``offers[]``).

    ``quantity`` is the available quantity (``warehouses`` breaks it down); ``inactivity_reasons``
    says why an inactive offer is not sold (ZERO_QUANTITY...). ``all_prices``,
    ``applicable_pricing``, ``discount`` and ``retail_prices`` are kept as raw JSON.
    """

    offer_id: int
    shop_sku: str
    product_sku: str | None = None
    product_title: str | None = None
    product_references: tuple[ProductReference, ...] = ()
    product_brand: str | None = None
    product_description: str | None = None
    product_tax_code: str | None = None
    category_code: str | None = None
    category_label: str | None = None
    quantity: int | None = None
    warehouses: tuple[WarehouseQuantity, ...] = ()
    active: bool | None = None
    inactivity_reasons: tuple[InactivityReason | str, ...] = ()
    state_code: str | None = None
    description: str | None = None
    internal_description: str | None = None
    price: Decimal | None = None
    total_price: Decimal | None = None
    price_additional_info: str | None = None
    msrp: Decimal | None = None
    currency_iso_code: str | None = None
    leadtime_to_ship: int | None = None
    shipping_deadline: dt.datetime | None = None
    min_order_quantity: int | None = None
    max_order_quantity: int | None = None
    package_quantity: int | None = None
    min_quantity_alert: int | None = None
    logistic_class: LogisticClass | None = None
    min_shipping_price: Decimal | None = None
    min_shipping_price_additional: Decimal | None = None
    min_shipping_type: str | None = None
    min_shipping_zone: str | None = None
    channels: tuple[str, ...] = ()
    fulfillment: Fulfillment | None = None
    available_start_date: dt.datetime | None = None
    available_end_date: dt.datetime | None = None
    favorite_rank: int | None = None
    allow_quote_requests: bool | None = None
    offer_additional_fields: tuple[AdditionalField, ...] = ()
    eco_contributions: tuple[EcoContribution, ...] = ()
    all_prices: tuple[dict[str, Any], ...] = ()
    applicable_pricing: dict[str, Any] | None = None
    discount: dict[str, Any] | None = None
    retail_prices: tuple[dict[str, Any], ...] = ()


@attrs.frozen(kw_only=True)
class ExportedOffer:
    """One offer of an OF54 JSON export chunk (a bare JSON array of these).

    In a differential export (``last_request_date``) ``deleted`` offers carry little more than
    their ids. ``shop_sku`` is required: keep it when using OF52 ``include_fields``.
    ``prices``, ``retail_prices``, ``shipping_types`` and ``measurement`` are raw JSON.
    """

    shop_sku: str
    offer_id: int | None = None
    product_sku: str | None = None
    shop_id: int | None = None
    shop_name: str | None = None
    quantity: int | None = None
    warehouses: tuple[WarehouseQuantity, ...] = ()
    active: bool | None = None
    deleted: bool | None = None
    state_code: str | None = None
    description: str | None = None
    price_additional_info: str | None = None
    currency_iso_code: str | None = None
    leadtime_to_ship: int | None = None
    min_order_quantity: int | None = None
    max_order_quantity: int | None = None
    package_quantity: int | None = None
    min_shipping_price: Decimal | None = None
    min_shipping_price_additional: Decimal | None = None
    min_shipping_type: str | None = None
    min_shipping_zone: str | None = None
    msrp: Decimal | None = None
    product_tax_code: str | None = None
    logistic_class: LogisticClass | None = None
    fulfillment: Fulfillment | None = None
    channels: tuple[str, ...] = ()
    favorite_rank: int | None = None
    allow_quote_requests: bool | None = None
    premium: bool | None = None
    is_professional: bool | None = None
    date_created: dt.datetime | None = None
    last_updated: dt.datetime | None = None
    available_start_date: dt.datetime | None = None
    available_end_date: dt.datetime | None = None
    offer_additional_fields: tuple[AdditionalField, ...] = ()
    eco_contributions: tuple[EcoContribution, ...] = ()
    ongoing_discount_campaigns: tuple[DiscountCampaign, ...] = ()
    prices: tuple[dict[str, Any], ...] = ()
    retail_prices: tuple[dict[str, Any], ...] = ()
    shipping_types: tuple[dict[str, Any], ...] = ()
    measurement: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class OfferExportRequest:
    """Body of OF52 ``POST /api/offers/export/async``.

    Without ``last_request_date`` the export is full (active offers only unless
    ``include_inactive_offers``); with it, differential (updated since, including deleted and
    inactive offers), where ``include_inactive_offers`` is an error.
    """

    export_type: Literal["text/csv", "application/json"] | None = None
    last_request_date: dt.datetime | None = None
    include_inactive_offers: bool | None = None
    include_fields: tuple[str, ...] | None = None
    rename_fields: dict[str, str] | None = None
    channel_codes: tuple[str, ...] | None = None
    shipping_zones: tuple[str, ...] | None = None
    ongoing_discount_campaign_identifiers: tuple[str, ...] | None = None
    items_per_chunk: int | None = None
    megabytes_per_chunk: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.last_request_date is not None and self.include_inactive_offers is not None:
            raise ValueError("include_inactive_offers cannot be used with last_request_date")


@attrs.frozen(kw_only=True)
class ExportError:
    """Why an offer export failed (OF53 ``error``)."""

    code: str | None = None
    detail: str | None = None


@attrs.frozen(kw_only=True)
class OfferExportStatus:
    """Progress of an offer export (OF53). ``urls`` are the OF54 chunks once COMPLETED."""

    status: ExportStatus | str | None = None
    urls: tuple[str, ...] = ()
    last_updated: dt.datetime | None = None
    error: ExportError | None = None


@attrs.frozen(kw_only=True)
class OfferImportResult:
    """Response of OF01 (and OF24): the import to poll with OF02."""

    import_id: int
    product_import_id: int | None = None


@attrs.frozen(kw_only=True)
class OfferImportStatus:
    """Status and counters of an offer import (OF02)."""

    import_id: int
    status: ImportStatus | str | None = None
    reason_status: str | None = None
    mode: ImportMode | str | None = None
    type: str | None = None
    date_created: dt.datetime | None = None
    has_error_report: bool | None = None
    lines_read: int | None = None
    lines_in_success: int | None = None
    lines_in_error: int | None = None
    lines_in_pending: int | None = None
    offer_inserted: int | None = None
    offer_updated: int | None = None
    offer_deleted: int | None = None


@attrs.frozen(kw_only=True)
class StockImportResult:
    """Response of STO01: the stock import to poll with STO02 (a string id)."""

    import_id: str


@attrs.frozen(kw_only=True)
class StockImportStatus:
    """Status of a stock import (STO02). Lines absent from the STO03 report succeeded."""

    import_id: str
    shop_id: int | None = None
    status: ImportStatus | str | None = None
    date_created: dt.datetime | None = None
    has_error_report: bool | None = None
    lines_in_success: int | None = None
    lines_in_error: int | None = None


# ------------------------------------------------------------------------------------------------
# STO01 stock file
# ------------------------------------------------------------------------------------------------

STOCK_CSV_HEADER = ("offer-sku", "quantity", "warehouse-code", "update-delete")
_UPDATE_DELETE_VALUES = frozenset({"update", "delete"})


def _check_text(value: object, name: str, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} must not contain line breaks: {value!r}")


def _validate_stock_update(update: StockUpdate) -> None:
    _check_text(update.offer_sku, "offer_sku", optional=False)
    if isinstance(update.quantity, bool) or not isinstance(update.quantity, int):
        raise ValueError(f"quantity of {update.offer_sku!r} must be an int: {update.quantity!r}")
    if update.quantity < 0:
        raise ValueError(f"quantity of {update.offer_sku!r} must be >= 0, got {update.quantity}")
    _check_text(update.warehouse_code, "warehouse_code", optional=True)
    if update.update_delete is not None and update.update_delete not in _UPDATE_DELETE_VALUES:
        raise ValueError(f"update_delete must be update, delete or None: {update.update_delete!r}")


@attrs.frozen(kw_only=True)
class StockUpdate:
    """One line of a STO01 stock file: an absolute quantity for an offer SKU.

    ``warehouse_code=None`` sets the offer's global quantity; otherwise the quantity in that
    warehouse. Not a JSON type: written by :func:`stock_csv`.
    """

    offer_sku: str
    quantity: int
    warehouse_code: str | None = None
    update_delete: str | None = None

    def __attrs_post_init__(self) -> None:
        _validate_stock_update(self)


def order_stock_updates(updates: Iterable[StockUpdate]) -> list[StockUpdate]:
    """Validate stock updates and order them as :func:`stock_csv` writes them.

    Lines of one offer are grouped (in order of first appearance); the written file has the
    header on line 1, so ``result[i]`` is line ``i + 2`` of the file (for matching STO03 reports).

    Raises ``ValueError`` for an invalid update, a repeated (SKU, warehouse) pair, or a SKU given
    both globally and per warehouse.
    """
    groups: dict[str, list[StockUpdate]] = {}
    for update in updates:
        if not isinstance(update, StockUpdate):
            raise TypeError(f"expected StockUpdate, got {type(update).__name__}")
        _validate_stock_update(update)
        group = groups.setdefault(update.offer_sku, [])
        for seen in group:
            if seen.warehouse_code == update.warehouse_code:
                where = repr(update.warehouse_code) if update.warehouse_code else "global"
                raise ValueError(f"offer_sku {update.offer_sku!r} given twice ({where})")
            if (seen.warehouse_code is None) != (update.warehouse_code is None):
                raise ValueError(
                    f"offer_sku {update.offer_sku!r} given both globally and per warehouse"
                )
        group.append(update)
    return [update for group in groups.values() for update in group]


def stock_csv(updates: Iterable[StockUpdate]) -> bytes:
    """The STO01 stock file for ``updates`` (UTF-8, ``;``-separated, every cell quoted, ``\\n``).

    Header ``"offer-sku";"quantity";"warehouse-code";"update-delete"``; one line per offer
    quantity, lines of one offer together; see :func:`order_stock_updates` for validation.
    No updates give the header line alone (do not send that).
    """
    ordered = order_stock_updates(updates)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(STOCK_CSV_HEADER)
    for update in ordered:
        writer.writerow(
            (
                update.offer_sku,
                str(update.quantity),
                update.warehouse_code or "",
                update.update_delete or "",
            )
        )
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------------------------
# STO03 / OF03 error reports
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ImportErrorLine:
    """One line of an import error report (STO03, OF03).

    ``line_number`` is the line of the submitted file as Mirakl counts it, ``raw`` every cell of
    the report row.
    """

    line_number: int
    reason: str
    raw: tuple[str, ...] = ()


_LINE_HEADERS = frozenset({"error-line", "line", "line-number", "error-line-number"})
_REASON_HEADERS = frozenset({"error-message", "error", "message", "reason", "error-reason"})


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _as_line_number(cell: str) -> int | None:
    text = cell.strip()
    return int(text) if text.isdigit() else None


def _norm_header(cell: str) -> str:
    return cell.strip().lower().replace("_", "-").replace(" ", "-")


def _layout(rows: list[list[str]]) -> tuple[bool, int, int]:
    """(has_header, line column, reason column) for the report rows."""
    first = rows[0]
    names = [_norm_header(c) for c in first]
    line_col = next((i for i, n in enumerate(names) if n in _LINE_HEADERS), None)
    reason_col = next((i for i, n in enumerate(names) if n in _REASON_HEADERS), None)
    if line_col is not None:
        # OF03 style: the submitted columns plus "error-line";"error-message" at the end.
        return True, line_col, reason_col if reason_col is not None else line_col + 1
    return _as_line_number(first[0]) is None, 0, 1


def _read_rows(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [row for row in reader if any(cell.strip() for cell in row)]


def _score(rows: list[list[str]]) -> tuple[int, int]:
    if not rows:
        return (0, 0)
    has_header, line_col, _ = _layout(rows)
    body = rows[1:] if has_header else rows
    valid = sum(1 for r in body if len(r) > line_col and _as_line_number(r[line_col]) is not None)
    return (valid, len(rows[0]))


def parse_error_report(data: bytes) -> list[ImportErrorLine]:
    """Parse an import error report (STO03, OF03 CSV) into its error lines.

    STO03: column 1 = line number in error, column 2 = reason. OF03 repeats the submitted
    columns and adds ``error-line`` / ``error-message`` columns, found by header name. ``;`` or
    ``,`` delimiters, an optional header row, a UTF-8 BOM and quoted cells are accepted.

    Raises :class:`ResponseValidationError` when a row has no line number: a report that cannot
    be read must never pass for "no errors".
    """
    text = _decode(data)
    candidates = {d: _read_rows(text, d) for d in (";", ",")}
    delimiter = max(candidates, key=lambda d: _score(candidates[d]))
    rows = candidates[delimiter]
    if not rows:
        return []
    has_header, line_col, reason_col = _layout(rows)
    result: list[ImportErrorLine] = []
    problems: list[str] = []
    for index, row in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
        number = _as_line_number(row[line_col]) if len(row) > line_col else None
        if number is None:
            problems.append(f"report row {index}: no line number in column {line_col + 1}")
            continue
        reason = row[reason_col].strip() if len(row) > reason_col else ""
        result.append(ImportErrorLine(line_number=number, reason=reason, raw=tuple(row)))
    if problems:
        raise ResponseValidationError(
            "unreadable import error report",
            details=tuple(problems),
            body_excerpt=text[:BODY_EXCERPT_CHARS],
        )
    return result
