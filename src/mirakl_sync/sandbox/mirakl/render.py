"""Mirakl's JSON for the simulated objects (OR11/OR15 orders, OF21 and OF54 offers, TL02 lines,
OF02/STO02 import statuses, OR28/OR30 results, ST01/ST11 shipments).

Bodies follow the response schemas of Mirakl's seller OpenAPI document, with ``null`` where real
Mirakl sends null for an absent optional value (``acceptance_decision_date`` of an auto-refused
order, ``description``, ``price_additional_info``...). Timestamps are UTC with ``Z``, some with
milliseconds and some without, as real responses mix both.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from mirakl_sync.sandbox.mirakl.state import (
    Cancelation,
    MiraklState,
    Offer,
    OfferImport,
    Order,
    OrderLine,
    Refund,
    Shipment,
    StockImport,
    Transaction,
)

__all__ = [
    "cancelation_result_json",
    "dt",
    "dt_ms",
    "num",
    "offer_export_json",
    "offer_import_json",
    "offer_json",
    "order_json",
    "refund_result_json",
    "shipment_json",
    "stock_import_json",
    "transaction_json",
]

JSON = Any
COMMISSION_TAX_CODE = "TAXDEFAULT"


def dt(value: datetime | None) -> str | None:
    """``2026-01-05T09:00:00Z`` (no fraction)."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def dt_ms(value: datetime | None) -> str | None:
    """``2026-01-05T09:00:00.123Z`` (milliseconds)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def num(value: Decimal) -> float:
    """A money amount as a JSON number (exact for cents: shortest float repr)."""
    return float(value)


def _commission_taxes(amount: Decimal, rate: Decimal | None = None) -> list[JSON]:
    tax: dict[str, JSON] = {"code": COMMISSION_TAX_CODE, "amount": num(amount)}
    if rate is not None:
        tax["rate"] = num(rate * 100)
    return [tax]


def _refund_json(refund: Refund) -> JSON:
    return {
        "id": refund.id,
        "order_refund_id": refund.order_refund_id,
        "amount": num(refund.amount),
        "shipping_amount": num(refund.shipping_amount),
        "quantity": refund.quantity,
        "reason_code": refund.reason_code,
        "refund_state": refund.state,
        "state": refund.state,
        "created_date": dt(refund.created_date),
        "transaction_date": dt_ms(refund.transaction_date),
        "transaction_number": refund.transaction_number,
        "commission_amount": num(refund.commission_amount),
        "commission_tax_amount": num(refund.commission_tax_amount),
        "commission_taxes": _commission_taxes(refund.commission_tax_amount),
        "commission_total_amount": num(refund.commission_amount + refund.commission_tax_amount),
        "taxes": [],
        "shipping_taxes": [],
        "fees": [],
    }


def _cancelation_json(cancelation: Cancelation) -> JSON:
    return {
        "id": cancelation.id,
        "amount": num(cancelation.amount),
        "shipping_amount": num(cancelation.shipping_amount),
        "quantity": cancelation.quantity,
        "reason_code": cancelation.reason_code,
        "created_date": dt(cancelation.created_date),
        "commission_amount": num(cancelation.commission_amount),
        "commission_taxes": _commission_taxes(cancelation.commission_tax_amount),
        "commission_total_amount": num(
            cancelation.commission_amount + cancelation.commission_tax_amount
        ),
        "taxes": [],
        "shipping_taxes": [],
        "fees": [],
    }


def _line_json(order: Order, line: OrderLine) -> JSON:
    return {
        "order_line_id": line.order_line_id,
        "order_line_index": line.index,
        "order_line_state": line.state,
        "order_line_state_reason_code": line.state_reason_code,
        "order_line_state_reason_label": line.state_reason_label,
        "offer_id": line.offer_id,
        "offer_sku": line.offer_sku,
        "offer_state_code": "11",
        "product_sku": line.product_sku,
        "product_shop_sku": line.offer_sku,
        "product_title": line.product_title,
        "product_medias": [],
        "category_code": line.category_code,
        "category_label": line.category_label,
        "description": line.product_title,
        "quantity": line.quantity,
        "price_unit": num(line.price_unit),
        "origin_unit_price": num(line.price_unit),
        "price": num(line.price),
        "price_additional_info": None,
        "shipping_price": num(line.shipping_price),
        "total_price": num(line.total_price),
        "taxes": [],
        "shipping_taxes": [],
        "fees": [],
        "commission_fee": num(line.commission_fee),
        "commission_taxes": _commission_taxes(line.commission_vat, line.vat_rate),
        "commission_vat": num(line.commission_vat),
        "commission_rate_vat": num(line.vat_rate * 100),
        "total_commission": num(line.total_commission),
        "can_refund": line.can_refund,
        "refunds": [_refund_json(r) for r in line.refunds],
        "cancelations": [_cancelation_json(c) for c in line.cancelations],
        "order_line_additional_fields": [],
        "created_date": dt(line.created_date),
        "last_updated_date": dt_ms(line.last_updated_date),
        "debited_date": dt_ms(line.debited_date),
        "shipped_date": dt_ms(line.shipped_date),
        "received_date": dt_ms(line.received_date),
        "shipping_from": (
            {"address": None, "warehouse": {"code": line.warehouse}} if line.warehouse else None
        ),
    }


def order_json(order: Order, state: MiraklState) -> JSON:
    """One order as OR11 and OR15 return it."""
    channel = (
        {"code": order.channel_code, "label": order.channel_code} if order.channel_code else None
    )
    total_price = order.price + order.shipping_price
    return {
        "order_id": order.order_id,
        "commercial_id": order.commercial_id,
        "order_state": order.state,
        "order_state_reason_code": order.state_reason_code,
        "order_state_reason_label": order.state_reason_label,
        "references": {
            "order_reference_for_customer": order.reference_for_customer,
            "order_reference_for_seller": order.reference_for_seller,
        },
        "channel": channel,
        "created_date": dt(order.created_date),
        "last_updated_date": dt_ms(order.last_updated_date),
        "acceptance_decision_date": dt_ms(order.acceptance_decision_date),
        "customer_debited_date": dt_ms(order.customer_debited_date),
        "transaction_date": dt_ms(order.customer_debited_date),
        "transaction_number": order.transaction_number,
        "shipping_deadline": dt_ms(order.shipping_deadline),
        "leadtime_to_ship": order.leadtime_to_ship,
        "currency_iso_code": order.currency,
        "price": num(order.price),
        "shipping_price": num(order.shipping_price),
        "total_price": num(total_price),
        "total_commission": num(order.total_commission),
        "order_tax_mode": "TAX_INCLUDED",
        "payment_workflow": order.payment_workflow,
        "payment_type": "CREDIT_CARD",
        "paymentType": "CREDIT_CARD",
        "can_cancel": order.can_cancel,
        "can_shop_ship": order.state == "SHIPPING",
        "has_incident": order.has_incident,
        "has_customer_message": False,
        "has_invoice": False,
        "fully_refunded": order.fully_refunded,
        "customer": order.customer,
        "customer_notification_email": f"{order.commercial_id.lower()}@relay.sandbox.invalid",
        "shipping_type_code": "STD",
        "shipping_type_label": "Standard",
        "shipping_zone_code": "FR",
        "shipping_zone_label": "France",
        "shipping_company": order.carrier_name,
        "shipping_carrier_code": order.carrier_code,
        "shipping_carrier_standard_code": order.carrier_standard_code,
        "shipping_tracking": order.tracking_number,
        "shipping_tracking_url": order.carrier_url,
        "fulfillment": {"center": {"code": order.fulfillment_center}},
        "order_additional_fields": [],
        "order_lines": [_line_json(order, line) for line in order.lines],
    }


def offer_json(offer: Offer) -> JSON:
    """One offer as OF21 returns it."""
    price = num(offer.price)
    return {
        "offer_id": offer.offer_id,
        "shop_sku": offer.shop_sku,
        "product_sku": offer.product_sku,
        "product_title": offer.title,
        "description": f"{offer.title} sold by the sandbox shop",
        "product_references": [{"reference": offer.ean, "reference_type": "EAN"}],
        "category_code": offer.category_code,
        "category_label": offer.category_label,
        "quantity": offer.available,
        "warehouses": [{"code": c, "quantity": q} for c, q in sorted(offer.warehouses.items())],
        "active": offer.active,
        "inactivity_reasons": [] if offer.active else ["OUT_OF_STOCK"],
        "state_code": offer.state_code,
        "price": price,
        "total_price": price,
        "price_additional_info": None,
        "all_prices": [
            {
                "channel_code": None,
                "price": price,
                "unit_origin_price": price,
                "unit_discount_price": None,
                "volume_prices": [],
            }
        ],
        "currency_iso_code": offer.currency,
        "leadtime_to_ship": offer.leadtime_to_ship,
        "shipping_deadline": dt_ms(offer.last_updated),
        "min_order_quantity": 1,
        "max_order_quantity": 100,
        "package_quantity": 1,
        "min_quantity_alert": 0,
        "logistic_class": {"code": "M", "label": "Medium"},
        "min_shipping_price": 4.9,
        "min_shipping_price_additional": 0.0,
        "min_shipping_type": "STD",
        "min_shipping_zone": "FR",
        "channels": [],
        "fulfillment": {"center": {"code": "DEFAULT"}},
        "available_start_date": None,
        "available_end_date": None,
        "discount": None,
    }


def offer_export_json(offer: Offer, shop_name: str) -> JSON:
    """One offer as an OF54 JSON chunk carries it (``deleted`` rows carry only identifiers)."""
    if offer.deleted:
        return {
            "offer_id": offer.offer_id,
            "product_sku": offer.product_sku,
            "shop_id": offer.shop_id,
            "shop_sku": offer.shop_sku,
            "active": False,
            "deleted": True,
            "last_updated": dt(offer.last_updated),
        }
    price = num(offer.price)
    return {
        "offer_id": offer.offer_id,
        "shop_id": offer.shop_id,
        "shop_name": shop_name,
        "shop_sku": offer.shop_sku,
        "product_sku": offer.product_sku,
        "quantity": offer.available,
        "warehouses": [{"code": c, "quantity": q} for c, q in sorted(offer.warehouses.items())],
        "active": offer.active,
        "deleted": False,
        "state_code": offer.state_code,
        "currency_iso_code": offer.currency,
        "prices": [{"origin_price": price, "discount_price": None, "volume_prices": []}],
        "leadtime_to_ship": offer.leadtime_to_ship,
        "channels": [],
        "date_created": dt(offer.date_created),
        "last_updated": dt(offer.last_updated),
        "available_start_date": None,
        "available_end_date": None,
        "fulfillment": {"center": {"code": "DEFAULT"}},
    }


OFFER_CSV_COLUMNS = (
    "offer-id",
    "shop-sku",
    "product-sku",
    "quantity",
    "price",
    "state-code",
    "active",
    "deleted",
    "date-created",
    "last-updated",
)


def offer_export_row(offer: Offer) -> list[str]:
    return [
        str(offer.offer_id),
        offer.shop_sku,
        offer.product_sku,
        "" if offer.deleted else str(offer.available),
        "" if offer.deleted else str(offer.price),
        "" if offer.deleted else offer.state_code,
        "true" if offer.active and not offer.deleted else "false",
        "true" if offer.deleted else "false",
        dt(offer.date_created) or "",
        dt(offer.last_updated) or "",
    ]


def transaction_json(tx: Transaction) -> JSON:
    """One TL02 line: ``amount`` is signed (credit positive, debit negative)."""
    entities: dict[str, JSON] = {"domain": "PRODUCT"}
    if tx.order_id is not None:
        entities["order"] = {
            "id": tx.order_id,
            "commercial_id": tx.commercial_id,
            "creation_date": dt(tx.order_created),
            "references": None,
        }
    if tx.order_line_id is not None:
        entities["order_line"] = {"id": tx.order_line_id}
    if tx.refund_id is not None:
        entities["refund"] = {"id": tx.refund_id}
    if tx.channel_code is not None:
        entities["channel"] = {"code": tx.channel_code}
    return {
        "id": tx.id,
        "type": tx.type,
        "amount": num(tx.amount),
        "amount_credited": num(tx.amount) if tx.amount > 0 else 0.0,
        "amount_debited": num(-tx.amount) if tx.amount < 0 else 0.0,
        "balance": num(tx.balance),
        "currency_iso_code": tx.currency,
        "date_created": dt_ms(tx.date_created),
        "last_updated": dt_ms(tx.last_updated),
        "payment_state": tx.payment_state,
        "accounting_document_number": None,
        "accounting_document_id": None,
        "accounting_document_creation_date": None,
        "seller_billing_cycle_id": None,
        "payment_voucher_number": None,
        "entities": entities,
    }


def stock_import_json(imp: StockImport) -> JSON:
    """STO02 status (counters are null until the import completes)."""
    done = imp.status in ("COMPLETE", "FAILED")
    return {
        "import_id": imp.import_id,
        "shop_id": imp.shop_id,
        "date_created": dt(imp.date_created),
        "status": imp.status,
        "has_error_report": bool(imp.errors),
        "lines_in_success": imp.lines_in_success if done else None,
        "lines_in_error": imp.lines_in_error if done else None,
    }


_REASON = {"WAITING": "Waiting", "RUNNING": "Running", "COMPLETE": "Complete", "FAILED": "Failed"}


def offer_import_json(imp: OfferImport) -> JSON:
    """OF02 status and counters."""
    pending = imp.lines_read - imp.lines_in_success - imp.lines_in_error
    return {
        "import_id": imp.import_id,
        "date_created": dt(imp.date_created),
        "status": imp.status,
        "reason_status": imp.reason_status or _REASON.get(imp.status, imp.status),
        "mode": imp.mode,
        "type": "MIRAKL",
        "has_error_report": bool(imp.error_report),
        "lines_read": imp.lines_read,
        "lines_in_success": imp.lines_in_success,
        "lines_in_error": imp.lines_in_error,
        "lines_in_pending": max(0, pending),
        "offer_inserted": imp.offer_inserted,
        "offer_updated": imp.offer_updated,
        "offer_deleted": imp.offer_deleted,
    }


def refund_result_json(line: OrderLine, refund: Refund, currency: str) -> JSON:
    """One entry of OR28's ``refunds``."""
    return {
        "refund_id": refund.id,
        "order_refund_id": refund.order_refund_id,
        "order_line_id": line.order_line_id,
        "amount": num(refund.amount),
        "shipping_amount": num(refund.shipping_amount),
        "quantity": refund.quantity,
        "reason_code": refund.reason_code,
        "currency_iso_code": currency,
        "excluded_from_shipment": refund.excluded_from_shipment,
        "taxes": [],
        "shipping_taxes": [],
        "fees": [],
    }


def cancelation_result_json(line: OrderLine, cancelation: Cancelation, currency: str) -> JSON:
    """One entry of OR30's ``cancelations``."""
    return {
        "cancelation_id": cancelation.id,
        "order_line_id": line.order_line_id,
        "amount": num(cancelation.amount),
        "shipping_amount": num(cancelation.shipping_amount),
        "quantity": cancelation.quantity,
        "reason_code": cancelation.reason_code,
        "currency_iso_code": currency,
        "taxes": [],
        "shipping_taxes": [],
        "fees": [],
    }


def shipment_json(shipment: Shipment) -> JSON:
    """One shipment as ST01 (``shipment_success[]``) and ST11 (``data[]``) return it.

    ``validity_status`` is MISSING_TRACKING without a tracking number and UNVERIFIED with one
    (the sandbox has no carrier feed, so no milestones).
    """
    return {
        "id": shipment.id,
        "order_id": shipment.order_id,
        "status": shipment.status,
        "status_customer_debit": shipment.status_customer_debit,
        "created_date": dt_ms(shipment.created_date),
        "last_updated_date": dt_ms(shipment.last_updated_date),
        "shipped_date": dt_ms(shipment.shipped_date),
        "invoice_reference": shipment.invoice_reference,
        "payment_details": None,
        "shipment_additional_information": shipment.additional_information,
        "shipment_lines": [
            {
                "order_line_id": line.order_line_id,
                "offer_sku": line.offer_sku,
                "package_reference": line.package_reference,
                "quantity": line.quantity,
            }
            for line in shipment.lines
        ],
        "shipping_from": (
            {"address": None, "warehouse": {"code": shipment.warehouse}}
            if shipment.warehouse
            else None
        ),
        "tracking": {
            "carrier_code": shipment.carrier_code,
            "carrier_name": shipment.carrier_name,
            "carrier_standard_code": shipment.carrier_standard_code,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url,
            "validity_status": "UNVERIFIED" if shipment.tracking_number else "MISSING_TRACKING",
            "carrier_expected_delivery_date": None,
            "last_known_location": None,
            "milestones": [],
        },
    }
