"""Enums and small value objects shared by the Mirakl models.

Enum values come from Mirakl's OpenAPI document (including deprecated values). Model fields that
carry an enum are typed ``TheEnum | str``: a value Mirakl adds later stays its raw string instead
of failing the parse (Mirakl's backward-compatibility rules); callers must treat a plain ``str``
as "unknown" and act conservatively.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import attrs

__all__ = [
    "AdditionalField",
    "DiscountCampaign",
    "EcoContribution",
    "ExportStatus",
    "Fulfillment",
    "FulfillmentCenter",
    "ImportMode",
    "ImportStatus",
    "InactivityReason",
    "OrderAcceptanceMode",
    "OrderLineState",
    "OrderState",
    "OrderTaxMode",
    "PaymentState",
    "PaymentWorkflow",
    "ReasonType",
    "RefundState",
    "TaxCalculationRule",
    "TransactionType",
]


class OrderState(enum.StrEnum):
    """Order state (OR11 ``order_state``; WAITING_REFUND* are deprecated)."""

    STAGING = "STAGING"
    WAITING_ACCEPTANCE = "WAITING_ACCEPTANCE"
    WAITING_DEBIT = "WAITING_DEBIT"
    WAITING_DEBIT_PAYMENT = "WAITING_DEBIT_PAYMENT"
    SHIPPING = "SHIPPING"
    SHIPPED = "SHIPPED"
    TO_COLLECT = "TO_COLLECT"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    REFUSED = "REFUSED"
    CANCELED = "CANCELED"
    WAITING_REFUND = "WAITING_REFUND"
    WAITING_REFUND_PAYMENT = "WAITING_REFUND_PAYMENT"


class OrderLineState(enum.StrEnum):
    """Order line state (OR11 ``order_lines[].order_line_state``).

    The order states plus the line-only INCIDENT_OPEN, INCIDENT_CLOSED (history) and REFUNDED.
    """

    STAGING = "STAGING"
    WAITING_ACCEPTANCE = "WAITING_ACCEPTANCE"
    WAITING_DEBIT = "WAITING_DEBIT"
    WAITING_DEBIT_PAYMENT = "WAITING_DEBIT_PAYMENT"
    SHIPPING = "SHIPPING"
    SHIPPED = "SHIPPED"
    TO_COLLECT = "TO_COLLECT"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"
    REFUSED = "REFUSED"
    CANCELED = "CANCELED"
    WAITING_REFUND = "WAITING_REFUND"
    WAITING_REFUND_PAYMENT = "WAITING_REFUND_PAYMENT"
    INCIDENT_OPEN = "INCIDENT_OPEN"
    INCIDENT_CLOSED = "INCIDENT_CLOSED"
    REFUNDED = "REFUNDED"


class RefundState(enum.StrEnum):
    """Refund state (OR11 ``order_lines[].refunds[].refund_state``)."""

    WAITING_REFUND_TAX_CONFIRMATION = "WAITING_REFUND_TAX_CONFIRMATION"
    WAITING_REFUND = "WAITING_REFUND"
    WAITING_REFUND_PAYMENT = "WAITING_REFUND_PAYMENT"
    REFUNDED = "REFUNDED"


class OrderTaxMode(enum.StrEnum):
    """Whether order amounts include taxes (OR11, OR13, OR28, OR30, PC01)."""

    TAX_INCLUDED = "TAX_INCLUDED"
    TAX_EXCLUDED = "TAX_EXCLUDED"


class PaymentWorkflow(enum.StrEnum):
    """Payment workflow of an order (OR11 ``payment_workflow``)."""

    PAY_ON_ACCEPTANCE = "PAY_ON_ACCEPTANCE"
    PAY_ON_DELIVERY = "PAY_ON_DELIVERY"
    PAY_ON_DUE_DATE = "PAY_ON_DUE_DATE"
    PAY_ON_SHIPMENT = "PAY_ON_SHIPMENT"
    NO_CUSTOMER_PAYMENT_CONFIRMATION = "NO_CUSTOMER_PAYMENT_CONFIRMATION"


class TaxCalculationRule(enum.StrEnum):
    """How Mirakl computes a tax on partial refunds/cancellations (OR11 ``taxes[]``).

    The spec describes lower-case values and its examples send upper case: matched
    case-insensitively.
    """

    PROPORTIONAL_TO_AMOUNT = "PROPORTIONAL_TO_AMOUNT"
    NONE = "NONE"

    @classmethod
    def _missing_(cls, value: object) -> TaxCalculationRule | None:
        if isinstance(value, str):
            return cls.__members__.get(value.strip().upper())
        return None


class ImportStatus(enum.StrEnum):
    """Status of an offer or stock import (OF02, STO02).

    QUEUED and CANCELLED are not in the document but exist in Mirakl's SDK.
    """

    WAITING_SYNCHRONIZATION_PRODUCT = "WAITING_SYNCHRONIZATION_PRODUCT"
    QUEUED = "QUEUED"
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ImportMode(enum.StrEnum):
    """Offer import mode (OF01/OF02; PARTIAL_UPDATE is deprecated)."""

    NORMAL = "NORMAL"
    REPLACE = "REPLACE"
    PARTIAL_UPDATE = "PARTIAL_UPDATE"


class ExportStatus(enum.StrEnum):
    """Status of an asynchronous export (OR14, OF53)."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class PaymentState(enum.StrEnum):
    """Payment state of a transaction line (TL02 ``payment_state``)."""

    PENDING = "PENDING"
    PAYABLE = "PAYABLE"
    PAID = "PAID"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    RESERVE = "RESERVE"


class TransactionType(enum.StrEnum):
    """Type of a transaction line (TL02 ``type``)."""

    MANUAL_CREDIT = "MANUAL_CREDIT"
    MANUAL_CREDIT_VAT = "MANUAL_CREDIT_VAT"
    MANUAL_INVOICE = "MANUAL_INVOICE"
    MANUAL_INVOICE_VAT = "MANUAL_INVOICE_VAT"
    INVOICEABLE_ONE_OFF_DEBIT = "INVOICEABLE_ONE_OFF_DEBIT"
    INVOICEABLE_ONE_OFF_DEBIT_TAX = "INVOICEABLE_ONE_OFF_DEBIT_TAX"
    INVOICEABLE_ONE_OFF_CREDIT = "INVOICEABLE_ONE_OFF_CREDIT"
    INVOICEABLE_ONE_OFF_CREDIT_TAX = "INVOICEABLE_ONE_OFF_CREDIT_TAX"
    ORDER_AMOUNT = "ORDER_AMOUNT"
    ORDER_AMOUNT_TAX = "ORDER_AMOUNT_TAX"
    ORDER_SHIPPING_AMOUNT = "ORDER_SHIPPING_AMOUNT"
    ORDER_SHIPPING_AMOUNT_TAX = "ORDER_SHIPPING_AMOUNT_TAX"
    COMMISSION_FEE = "COMMISSION_FEE"
    COMMISSION_VAT = "COMMISSION_VAT"
    REFUND_ORDER_AMOUNT = "REFUND_ORDER_AMOUNT"
    REFUND_ORDER_AMOUNT_TAX = "REFUND_ORDER_AMOUNT_TAX"
    REFUND_ORDER_SHIPPING_AMOUNT = "REFUND_ORDER_SHIPPING_AMOUNT"
    REFUND_ORDER_SHIPPING_AMOUNT_TAX = "REFUND_ORDER_SHIPPING_AMOUNT_TAX"
    REFUND_COMMISSION_FEE = "REFUND_COMMISSION_FEE"
    REFUND_COMMISSION_VAT = "REFUND_COMMISSION_VAT"
    SUBSCRIPTION_FEE = "SUBSCRIPTION_FEE"
    SUBSCRIPTION_VAT = "SUBSCRIPTION_VAT"
    OPERATOR_REMITTED_ORDER_AMOUNT_TAX = "OPERATOR_REMITTED_ORDER_AMOUNT_TAX"
    OPERATOR_REMITTED_ORDER_SHIPPING_AMOUNT_TAX = "OPERATOR_REMITTED_ORDER_SHIPPING_AMOUNT_TAX"
    OPERATOR_REMITTED_REFUND_ORDER_AMOUNT_TAX = "OPERATOR_REMITTED_REFUND_ORDER_AMOUNT_TAX"
    OPERATOR_REMITTED_REFUND_ORDER_SHIPPING_AMOUNT_TAX = (
        "OPERATOR_REMITTED_REFUND_ORDER_SHIPPING_AMOUNT_TAX"
    )
    OPERATOR_PAID_ORDER_SHIPPING_AMOUNT = "OPERATOR_PAID_ORDER_SHIPPING_AMOUNT"
    OPERATOR_PAID_ORDER_SHIPPING_AMOUNT_TAX = "OPERATOR_PAID_ORDER_SHIPPING_AMOUNT_TAX"
    OPERATOR_PAID_REFUND_ORDER_SHIPPING_AMOUNT = "OPERATOR_PAID_REFUND_ORDER_SHIPPING_AMOUNT"
    OPERATOR_PAID_REFUND_ORDER_SHIPPING_AMOUNT_TAX = (
        "OPERATOR_PAID_REFUND_ORDER_SHIPPING_AMOUNT_TAX"
    )
    PAYMENT = "PAYMENT"
    PURCHASE_COMMISSION_FEE = "PURCHASE_COMMISSION_FEE"
    PURCHASE_SHIPPING_COMMISSION_FEE = "PURCHASE_SHIPPING_COMMISSION_FEE"
    PURCHASE_ORDER_AMOUNT_TAX = "PURCHASE_ORDER_AMOUNT_TAX"
    PURCHASE_ORDER_SHIPPING_AMOUNT_TAX = "PURCHASE_ORDER_SHIPPING_AMOUNT_TAX"
    REFUND_PURCHASE_COMMISSION_FEE = "REFUND_PURCHASE_COMMISSION_FEE"
    REFUND_PURCHASE_SHIPPING_COMMISSION_FEE = "REFUND_PURCHASE_SHIPPING_COMMISSION_FEE"
    REFUND_PURCHASE_ORDER_AMOUNT_TAX = "REFUND_PURCHASE_ORDER_AMOUNT_TAX"
    REFUND_PURCHASE_ORDER_SHIPPING_AMOUNT_TAX = "REFUND_PURCHASE_ORDER_SHIPPING_AMOUNT_TAX"
    ORDER_FEE_AMOUNT = "ORDER_FEE_AMOUNT"
    OPERATOR_REMITTED_ORDER_FEE_AMOUNT = "OPERATOR_REMITTED_ORDER_FEE_AMOUNT"
    REFUND_ORDER_FEE_AMOUNT = "REFUND_ORDER_FEE_AMOUNT"
    OPERATOR_REMITTED_REFUND_ORDER_FEE_AMOUNT = "OPERATOR_REMITTED_REFUND_ORDER_FEE_AMOUNT"
    PURCHASE_FEE_COMMISSION_FEE = "PURCHASE_FEE_COMMISSION_FEE"
    REFUND_PURCHASE_FEE_COMMISSION_FEE = "REFUND_PURCHASE_FEE_COMMISSION_FEE"
    RESERVE_FUNDING = "RESERVE_FUNDING"
    RESERVE_SETTLEMENT = "RESERVE_SETTLEMENT"
    SELLER_FEE_ON_ORDER = "SELLER_FEE_ON_ORDER"
    SELLER_FEE_ON_ORDER_TAX = "SELLER_FEE_ON_ORDER_TAX"
    SELLER_PENALTY_FEE = "SELLER_PENALTY_FEE"
    SELLER_PENALTY_FEE_TAX = "SELLER_PENALTY_FEE_TAX"


class ReasonType(enum.StrEnum):
    """Type of a reason (RE01 ``type``): which operation a reason code may be used with."""

    INCIDENT_OPEN = "INCIDENT_OPEN"
    MPS_INCIDENT_OPEN = "MPS_INCIDENT_OPEN"
    INCIDENT_CLOSE = "INCIDENT_CLOSE"
    MPS_INCIDENT_CLOSE = "MPS_INCIDENT_CLOSE"
    REFUND = "REFUND"
    MPS_REFUND = "MPS_REFUND"
    ORDER_MESSAGING = "ORDER_MESSAGING"
    MPS_ORDER_MESSAGING = "MPS_ORDER_MESSAGING"
    MPS_OFFER_MESSAGING = "MPS_OFFER_MESSAGING"
    OFFER_MESSAGING = "OFFER_MESSAGING"
    CANCELATION = "CANCELATION"
    MMP_SELLER_MESSAGING = "MMP_SELLER_MESSAGING"
    MPS_SELLER_MESSAGING = "MPS_SELLER_MESSAGING"
    RETURN = "RETURN"
    RETURN_REJECTION = "RETURN_REJECTION"
    RETURN_NON_COMPLIANT = "RETURN_NON_COMPLIANT"
    MESSAGING = "MESSAGING"


class InactivityReason(enum.StrEnum):
    """Why an offer is inactive (OF21 ``inactivity_reasons[]``)."""

    PRODUCT_STATUS_NEW = "PRODUCT_STATUS_NEW"
    PRODUCT_STATUS_INVALID = "PRODUCT_STATUS_INVALID"
    PRODUCT_STATUS_REJECTED = "PRODUCT_STATUS_REJECTED"
    PRODUCT_STATUS_UNAUTHORIZED_TO_SELL = "PRODUCT_STATUS_UNAUTHORIZED_TO_SELL"
    PRODUCT_STATUS_PENDING = "PRODUCT_STATUS_PENDING"
    PRODUCT_STATUS_SYNCHRO_ERROR = "PRODUCT_STATUS_SYNCHRO_ERROR"
    PRODUCT_DISABLED = "PRODUCT_DISABLED"
    SHOP_NOT_OPEN = "SHOP_NOT_OPEN"
    ZERO_QUANTITY = "ZERO_QUANTITY"
    NO_MIN_SHIPPING_RATE = "NO_MIN_SHIPPING_RATE"
    NOT_IN_AVAILABILITY_PERIOD = "NOT_IN_AVAILABILITY_PERIOD"
    NO_CHANNEL_ON_SHOP = "NO_CHANNEL_ON_SHOP"
    SHOP_CURRENCY_DISABLED = "SHOP_CURRENCY_DISABLED"
    AVAILABLE_QUANTITY_LESS_THAN_MIN_ORDER_QUANTITY = (
        "AVAILABLE_QUANTITY_LESS_THAN_MIN_ORDER_QUANTITY"
    )
    AVAILABLE_QUANTITY_LESS_THAN_PACKAGE_QUANTITY = "AVAILABLE_QUANTITY_LESS_THAN_PACKAGE_QUANTITY"
    NO_ACTIVE_PRICE = "NO_ACTIVE_PRICE"
    CATEGORY_UNAUTHORIZED_TO_SELL = "CATEGORY_UNAUTHORIZED_TO_SELL"
    BRAND_UNAUTHORIZED_TO_SELL = "BRAND_UNAUTHORIZED_TO_SELL"


class OrderAcceptanceMode(enum.StrEnum):
    """Whether shops accept orders (PC01 ``features.order_workflows.order_acceptance``)."""

    AUTOMATIC = "AUTOMATIC"
    NOT_AUTOMATIC = "NOT_AUTOMATIC"
    BOTH = "BOTH"


@attrs.frozen(kw_only=True)
class AdditionalField:
    """A custom field (OR11 ``order_additional_fields``, OF21 ``offer_additional_fields``).

    ``value`` is kept as sent: a string, a list (MULTIPLE_VALUES_LIST) or another JSON value.
    """

    code: str | None = None
    type: str | None = None
    value: Any = None


@attrs.frozen(kw_only=True)
class FulfillmentCenter:
    """A fulfillment center reference (``fulfillment.center``)."""

    code: str | None = None


@attrs.frozen(kw_only=True)
class Fulfillment:
    """Fulfillment information of an order or offer (OR11, OF21, OF54)."""

    center: FulfillmentCenter | None = None


@attrs.frozen(kw_only=True)
class DiscountCampaign:
    """A discount campaign reference (OR11 ``discount_campaigns``, OF54)."""

    identifier: str | None = None


@attrs.frozen(kw_only=True)
class EcoContribution:
    """An eco-contribution (EPR) amount (OR11 lines/refunds/cancelations, OF21, OF54)."""

    epr_category_code: str | None = None
    producer_id: str | None = None
    producer_id_owner: str | None = None
    unit_amount: Decimal | None = None
    total_amount: Decimal | None = None
    eco_contribution_amount: Decimal | None = None
