"""Order models: OR11/OR15 orders, OR13/OR14 async export, OR21/OR23 writes, OR28 refunds and
OR30 cancellations.

Response models are tolerant: only the identifiers an integration cannot work without are
required; every other field defaults to ``None`` (lists to ``()``). Money is ``Decimal``,
quantities ``int``, timestamps aware UTC ``datetime``.

Request models (``LineDecision``, ``TrackingUpdate``, ``AmountCode``, ``RefundRequest``,
``CancelationRequest``, ``OrderExportRequest``) use Mirakl's wire names; serialise them with
``mirakl_sync._serde.to_wire`` (``None`` fields are omitted).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from mirakl_sync.mirakl.models.common import (
    AdditionalField,
    DiscountCampaign,
    EcoContribution,
    ExportStatus,
    Fulfillment,
    OrderLineState,
    OrderState,
    OrderTaxMode,
    PaymentWorkflow,
    RefundState,
    TaxCalculationRule,
)

__all__ = [
    "Address",
    "AmountBreakdown",
    "AmountBreakdownPart",
    "AmountCode",
    "CancelationRequest",
    "CancelationResult",
    "Channel",
    "CommissionTax",
    "CreatedCancelation",
    "CreatedRefund",
    "Customer",
    "CustomerContact",
    "CustomerOrganization",
    "DeliveryDate",
    "ExportTracking",
    "Fee",
    "LineDecision",
    "Measurement",
    "Order",
    "OrderExportRequest",
    "OrderExportStatus",
    "OrderLine",
    "OrderLineCancelation",
    "OrderLineRefund",
    "OrderReferences",
    "OrderRefund",
    "OrderTax",
    "ProductMedia",
    "PurchaseInformation",
    "PurchaseTax",
    "PurchaseTotal",
    "RefundRequest",
    "RefundResult",
    "ShippingFrom",
    "Tax",
    "TrackingUpdate",
    "Warehouse",
]


# ------------------------------------------------------------------------------------------------
# Amounts, taxes, fees
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AmountBreakdownPart:
    """One part of an amount with its invoicing rules (``*_amount_breakdown.parts[]``)."""

    amount: Decimal | None = None
    commissionable: bool | None = None
    debitable_from_customer: bool | None = None
    payable_to_shop: bool | None = None


@attrs.frozen(kw_only=True)
class AmountBreakdown:
    """How an amount splits into commissionable / debitable / payable parts."""

    parts: tuple[AmountBreakdownPart, ...] = ()


@attrs.frozen(kw_only=True)
class PurchaseTax:
    """Dropship purchase tax (``taxes[].purchase_tax``)."""

    purchase_amount: Decimal | None = None
    purchase_rate: Decimal | None = None


@attrs.frozen(kw_only=True)
class Tax:
    """A tax on a price or shipping price (OR11 lines, refunds, cancelations; OR28; OR30).

    ``tax_calculation_rule``: with PROPORTIONAL_TO_AMOUNT Mirakl computes the tax of a partial
    refund itself; with NONE the refund must carry the tax amount.
    """

    code: str | None = None
    amount: Decimal | None = None
    rate: Decimal | None = None
    origin_unit_amount: Decimal | None = None
    tax_calculation_rule: TaxCalculationRule | str | None = None
    amount_breakdown: AmountBreakdown | None = None
    purchase_tax: PurchaseTax | None = None


@attrs.frozen(kw_only=True)
class CommissionTax:
    """A tax on the operator's commission (``commission_taxes[]``; ``rate`` in percent)."""

    code: str | None = None
    amount: Decimal | None = None
    rate: Decimal | None = None


@attrs.frozen(kw_only=True)
class Fee:
    """A fee on an order line, refund or cancellation (``fees[]``)."""

    code: str | None = None
    amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderTax:
    """Order-level tax total per code and rate (OR11 ``order_taxes[]``)."""

    code: str | None = None
    rate: Decimal | None = None
    total_amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class OrderRefund:
    """Refunds created together, with their tax totals (OR11 ``order_refunds[]``)."""

    order_refund_id: str | None = None
    taxes: tuple[OrderTax, ...] = ()


@attrs.frozen(kw_only=True)
class PurchaseTotal:
    """``{total_amount}`` wrapper used by dropship purchase information."""

    total_amount: Decimal | None = None


@attrs.frozen(kw_only=True)
class PurchaseInformation:
    """Dropship / one-creditor purchase amounts of a line, refund or cancellation."""

    purchase_price: Decimal | None = None
    purchase_unit_price: Decimal | None = None
    purchase_shipping_price: Decimal | None = None
    purchase_commission_on_price: Decimal | None = None
    purchase_commission_on_shipping: Decimal | None = None
    purchase_fee_amount: PurchaseTotal | None = None
    purchase_commission_on_fees: PurchaseTotal | None = None


# ------------------------------------------------------------------------------------------------
# Refunds and cancellations recorded on order lines
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderLineRefund:
    """A refund on an order line (OR11 ``order_lines[].refunds[]``).

    ``quantity`` is informative only (refunds are by amount). ``state`` is the deprecated
    predecessor of ``refund_state``.
    """

    id: str
    order_refund_id: str | None = None
    refund_state: RefundState | str | None = None
    state: RefundState | str | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    created_date: dt.datetime | None = None
    transaction_date: dt.datetime | None = None
    transaction_number: str | None = None
    commission_amount: Decimal | None = None
    commission_tax_amount: Decimal | None = None
    commission_taxes: tuple[CommissionTax, ...] = ()
    commission_total_amount: Decimal | None = None
    taxes: tuple[Tax, ...] = ()
    shipping_taxes: tuple[Tax, ...] = ()
    fees: tuple[Fee, ...] = ()
    amount_breakdown: AmountBreakdown | None = None
    shipping_amount_breakdown: AmountBreakdown | None = None
    purchase_information: PurchaseInformation | None = None
    eco_contributions: tuple[EcoContribution, ...] = ()
    tax_legal_notice: str | None = None


@attrs.frozen(kw_only=True)
class OrderLineCancelation:
    """A cancellation on an order line (OR11 ``order_lines[].cancelations[]``).

    ``quantity`` is informative only.
    """

    id: str
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    created_date: dt.datetime | None = None
    commission_amount: Decimal | None = None
    commission_taxes: tuple[CommissionTax, ...] = ()
    commission_total_amount: Decimal | None = None
    taxes: tuple[Tax, ...] = ()
    shipping_taxes: tuple[Tax, ...] = ()
    fees: tuple[Fee, ...] = ()
    amount_breakdown: AmountBreakdown | None = None
    shipping_amount_breakdown: AmountBreakdown | None = None
    purchase_information: PurchaseInformation | None = None
    eco_contributions: tuple[EcoContribution, ...] = ()


# ------------------------------------------------------------------------------------------------
# Order and order line
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Address:
    """A postal address (customer billing/shipping, organization, ``shipping_from``).

    ``country_iso_code`` is ISO 3166-1 alpha-3 (``FRA``).
    """

    civility: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    company: str | None = None
    company_2: str | None = None
    street_1: str | None = None
    street_2: str | None = None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_iso_code: str | None = None
    phone: str | None = None
    phone_secondary: str | None = None
    additional_info: str | None = None


@attrs.frozen(kw_only=True)
class CustomerContact:
    """An accounting or delivery contact of the customer (OR11)."""

    customer_id: str | None = None
    civility: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    locale: str | None = None


@attrs.frozen(kw_only=True)
class CustomerOrganization:
    """The customer's organization (B2B; null before shipping or acceptance on some platforms)."""

    organization_id: str | None = None
    name: str | None = None
    identification_number: str | None = None
    tax_identification_number: str | None = None
    address: Address | None = None


@attrs.frozen(kw_only=True)
class Customer:
    """The customer of an order (OR11 ``customer``).

    Addresses may be absent before acceptance (PC01
    ``features.order_workflows.shipping_and_billing_details_before_acceptance``).
    """

    customer_id: str | None = None
    civility: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    locale: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    accounting_contact: CustomerContact | None = None
    delivery_contact: CustomerContact | None = None
    organization: CustomerOrganization | None = None


@attrs.frozen(kw_only=True)
class Channel:
    """A sales channel (OR11 ``channel``)."""

    code: str | None = None
    label: str | None = None


@attrs.frozen(kw_only=True)
class OrderReferences:
    """Customer-side and seller-side order references (OR11 ``references``, TL02)."""

    order_reference_for_customer: str | None = None
    order_reference_for_seller: str | None = None


@attrs.frozen(kw_only=True)
class DeliveryDate:
    """Promised delivery window (OR11 ``delivery_date``)."""

    earliest: dt.datetime | None = None
    latest: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class ProductMedia:
    """A product image of an order line (OR11 ``product_medias[]``)."""

    media_url: str | None = None
    mime_type: str | None = None
    type: str | None = None


@attrs.frozen(kw_only=True)
class Measurement:
    """Measured quantity of an order line sold by measurement (OR11, OR32)."""

    actual_measurement: Decimal | None = None
    adjustment_limit: Decimal | None = None
    measurement_unit: str | None = None
    ordered_measurement: Decimal | None = None


@attrs.frozen(kw_only=True)
class Warehouse:
    """A warehouse reference (``shipping_from.warehouse``)."""

    code: str | None = None


@attrs.frozen(kw_only=True)
class ShippingFrom:
    """Where an order line ships from (OR11 ``order_lines[].shipping_from``)."""

    address: Address | None = None
    warehouse: Warehouse | None = None


@attrs.frozen(kw_only=True)
class OrderLine:
    """An order line (OR11/OR15 ``orders[].order_lines[]``).

    ``offer_sku`` is the seller's SKU; ``price`` = ``price_unit`` x ``quantity`` (excluding
    shipping); ``total_price`` = price + shipping + fees; ``total_commission`` = commission fee +
    commission taxes.
    """

    order_line_id: str
    order_line_index: int | None = None
    order_line_state: OrderLineState | str | None = None
    order_line_state_reason_code: str | None = None
    order_line_state_reason_label: str | None = None
    offer_id: int | None = None
    offer_sku: str | None = None
    offer_state_code: str | None = None
    product_sku: str | None = None
    product_shop_sku: str | None = None
    product_title: str | None = None
    product_medias: tuple[ProductMedia, ...] = ()
    category_code: str | None = None
    category_label: str | None = None
    description: str | None = None
    quantity: int | None = None
    price_unit: Decimal | None = None
    price: Decimal | None = None
    origin_unit_price: Decimal | None = None
    price_additional_info: str | None = None
    shipping_price: Decimal | None = None
    shipping_price_unit: Decimal | None = None
    shipping_price_additional_unit: Decimal | None = None
    total_price: Decimal | None = None
    fees: tuple[Fee, ...] = ()
    taxes: tuple[Tax, ...] = ()
    shipping_taxes: tuple[Tax, ...] = ()
    tax_legal_notice: str | None = None
    price_amount_breakdown: AmountBreakdown | None = None
    shipping_price_amount_breakdown: AmountBreakdown | None = None
    commission_fee: Decimal | None = None
    commission_taxes: tuple[CommissionTax, ...] = ()
    commission_vat: Decimal | None = None
    commission_rate_vat: Decimal | None = None
    total_commission: Decimal | None = None
    created_date: dt.datetime | None = None
    last_updated_date: dt.datetime | None = None
    debited_date: dt.datetime | None = None
    shipped_date: dt.datetime | None = None
    received_date: dt.datetime | None = None
    can_refund: bool | None = None
    refunds: tuple[OrderLineRefund, ...] = ()
    cancelations: tuple[OrderLineCancelation, ...] = ()
    shipping_from: ShippingFrom | None = None
    measurement: Measurement | None = None
    eco_contributions: tuple[EcoContribution, ...] = ()
    purchase_information: PurchaseInformation | None = None
    order_line_additional_fields: tuple[AdditionalField, ...] = ()
    promotions: tuple[dict[str, Any], ...] = ()
    discount_campaign: DiscountCampaign | None = None


@attrs.frozen(kw_only=True)
class Order:
    """An order (OR11 ``orders[]``; OR15 export chunks have the same shape).

    ``acceptance_decision_date`` is ``None`` when the order was accepted or refused
    automatically. ``total_commission`` is the sum of the lines' ``total_commission``.
    """

    order_id: str
    commercial_id: str | None = None
    references: OrderReferences | None = None
    channel: Channel | None = None
    quote_id: str | None = None
    order_state: OrderState | str | None = None
    order_state_reason_code: str | None = None
    order_state_reason_label: str | None = None
    can_cancel: bool | None = None
    can_shop_ship: bool | None = None
    has_incident: bool | None = None
    has_customer_message: bool | None = None
    has_invoice: bool | None = None
    fully_refunded: bool | None = None
    created_date: dt.datetime | None = None
    last_updated_date: dt.datetime | None = None
    acceptance_decision_date: dt.datetime | None = None
    customer_debited_date: dt.datetime | None = None
    transaction_date: dt.datetime | None = None
    transaction_number: str | None = None
    shipping_deadline: dt.datetime | None = None
    delivery_date: DeliveryDate | None = None
    leadtime_to_ship: int | None = None
    currency_iso_code: str | None = None
    price: Decimal | None = None
    shipping_price: Decimal | None = None
    total_price: Decimal | None = None
    total_commission: Decimal | None = None
    order_tax_mode: OrderTaxMode | str | None = None
    order_taxes: tuple[OrderTax, ...] = ()
    order_refunds: tuple[OrderRefund, ...] = ()
    payment_workflow: PaymentWorkflow | str | None = None
    payment_type: str | None = None
    payment_duration: int | None = None
    customer_directly_pays_seller: bool | None = None
    invoice_details: dict[str, Any] | None = None
    shipping_type_code: str | None = None
    shipping_type_label: str | None = None
    shipping_type_standard_code: str | None = None
    shipping_zone_code: str | None = None
    shipping_zone_label: str | None = None
    shipping_company: str | None = None
    shipping_carrier_code: str | None = None
    shipping_carrier_standard_code: str | None = None
    shipping_tracking: str | None = None
    shipping_tracking_url: str | None = None
    shipping_pudo_id: str | None = None
    fulfillment: Fulfillment | None = None
    customer: Customer | None = None
    customer_notification_email: str | None = None
    order_additional_fields: tuple[AdditionalField, ...] = ()
    promotions: dict[str, Any] | None = None
    discount_campaigns: tuple[DiscountCampaign, ...] = ()
    order_lines: tuple[OrderLine, ...] = ()


# ------------------------------------------------------------------------------------------------
# Async export (OR13/OR14)
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ExportTracking:
    """Tracking id of an asynchronous export (OR13, OF52)."""

    tracking_id: str


@attrs.frozen(kw_only=True)
class OrderExportStatus:
    """Progress of an order export (OR14). ``urls`` are the OR15 chunks once COMPLETED."""

    status: ExportStatus | str | None = None
    urls: tuple[str, ...] = ()
    last_updated: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class OrderExportRequest:
    """Body of OR13 ``POST /api/orders/async-export``.

    Mirakl requires at least one date range, each range's start and end together, and at most
    one year per range (checked by the resource before sending). ``fulfillment_center_codes`` is a
    single string in Mirakl's schema, not a list.
    """

    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    start_update_date: dt.datetime | None = None
    end_update_date: dt.datetime | None = None
    order_state_codes: tuple[OrderState | str, ...] | None = None
    channel_codes: tuple[str, ...] | None = None
    only_null_channel: bool | None = None
    fulfillment_center_codes: str | None = None
    order_tax_mode: OrderTaxMode | str | None = None
    items_per_chunk: int | None = None
    megabytes_per_chunk: int | None = None


# ------------------------------------------------------------------------------------------------
# Writes: OR21 acceptance, OR23 tracking
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LineDecision:
    """Accept or refuse one order line (OR21 body ``{"order_lines": [...]}``)."""

    id: str
    accepted: bool


@attrs.frozen(kw_only=True)
class TrackingUpdate:
    """Carrier and tracking number of an order (OR23 body).

    A registered carrier needs ``carrier_code`` (SH21) and ``tracking_number``; an unregistered one
    ``carrier_name`` and optionally ``carrier_url``.
    """

    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    carrier_url: str | None = None
    tracking_number: str | None = None


# ------------------------------------------------------------------------------------------------
# OR28 refunds, OR30 cancellations
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AmountCode:
    """``{code, amount}`` for taxes and fees in OR28/OR30 request bodies."""

    code: str
    amount: Decimal


@attrs.frozen(kw_only=True)
class RefundRequest:
    """One refund of OR28 ``PUT /api/orders/refund`` (body ``{"refunds": [...]}``).

    Refunds are by amount; ``quantity`` is informative only. ``taxes`` / ``shipping_taxes`` are
    required when the order line has taxes; ``reason_code`` is an RE01 reason of type REFUND.
    """

    order_line_id: str
    amount: Decimal
    shipping_amount: Decimal
    reason_code: str
    quantity: int | None = None
    currency_iso_code: str | None = None
    taxes: tuple[AmountCode, ...] | None = None
    shipping_taxes: tuple[AmountCode, ...] | None = None
    fees: tuple[AmountCode, ...] | None = None
    excluded_from_shipment: bool | None = None


@attrs.frozen(kw_only=True)
class CancelationRequest:
    """One cancellation of OR30 ``PUT /api/orders/cancel`` (body ``{"cancelations": [...]}``).

    ``reason_code`` is an RE01 reason of type CANCELATION.
    """

    order_line_id: str
    quantity: int
    amount: Decimal
    shipping_amount: Decimal
    reason_code: str
    currency_iso_code: str | None = None
    taxes: tuple[AmountCode, ...] | None = None
    shipping_taxes: tuple[AmountCode, ...] | None = None
    fees: tuple[AmountCode, ...] | None = None


@attrs.frozen(kw_only=True)
class CreatedRefund:
    """A refund created by OR28 (``refunds[]``).

    ``order_refund_id`` groups the refunds created by one call.
    """

    refund_id: str
    order_refund_id: str | None = None
    order_line_id: str | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    currency_iso_code: str | None = None
    excluded_from_shipment: bool | None = None
    taxes: tuple[Tax, ...] = ()
    shipping_taxes: tuple[Tax, ...] = ()
    fees: tuple[Fee, ...] = ()
    amount_breakdown: AmountBreakdown | None = None
    shipping_amount_breakdown: AmountBreakdown | None = None
    purchase_information: PurchaseInformation | None = None
    eco_contributions: tuple[EcoContribution, ...] = ()


@attrs.frozen(kw_only=True)
class RefundResult:
    """Response of OR28."""

    order_tax_mode: OrderTaxMode | str | None = None
    refunds: tuple[CreatedRefund, ...] = ()


@attrs.frozen(kw_only=True)
class CreatedCancelation:
    """A cancellation created by OR30 (``cancelations[]``)."""

    cancelation_id: str
    order_line_id: str | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    currency_iso_code: str | None = None
    taxes: tuple[Tax, ...] = ()
    shipping_taxes: tuple[Tax, ...] = ()
    fees: tuple[Fee, ...] = ()
    amount_breakdown: AmountBreakdown | None = None
    shipping_amount_breakdown: AmountBreakdown | None = None
    purchase_information: PurchaseInformation | None = None
    eco_contributions: tuple[EcoContribution, ...] = ()


@attrs.frozen(kw_only=True)
class CancelationResult:
    """Response of OR30."""

    order_tax_mode: OrderTaxMode | str | None = None
    cancelations: tuple[CreatedCancelation, ...] = ()
