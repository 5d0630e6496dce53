"""Finance: TL02 transaction lines (seek pagination, up to 2000 per page)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, Unpack

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    RequestOptions,
    SeekPaging,
    SyncPager,
    SyncTransport,
)
from mirakl_sync.mirakl._base import (
    Params,
    ResourceBase,
    TransportT,
    batches,
    spec,
    unique_strings,
)
from mirakl_sync.mirakl.models import PaymentState, Transaction, TransactionType

MAX_PAGE_SIZE = 2000


class _FinanceRequests(ResourceBase[TransportT]):
    def _pagings(
        self,
        *,
        last_updated_from: datetime | None,
        date_created_from: datetime | None,
        date_created_to: datetime | None,
        transaction_date_from: datetime | None,
        transaction_date_to: datetime | None,
        payment_states: Iterable[PaymentState | str] | None,
        transaction_types: Iterable[TransactionType | str] | None,
        order_ids: Iterable[str] | None,
        order_line_ids: Iterable[str] | None,
        seller_billing_cycle_ids: Iterable[str] | None,
        accounting_document_number: str | None,
        sort: Literal["dateCreated", "lastUpdated"],
        sort_order: Literal["asc", "desc"] | None,
        page_size: int,
    ) -> list[SeekPaging[Transaction]]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        common: tuple[tuple[str, str], ...] = (
            Params()
            .add("last_updated_from", last_updated_from)
            .add("date_created_from", date_created_from)
            .add("date_created_to", date_created_to)
            .add("transaction_date_from", transaction_date_from)
            .add("transaction_date_to", transaction_date_to)
            .repeated("payment_state", [str(s) for s in payment_states] if payment_states else None)
            .repeated(
                "transaction_type",
                [str(t) for t in transaction_types] if transaction_types else None,
            )
            .repeated("seller_billing_cycle_id", seller_billing_cycle_ids)
            .add("accounting_document_number", accounting_document_number)
            .add("sort", f"{sort},{sort_order}" if sort_order else sort)
            .build()
        )
        # Id filters accept at most 100 values: split into several listings.
        id_filters: list[tuple[str, Sequence[str]]] = []
        if order_ids is not None:
            id_filters.append(("order_id", unique_strings(order_ids, "order_ids")))
        if order_line_ids is not None:
            id_filters.append(("order_line_id", unique_strings(order_line_ids, "order_line_ids")))
        if len(id_filters) > 1:
            raise ValueError("filter TL02 by order_ids or by order_line_ids, not both")
        param_sets: list[tuple[tuple[str, str], ...]] = [common]
        if id_filters:
            name, ids = id_filters[0]
            param_sets = [
                common + tuple((name, value) for value in chunk) for chunk in batches(ids)
            ]
        pagings = []
        for params in param_sets:
            base = spec("TL02", params=params)
            pagings.append(
                SeekPaging(
                    spec=base,
                    items_key="data",
                    parse_item=self._item_parser(base, Transaction),
                    page_size=page_size,
                    budget_every_page=True,
                )
            )
        return pagings


_SORT = Literal["dateCreated", "lastUpdated"]


class Finance(_FinanceRequests[SyncTransport]):
    """Payout and accounting data (sync)."""

    def transactions(
        self,
        *,
        last_updated_from: datetime | None = None,
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        transaction_date_from: datetime | None = None,
        transaction_date_to: datetime | None = None,
        payment_states: Iterable[PaymentState | str] | None = None,
        transaction_types: Iterable[TransactionType | str] | None = None,
        order_ids: Iterable[str] | None = None,
        order_line_ids: Iterable[str] | None = None,
        seller_billing_cycle_ids: Iterable[str] | None = None,
        accounting_document_number: str | None = None,
        sort: _SORT = "lastUpdated",
        sort_order: Literal["asc", "desc"] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Transaction]:
        """TL02: transaction lines, lazily, by seek pagination (``limit`` up to 2000).

        ``sort="lastUpdated"`` (Mirakl's recommendation) with ``last_updated_from`` reads
        changes incrementally. Every page counts against TL02's 20/min and 60/hour budget.
        """
        pagings = self._pagings(
            last_updated_from=last_updated_from,
            date_created_from=date_created_from,
            date_created_to=date_created_to,
            transaction_date_from=transaction_date_from,
            transaction_date_to=transaction_date_to,
            payment_states=payment_states,
            transaction_types=transaction_types,
            order_ids=order_ids,
            order_line_ids=order_line_ids,
            seller_billing_cycle_ids=seller_billing_cycle_ids,
            accounting_document_number=accounting_document_number,
            sort=sort,
            sort_order=sort_order,
            page_size=page_size,
        )
        return SyncPager(self._transport, pagings, options)


class AsyncFinance(_FinanceRequests[AsyncTransport]):
    """Payout and accounting data (async twin of :class:`Finance`)."""

    def transactions(
        self,
        *,
        last_updated_from: datetime | None = None,
        date_created_from: datetime | None = None,
        date_created_to: datetime | None = None,
        transaction_date_from: datetime | None = None,
        transaction_date_to: datetime | None = None,
        payment_states: Iterable[PaymentState | str] | None = None,
        transaction_types: Iterable[TransactionType | str] | None = None,
        order_ids: Iterable[str] | None = None,
        order_line_ids: Iterable[str] | None = None,
        seller_billing_cycle_ids: Iterable[str] | None = None,
        accounting_document_number: str | None = None,
        sort: _SORT = "lastUpdated",
        sort_order: Literal["asc", "desc"] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Transaction]:
        """TL02: transaction lines (``async for``). See :meth:`Finance.transactions`."""
        pagings = self._pagings(
            last_updated_from=last_updated_from,
            date_created_from=date_created_from,
            date_created_to=date_created_to,
            transaction_date_from=transaction_date_from,
            transaction_date_to=transaction_date_to,
            payment_states=payment_states,
            transaction_types=transaction_types,
            order_ids=order_ids,
            order_line_ids=order_line_ids,
            seller_billing_cycle_ids=seller_billing_cycle_ids,
            accounting_document_number=accounting_document_number,
            sort=sort,
            sort_order=sort_order,
            page_size=page_size,
        )
        return AsyncPager(self._transport, pagings, options)
