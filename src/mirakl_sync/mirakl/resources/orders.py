"""Orders: OR11 list/get, OR21 accept, OR23 tracking, OR24 ship, OR28 refund, OR29/OR30 cancel,
OR13/OR14/OR15 asynchronous export."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Literal, Unpack

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    OffsetPaging,
    RequestOptions,
    RequestSpec,
    SyncPager,
    SyncTransport,
)
from mirakl_sync._serde import to_wire
from mirakl_sync.errors import NotFoundError
from mirakl_sync.mirakl._base import (
    Params,
    ResourceBase,
    TransportT,
    batches,
    export_finished,
    export_timed_out,
    format_datetime,
    require_id,
    spec,
    unique_strings,
)
from mirakl_sync.mirakl.models import (
    CancelationRequest,
    CancelationResult,
    ExportTracking,
    LineDecision,
    Order,
    OrderExportRequest,
    OrderExportStatus,
    OrderState,
    RefundRequest,
    RefundResult,
    TrackingUpdate,
)

#: Largest OR11 page size used (Mirakl publishes no maximum; 100 is what integrators use).
MAX_PAGE_SIZE = 100
#: OR13 refuses date ranges above one year.
MAX_EXPORT_RANGE = timedelta(days=365)


def _decisions_body(decisions: Mapping[str, bool] | Iterable[LineDecision]) -> list[LineDecision]:
    if isinstance(decisions, Mapping):
        lines = [
            LineDecision(id=require_id(line_id, "order line id"), accepted=bool(accepted))
            for line_id, accepted in decisions.items()
        ]
    else:
        lines = list(decisions)
    if not lines:
        raise ValueError("OR21 needs a decision for every order line; none was given")
    ids = [line.id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("OR21: an order line is decided twice")
    return lines


class _OrdersRequests(ResourceBase[TransportT]):
    """Request builders shared by :class:`Orders` and :class:`AsyncOrders`."""

    def _list_pagings(
        self,
        *,
        states: Iterable[OrderState | str] | None,
        order_ids: Iterable[str] | None,
        references_for_customer: Iterable[str] | None,
        references_for_seller: Iterable[str] | None,
        created_from: datetime | None,
        created_to: datetime | None,
        updated_from: datetime | None,
        updated_to: datetime | None,
        channel_codes: Iterable[str] | None,
        only_null_channel: bool | None,
        customer_debited: bool | None,
        payment_workflow: str | None,
        has_incident: bool | None,
        fulfillment_center_codes: Iterable[str] | None,
        order_tax_mode: str | None,
        page_size: int,
        sort_order: Literal["asc", "desc"] | None,
    ) -> builtins.list[OffsetPaging[Order]]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        common: tuple[tuple[str, str], ...] = (
            Params()
            .csv("order_references_for_customer", references_for_customer)
            .csv("order_references_for_seller", references_for_seller)
            .csv("order_state_codes", [str(s) for s in states] if states is not None else None)
            .csv("channel_codes", channel_codes)
            .add("only_null_channel", only_null_channel)
            .add("start_date", created_from)
            .add("end_date", created_to)
            .add("start_update_date", updated_from)
            .add("end_update_date", updated_to)
            .add("customer_debited", customer_debited)
            .add("payment_workflow", payment_workflow)
            .add("has_incident", has_incident)
            .repeated("fulfillment_center_code", fulfillment_center_codes)
            .add("order_tax_mode", order_tax_mode)
            .add("sort", "dateCreated" if sort_order else None)
            .add("order", sort_order)
            .build()
        )
        if order_ids is None:
            base = spec("OR11", params=common)
            return [self._paging(base, page_size)]
        ids = unique_strings(order_ids, "order_ids")
        # Lookups by id are Mirakl's "synchronous" usage: not charged to the OR11 budget.
        pagings = []
        for chunk in batches(ids):
            params: tuple[tuple[str, str], ...] = (("order_ids", ",".join(chunk)), *common)
            pagings.append(self._paging(spec("OR11", params=params, budgeted=False), page_size))
        return pagings

    def _paging(self, base: RequestSpec, page_size: int) -> OffsetPaging[Order]:
        return OffsetPaging(
            spec=base,
            items_key="orders",
            parse_item=self._item_parser(base, Order),
            page_size=page_size,
        )

    def _accept_spec(
        self, order_id: str, decisions: Mapping[str, bool] | Iterable[LineDecision]
    ) -> RequestSpec:
        lines = _decisions_body(decisions)
        body = {"order_lines": [to_wire(self._converter, line) for line in lines]}
        return spec(
            "OR21", path_params={"order_id": require_id(order_id, "order_id")}, json_body=body
        )

    def _tracking_spec(self, order_id: str, update: TrackingUpdate) -> RequestSpec:
        if not (update.carrier_code or update.carrier_name):
            raise ValueError("OR23 needs carrier_code (registered carrier) or carrier_name")
        return spec(
            "OR23",
            path_params={"order_id": require_id(order_id, "order_id")},
            json_body=to_wire(self._converter, update),
        )

    def _refund_spec(
        self, refunds: Iterable[RefundRequest], order_tax_mode: str | None
    ) -> RequestSpec:
        items = [to_wire(self._converter, r) for r in refunds]
        if not items:
            raise ValueError("OR28 needs at least one refund")
        body: dict[str, object] = {"refunds": items}
        if order_tax_mode is not None:
            body["order_tax_mode"] = str(order_tax_mode)
        return spec("OR28", json_body=body)

    def _cancel_lines_spec(
        self, cancelations: Iterable[CancelationRequest], order_tax_mode: str | None
    ) -> RequestSpec:
        items = [to_wire(self._converter, c) for c in cancelations]
        if not items:
            raise ValueError("OR30 needs at least one cancelation")
        body: dict[str, object] = {"cancelations": items}
        if order_tax_mode is not None:
            body["order_tax_mode"] = str(order_tax_mode)
        return spec("OR30", json_body=body)

    def _export_spec(self, request: OrderExportRequest) -> RequestSpec:
        ranges = [
            (request.start_date, request.end_date, "start_date/end_date"),
            (
                request.start_update_date,
                request.end_update_date,
                "start_update_date/end_update_date",
            ),
        ]
        given = [(a, b, n) for a, b, n in ranges if a is not None or b is not None]
        if not given:
            raise ValueError("OR13 needs a creation or an update date range")
        for start, end, name in given:
            if start is None or end is None:
                raise ValueError(f"OR13: {name} must be given together")
            format_datetime(start, name)
            format_datetime(end, name)
            if end <= start:
                raise ValueError(f"OR13: {name} is empty or reversed")
            if end - start > MAX_EXPORT_RANGE:
                raise ValueError(f"OR13: {name} exceeds Mirakl's one-year maximum")
        return spec("OR13", json_body=to_wire(self._converter, request))

    @staticmethod
    def _status_spec(tracking_id: str) -> RequestSpec:
        return spec("OR14", path_params={"tracking_id": require_id(tracking_id, "tracking_id")})

    @staticmethod
    def _download_spec(url: str) -> RequestSpec:
        return spec("OR15", url=require_id(url, "url"), budgeted=False)


def _not_found(order_id: str) -> NotFoundError:
    return NotFoundError(
        f"order {order_id!r} was not returned by OR11",
        status_code=404,
        operation="OR11",
        method="GET",
    )


class Orders(_OrdersRequests[SyncTransport]):
    """Mirakl orders (sync). Every method names its Mirakl operation code."""

    def list(
        self,
        *,
        states: Iterable[OrderState | str] | None = None,
        order_ids: Iterable[str] | None = None,
        references_for_customer: Iterable[str] | None = None,
        references_for_seller: Iterable[str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        channel_codes: Iterable[str] | None = None,
        only_null_channel: bool | None = None,
        customer_debited: bool | None = None,
        payment_workflow: str | None = None,
        has_incident: bool | None = None,
        fulfillment_center_codes: Iterable[str] | None = None,
        order_tax_mode: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort_order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Order]:
        """OR11: list orders lazily, page by page (offset pagination).

        ``updated_from`` maps to ``start_update_date``: Mirakl subtracts a safety delta from it,
        so results overlap between polls; dedupe by ``order_id`` + ``last_updated_date``.
        More than 100 ``order_ids`` are split into several calls automatically. A listing
        without ``order_ids`` is charged to the OR11 budget (at most once a minute).
        """
        pagings = self._list_pagings(
            states=states,
            order_ids=order_ids,
            references_for_customer=references_for_customer,
            references_for_seller=references_for_seller,
            created_from=created_from,
            created_to=created_to,
            updated_from=updated_from,
            updated_to=updated_to,
            channel_codes=channel_codes,
            only_null_channel=only_null_channel,
            customer_debited=customer_debited,
            payment_workflow=payment_workflow,
            has_incident=has_incident,
            fulfillment_center_codes=fulfillment_center_codes,
            order_tax_mode=order_tax_mode,
            page_size=page_size,
            sort_order=sort_order,
        )
        return SyncPager(self._transport, pagings, options)

    def get(self, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """OR11 by ``order_ids``: one order (OR12 is deprecated). Raises NotFoundError."""
        require_id(order_id, "order_id")
        for order in self.list(order_ids=[order_id], **options):
            if order.order_id == order_id:
                return order
        raise _not_found(order_id)

    def accept(
        self,
        order_id: str,
        decisions: Mapping[str, bool] | Iterable[LineDecision],
        **options: Unpack[RequestOptions],
    ) -> None:
        """OR21: accept or refuse every line of an order in one call.

        ``decisions`` maps each order line id to ``True`` (accept) or ``False`` (refuse). A
        repeated call on an order already accepted raises InvalidStateError
        (``ORDER_INVALID_STATE``): re-read the order to confirm.
        """
        self._transport.request(self._accept_spec(order_id, decisions), options)

    def update_tracking(
        self,
        order_id: str,
        *,
        carrier_code: str | None = None,
        carrier_name: str | None = None,
        carrier_url: str | None = None,
        carrier_standard_code: str | None = None,
        tracking_number: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """OR23: set the carrier and tracking number (send before OR24 ship)."""
        update = TrackingUpdate(
            carrier_code=carrier_code,
            carrier_name=carrier_name,
            carrier_url=carrier_url,
            carrier_standard_code=carrier_standard_code,
            tracking_number=tracking_number,
        )
        self._transport.request(self._tracking_spec(order_id, update), options)

    def ship(self, order_id: str, **options: Unpack[RequestOptions]) -> None:
        """OR24: confirm the shipment (the order must be SHIPPING, else 400)."""
        self._transport.request(
            spec("OR24", path_params={"order_id": require_id(order_id, "order_id")}), options
        )

    def refund(
        self,
        refunds: Iterable[RefundRequest],
        *,
        order_tax_mode: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> RefundResult:
        """OR28: refund order lines by amount; returns the refunds Mirakl created.

        Not retried after an ambiguous failure (timeout, 5xx): check the order's refunds
        before sending again, or a second refund is created.
        """
        request_spec = self._refund_spec(refunds, order_tax_mode)
        response = self._transport.request(request_spec, options)
        return self._parse(request_spec, response, RefundResult)

    def cancel(self, order_id: str, **options: Unpack[RequestOptions]) -> None:
        """OR29: cancel a whole order (check ``can_cancel`` first)."""
        self._transport.request(
            spec("OR29", path_params={"order_id": require_id(order_id, "order_id")}), options
        )

    def cancel_lines(
        self,
        cancelations: Iterable[CancelationRequest],
        *,
        order_tax_mode: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CancelationResult:
        """OR30: cancel order line quantities/amounts; returns the cancelations created."""
        request_spec = self._cancel_lines_spec(cancelations, order_tax_mode)
        response = self._transport.request(request_spec, options)
        return self._parse(request_spec, response, CancelationResult)

    def start_export(
        self, request: OrderExportRequest, **options: Unpack[RequestOptions]
    ) -> ExportTracking:
        """OR13: start an asynchronous order export (backfills; one at a time per shop)."""
        request_spec = self._export_spec(request)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), ExportTracking
        )

    def export_status(
        self, tracking_id: str, **options: Unpack[RequestOptions]
    ) -> OrderExportStatus:
        """OR14: poll an order export (at most every 2 s, enforced by the call budget)."""
        request_spec = self._status_spec(tracking_id)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), OrderExportStatus
        )

    def download_export(self, url: str, **options: Unpack[RequestOptions]) -> builtins.list[Order]:
        """OR15: download one export chunk (a URL from OR14) into orders."""
        request_spec = self._download_spec(url)
        response = self._transport.request(request_spec, options)
        return self._parse_list(request_spec, response, "orders", Order)

    def export(
        self,
        request: OrderExportRequest,
        *,
        poll_interval: float = 5.0,
        max_polls: int = 720,
        **options: Unpack[RequestOptions],
    ) -> Iterator[Order]:
        """OR13 + OR14 + OR15: export, wait for completion, then yield every order.

        Polls every ``poll_interval`` seconds (never more often than OR14's 2 s maximum);
        raises APIError when the export ends FAILED or CANCELED, or is still running after
        ``max_polls`` polls.
        """
        tracking = self.start_export(request, **options)
        for poll in range(max_polls):
            if poll:
                self._transport.config.sleep(poll_interval)
            status = self.export_status(tracking.tracking_id, **options)
            if export_finished(status.status, tracking.tracking_id, "OR14"):
                for url in status.urls:
                    yield from self.download_export(url, **options)
                return
        raise export_timed_out(tracking.tracking_id, "OR14", max_polls)


class AsyncOrders(_OrdersRequests[AsyncTransport]):
    """Mirakl orders (async twin of :class:`Orders`)."""

    def list(
        self,
        *,
        states: Iterable[OrderState | str] | None = None,
        order_ids: Iterable[str] | None = None,
        references_for_customer: Iterable[str] | None = None,
        references_for_seller: Iterable[str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        channel_codes: Iterable[str] | None = None,
        only_null_channel: bool | None = None,
        customer_debited: bool | None = None,
        payment_workflow: str | None = None,
        has_incident: bool | None = None,
        fulfillment_center_codes: Iterable[str] | None = None,
        order_tax_mode: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort_order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Order]:
        """OR11: list orders lazily (``async for``). See :meth:`Orders.list`."""
        pagings = self._list_pagings(
            states=states,
            order_ids=order_ids,
            references_for_customer=references_for_customer,
            references_for_seller=references_for_seller,
            created_from=created_from,
            created_to=created_to,
            updated_from=updated_from,
            updated_to=updated_to,
            channel_codes=channel_codes,
            only_null_channel=only_null_channel,
            customer_debited=customer_debited,
            payment_workflow=payment_workflow,
            has_incident=has_incident,
            fulfillment_center_codes=fulfillment_center_codes,
            order_tax_mode=order_tax_mode,
            page_size=page_size,
            sort_order=sort_order,
        )
        return AsyncPager(self._transport, pagings, options)

    async def get(self, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """OR11 by ``order_ids``: one order. Raises NotFoundError."""
        require_id(order_id, "order_id")
        async for order in self.list(order_ids=[order_id], **options):
            if order.order_id == order_id:
                return order
        raise _not_found(order_id)

    async def accept(
        self,
        order_id: str,
        decisions: Mapping[str, bool] | Iterable[LineDecision],
        **options: Unpack[RequestOptions],
    ) -> None:
        """OR21: accept or refuse every line of an order in one call."""
        await self._transport.request(self._accept_spec(order_id, decisions), options)

    async def update_tracking(
        self,
        order_id: str,
        *,
        carrier_code: str | None = None,
        carrier_name: str | None = None,
        carrier_url: str | None = None,
        carrier_standard_code: str | None = None,
        tracking_number: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> None:
        """OR23: set the carrier and tracking number."""
        update = TrackingUpdate(
            carrier_code=carrier_code,
            carrier_name=carrier_name,
            carrier_url=carrier_url,
            carrier_standard_code=carrier_standard_code,
            tracking_number=tracking_number,
        )
        await self._transport.request(self._tracking_spec(order_id, update), options)

    async def ship(self, order_id: str, **options: Unpack[RequestOptions]) -> None:
        """OR24: confirm the shipment."""
        await self._transport.request(
            spec("OR24", path_params={"order_id": require_id(order_id, "order_id")}), options
        )

    async def refund(
        self,
        refunds: Iterable[RefundRequest],
        *,
        order_tax_mode: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> RefundResult:
        """OR28: refund order lines by amount."""
        request_spec = self._refund_spec(refunds, order_tax_mode)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, RefundResult)

    async def cancel(self, order_id: str, **options: Unpack[RequestOptions]) -> None:
        """OR29: cancel a whole order."""
        await self._transport.request(
            spec("OR29", path_params={"order_id": require_id(order_id, "order_id")}), options
        )

    async def cancel_lines(
        self,
        cancelations: Iterable[CancelationRequest],
        *,
        order_tax_mode: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> CancelationResult:
        """OR30: cancel order line quantities/amounts."""
        request_spec = self._cancel_lines_spec(cancelations, order_tax_mode)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, CancelationResult)

    async def start_export(
        self, request: OrderExportRequest, **options: Unpack[RequestOptions]
    ) -> ExportTracking:
        """OR13: start an asynchronous order export."""
        request_spec = self._export_spec(request)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, ExportTracking)

    async def export_status(
        self, tracking_id: str, **options: Unpack[RequestOptions]
    ) -> OrderExportStatus:
        """OR14: poll an order export."""
        request_spec = self._status_spec(tracking_id)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, OrderExportStatus)

    async def download_export(
        self, url: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[Order]:
        """OR15: download one export chunk into orders."""
        request_spec = self._download_spec(url)
        response = await self._transport.request(request_spec, options)
        return self._parse_list(request_spec, response, "orders", Order)

    async def export(
        self,
        request: OrderExportRequest,
        *,
        poll_interval: float = 5.0,
        max_polls: int = 720,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[Order]:
        """OR13 + OR14 + OR15: export, wait for completion, then yield every order."""
        tracking = await self.start_export(request, **options)
        for poll in range(max_polls):
            if poll:
                await self._transport.config.async_sleep(poll_interval)
            status = await self.export_status(tracking.tracking_id, **options)
            if export_finished(status.status, tracking.tracking_id, "OR14"):
                for url in status.urls:
                    for order in await self.download_export(url, **options):
                        yield order
                return
        raise export_timed_out(tracking.tracking_id, "OR14", max_polls)
