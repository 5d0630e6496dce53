"""Finance models: TL02 transaction log lines (the payout ledger)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from mirakl_sync.mirakl.models.common import PaymentState, TransactionType
from mirakl_sync.mirakl.models.orders import OrderReferences

__all__ = [
    "EntityCode",
    "EntityId",
    "EntityTax",
    "ManualAccountingDocument",
    "Transaction",
    "TransactionEntities",
    "TransactionFee",
    "TransactionInfo",
    "TransactionOrder",
    "TransactionPaymentInfo",
]


@attrs.frozen(kw_only=True)
class EntityId:
    """``{id}`` reference to an order line, refund, cancelation, shipment or debit."""

    id: str | None = None


@attrs.frozen(kw_only=True)
class EntityCode:
    """``{code}`` reference to a channel or an order fee."""

    code: str | None = None


@attrs.frozen(kw_only=True)
class EntityTax:
    """A tax reference (``order_tax`` / ``shop_tax``); ``rate`` in percent."""

    code: str | None = None
    rate: Decimal | None = None


@attrs.frozen(kw_only=True)
class TransactionPaymentInfo:
    """Customer payment information of the order behind a transaction."""

    imprint_number: str | None = None
    payment_type: str | None = None


@attrs.frozen(kw_only=True)
class TransactionOrder:
    """The order a transaction line belongs to (``entities.order``)."""

    id: str | None = None
    commercial_id: str | None = None
    creation_date: dt.datetime | None = None
    references: OrderReferences | None = None
    payment_info: TransactionPaymentInfo | None = None


@attrs.frozen(kw_only=True)
class TransactionFee:
    """A seller additional fee (``entities.fee``) with the refunds/cancelations it relates to."""

    code: str | None = None
    refunds: tuple[EntityId, ...] = ()
    cancelations: tuple[EntityId, ...] = ()


@attrs.frozen(kw_only=True)
class TransactionInfo:
    """Payment transaction date and number (``entities.transaction_info``)."""

    date: dt.datetime | None = None
    number: str | None = None


@attrs.frozen(kw_only=True)
class ManualAccountingDocument:
    """A manual invoice or credit note (``entities.manual_accounting_document``)."""

    number: str | None = None
    emission_date: dt.datetime | None = None


@attrs.frozen(kw_only=True)
class TransactionEntities:
    """What a transaction line is about (TL02 ``entities``).

    ``domain`` is PRODUCT or SERVICE; ``one_off_item`` is kept as raw JSON.
    """

    order: TransactionOrder | None = None
    order_line: EntityId | None = None
    refund: EntityId | None = None
    shipment: EntityId | None = None
    debit: EntityId | None = None
    fee: TransactionFee | None = None
    order_fee: EntityCode | None = None
    order_tax: EntityTax | None = None
    shop_tax: EntityTax | None = None
    channel: EntityCode | None = None
    domain: str | None = None
    transaction_info: TransactionInfo | None = None
    manual_accounting_document: ManualAccountingDocument | None = None
    one_off_item: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Transaction:
    """A transaction log line (TL02 ``data[]``).

    ``amount`` is signed (credit positive, debit negative) and equals
    ``amount_credited - amount_debited``; ``balance`` is the running balance. ``payment_state``
    moves PENDING -> PAYABLE -> PAID: sync incrementally on ``last_updated``.
    """

    id: str
    type: TransactionType | str | None = None
    amount: Decimal | None = None
    amount_credited: Decimal | None = None
    amount_debited: Decimal | None = None
    balance: Decimal | None = None
    currency_iso_code: str | None = None
    date_created: dt.datetime | None = None
    last_updated: dt.datetime | None = None
    payment_state: PaymentState | str | None = None
    accounting_document_id: str | None = None
    accounting_document_number: str | None = None
    accounting_document_creation_date: dt.datetime | None = None
    seller_billing_cycle_id: str | None = None
    payment_voucher_number: str | None = None
    pay_out_psp_code: str | None = None
    psp_balance: Decimal | None = None
    entities: TransactionEntities | None = None
