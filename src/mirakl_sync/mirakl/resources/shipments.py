"""Multiple shipments: ST01 create shipments, ST11 list shipments (seek pagination).

Multi-shipment is a platform feature (PC01 ``features.shipment.multi_shipment``); on a platform
without it, ship whole orders with OR23 + OR24 (``orders.update_tracking`` / ``orders.ship``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, Unpack

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    RequestOptions,
    RequestSpec,
    SeekPaging,
    SyncPager,
    SyncTransport,
)
from mirakl_sync._serde import to_wire
from mirakl_sync.mirakl._base import (
    Params,
    ResourceBase,
    TransportT,
    batches,
    spec,
    unique_strings,
)
from mirakl_sync.mirakl.models import (
    MAX_SHIPMENTS_PER_CALL,
    Shipment,
    ShipmentCreate,
    ShipmentDebitState,
    ShipmentResult,
    ShipmentState,
)

#: Largest ST11 page (``limit``); Mirakl's seek listings default to 10 and accept up to 100.
MAX_PAGE_SIZE = 100


class _ShipmentsRequests(ResourceBase[TransportT]):
    """Request builders shared by :class:`Shipments` and :class:`AsyncShipments`."""

    def _create_spec(self, shipments: Iterable[ShipmentCreate]) -> RequestSpec:
        if isinstance(shipments, ShipmentCreate):
            raise TypeError("ST01 takes an iterable of ShipmentCreate, not a single shipment")
        items = builtins.list(shipments)
        if not items:
            raise ValueError("ST01 needs at least one shipment")
        if len(items) > MAX_SHIPMENTS_PER_CALL:
            raise ValueError(
                f"ST01 accepts at most {MAX_SHIPMENTS_PER_CALL} shipments per call "
                f"(got {len(items)}); send them in several calls and check each result"
            )
        for item in items:
            if not isinstance(item, ShipmentCreate):
                raise TypeError("ST01 shipments must be ShipmentCreate objects")
        body = {"shipments": [to_wire(self._converter, item) for item in items]}
        return spec("ST01", json_body=body)

    def _list_pagings(
        self,
        *,
        order_ids: Iterable[str] | None,
        shipment_state_codes: Iterable[ShipmentState | str] | None,
        customer_debit_state_codes: Iterable[ShipmentDebitState | str] | None,
        last_updated_from: datetime | None,
        last_updated_to: datetime | None,
        sort_order: Literal["asc", "desc"] | None,
        page_size: int,
    ) -> builtins.list[SeekPaging[Shipment]]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        states = [str(s) for s in shipment_state_codes] if shipment_state_codes else None
        debits = (
            [str(s) for s in customer_debit_state_codes] if customer_debit_state_codes else None
        )
        common: tuple[tuple[str, str], ...] = (
            Params()
            .repeated("shipment_state_code", states)
            .repeated("shipment_customer_debit_state_code", debits)
            .add("last_updated_from", last_updated_from)
            .add("last_updated_to", last_updated_to)
            .add("sort", f"dateCreated,{sort_order}" if sort_order else None)
            .build()
        )
        param_sets: builtins.list[tuple[tuple[str, str], ...]] = [common]
        if order_ids is not None:
            ids: Sequence[str] = unique_strings(order_ids, "order_ids")
            # order_id takes at most 100 values: one listing per batch.
            param_sets = [
                tuple(("order_id", value) for value in chunk) + common for chunk in batches(ids)
            ]
        pagings = []
        for params in param_sets:
            base = spec("ST11", params=params)
            pagings.append(
                SeekPaging(
                    spec=base,
                    items_key="data",
                    parse_item=self._item_parser(base, Shipment),
                    page_size=page_size,
                )
            )
        return pagings


class Shipments(_ShipmentsRequests[SyncTransport]):
    """Multiple shipments per order, partial quantities per line (sync)."""

    def create(
        self, shipments: Iterable[ShipmentCreate], **options: Unpack[RequestOptions]
    ) -> ShipmentResult:
        """ST01: create shipments (at most 1000 per call); ``shipped=True`` ships on creation.

        Partial success is normal: refused shipments come back in ``shipment_errors`` with
        their order id and Mirakl's message, created ones in ``shipment_success``. More than
        1000 shipments raise ValueError before any I/O (no silent split: a failure between
        batches would leave an unknown part created). Not retried after an ambiguous failure
        (timeout, 5xx): read the order's shipments with ST11 before sending again.
        """
        request_spec = self._create_spec(shipments)
        response = self._transport.request(request_spec, options)
        return self._parse(request_spec, response, ShipmentResult)

    def list(
        self,
        *,
        order_ids: Iterable[str] | None = None,
        shipment_state_codes: Iterable[ShipmentState | str] | None = None,
        customer_debit_state_codes: Iterable[ShipmentDebitState | str] | None = None,
        last_updated_from: datetime | None = None,
        last_updated_to: datetime | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Shipment]:
        """ST11: list shipments lazily, by seek pagination (``limit`` up to 100).

        Sorted by creation date (ascending unless ``sort_order="desc"``). More than 100
        ``order_ids`` are split into several listings automatically.
        ``customer_debit_state_codes`` maps to ``shipment_customer_debit_state_code``.
        """
        pagings = self._list_pagings(
            order_ids=order_ids,
            shipment_state_codes=shipment_state_codes,
            customer_debit_state_codes=customer_debit_state_codes,
            last_updated_from=last_updated_from,
            last_updated_to=last_updated_to,
            sort_order=sort_order,
            page_size=page_size,
        )
        return SyncPager(self._transport, pagings, options)


class AsyncShipments(_ShipmentsRequests[AsyncTransport]):
    """Multiple shipments (async twin of :class:`Shipments`)."""

    async def create(
        self, shipments: Iterable[ShipmentCreate], **options: Unpack[RequestOptions]
    ) -> ShipmentResult:
        """ST01: create shipments (at most 1000 per call). See :meth:`Shipments.create`."""
        request_spec = self._create_spec(shipments)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, ShipmentResult)

    def list(
        self,
        *,
        order_ids: Iterable[str] | None = None,
        shipment_state_codes: Iterable[ShipmentState | str] | None = None,
        customer_debit_state_codes: Iterable[ShipmentDebitState | str] | None = None,
        last_updated_from: datetime | None = None,
        last_updated_to: datetime | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Shipment]:
        """ST11: list shipments (``async for``). See :meth:`Shipments.list`."""
        pagings = self._list_pagings(
            order_ids=order_ids,
            shipment_state_codes=shipment_state_codes,
            customer_debit_state_codes=customer_debit_state_codes,
            last_updated_from=last_updated_from,
            last_updated_to=last_updated_to,
            sort_order=sort_order,
            page_size=page_size,
        )
        return AsyncPager(self._transport, pagings, options)
