"""Offers: OF21 list, OF52/OF53/OF54 asynchronous export, OF01/OF02/OF03 file import."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Iterator
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
from mirakl_sync.mirakl._base import (
    Params,
    ResourceBase,
    TransportT,
    export_finished,
    export_timed_out,
    require_id,
    spec,
)
from mirakl_sync.mirakl.models import (
    ExportedOffer,
    ExportTracking,
    Offer,
    OfferExportRequest,
    OfferExportStatus,
    OfferImportResult,
    OfferImportStatus,
)

MAX_PAGE_SIZE = 100
JSON_EXPORT = "application/json"


class _OffersRequests(ResourceBase[TransportT]):
    """Request builders shared by :class:`Offers` and :class:`AsyncOffers`."""

    def _list_paging(
        self,
        *,
        sku: str | None,
        product_id: str | None,
        offer_state_codes: Iterable[str] | None,
        favorite: bool | None,
        pricing_channel_code: str | None,
        page_size: int,
        sort: Literal["totalPrice", "price", "productTitle"] | None,
        sort_order: Literal["asc", "desc"] | None,
    ) -> OffsetPaging[Offer]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        params = (
            Params()
            .add("sku", sku)
            .add("product_id", product_id)
            .csv("offer_state_codes", offer_state_codes)
            .add("favorite", favorite)
            .add("pricing_channel_code", pricing_channel_code)
            .add("sort", sort)
            .add("order", sort_order)
            .build()
        )
        base = spec("OF21", params=params, budgeted=False)
        return OffsetPaging(
            spec=base,
            items_key="offers",
            parse_item=self._item_parser(base, Offer),
            page_size=page_size,
        )

    def _export_spec(self, request: OfferExportRequest) -> RequestSpec:
        body = to_wire(self._converter, request)
        body.setdefault("export_type", JSON_EXPORT)
        # Mirakl answers a duplicate OF52 with the existing tracking id: safe to retry.
        return spec("OF52", json_body=body, idempotent=True)

    @staticmethod
    def _export_status_spec(tracking_id: str) -> RequestSpec:
        return spec("OF53", path_params={"tracking_id": require_id(tracking_id, "tracking_id")})

    @staticmethod
    def _download_spec(url: str) -> RequestSpec:
        return spec("OF54", url=require_id(url, "url"), budgeted=False)

    @staticmethod
    def _import_spec(
        file: bytes,
        *,
        filename: str,
        import_mode: Literal["NORMAL", "REPLACE"],
        with_products: bool,
        operator_format: bool | None,
    ) -> RequestSpec:
        if not isinstance(file, bytes | bytearray) or not file:
            raise ValueError("OF01 needs a non-empty file (bytes)")
        if import_mode not in ("NORMAL", "REPLACE"):
            raise ValueError("import_mode must be NORMAL or REPLACE")
        data = [
            ("import_mode", import_mode),
            ("with_products", "true" if with_products else "false"),
        ]
        if operator_format is not None:
            data.append(("operator_format", "true" if operator_format else "false"))
        content_type = (
            "text/csv" if filename.lower().endswith(".csv") else "application/octet-stream"
        )
        return spec(
            "OF01",
            files=(("file", (filename, bytes(file), content_type)),),
            data=tuple(data),
        )

    @staticmethod
    def _import_status_spec(import_id: int | str) -> RequestSpec:
        return spec("OF02", path_params={"import": require_id(str(import_id), "import_id")})

    @staticmethod
    def _error_report_spec(import_id: int | str) -> RequestSpec:
        return spec(
            "OF03",
            path_params={"import": require_id(str(import_id), "import_id")},
            accept="application/octet-stream",
        )


class Offers(_OffersRequests[SyncTransport]):
    """The shop's offers (sync)."""

    def list(
        self,
        *,
        sku: str | None = None,
        product_id: str | None = None,
        offer_state_codes: Iterable[str] | None = None,
        favorite: bool | None = None,
        pricing_channel_code: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort: Literal["totalPrice", "price", "productTitle"] | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Offer]:
        """OF21: list offers lazily. Mirakl meant OF21 for page views: for a whole catalogue
        prefer :meth:`export` (OF52/OF53/OF54)."""
        paging = self._list_paging(
            sku=sku,
            product_id=product_id,
            offer_state_codes=offer_state_codes,
            favorite=favorite,
            pricing_channel_code=pricing_channel_code,
            page_size=page_size,
            sort=sort,
            sort_order=sort_order,
        )
        return SyncPager(self._transport, [paging], options)

    def start_export(
        self, request: OfferExportRequest | None = None, **options: Unpack[RequestOptions]
    ) -> ExportTracking:
        """OF52: start an asynchronous offer export (JSON unless ``export_type`` says CSV).

        With ``last_request_date`` the export is differential (updated, inactive and deleted
        offers since then); without it, a full export of active offers (once a day at most).
        """
        request_spec = self._export_spec(request or OfferExportRequest())
        return self._parse(
            request_spec, self._transport.request(request_spec, options), ExportTracking
        )

    def export_status(
        self, tracking_id: str, **options: Unpack[RequestOptions]
    ) -> OfferExportStatus:
        """OF53: poll an offer export (at most every 10 s)."""
        request_spec = self._export_status_spec(tracking_id)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), OfferExportStatus
        )

    def download_export(
        self, url: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[ExportedOffer]:
        """OF54: download one JSON export chunk (a URL from OF53)."""
        request_spec = self._download_spec(url)
        response = self._transport.request(request_spec, options)
        return self._parse_list(request_spec, response, "", ExportedOffer)

    def export(
        self,
        request: OfferExportRequest | None = None,
        *,
        poll_interval: float = 10.0,
        max_polls: int = 720,
        **options: Unpack[RequestOptions],
    ) -> Iterator[ExportedOffer]:
        """OF52 + OF53 + OF54: export, wait, then yield every offer (with per-warehouse
        quantities and, for differential exports, ``deleted`` flags)."""
        tracking = self.start_export(request, **options)
        for poll in range(max_polls):
            if poll:
                self._transport.config.sleep(poll_interval)
            status = self.export_status(tracking.tracking_id, **options)
            if export_finished(status.status, tracking.tracking_id, "OF53"):
                for url in status.urls:
                    yield from self.download_export(url, **options)
                return
        raise export_timed_out(tracking.tracking_id, "OF53", max_polls)

    def import_file(
        self,
        file: bytes,
        *,
        filename: str = "offers.csv",
        import_mode: Literal["NORMAL", "REPLACE"] = "NORMAL",
        with_products: bool = False,
        operator_format: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> OfferImportResult:
        """OF01: import an offer file (CSV/XML/XLSX). NORMAL updates only the columns present;
        REPLACE deletes offers absent from the file. Errors surface only in OF02/OF03."""
        request_spec = self._import_spec(
            file,
            filename=filename,
            import_mode=import_mode,
            with_products=with_products,
            operator_format=operator_format,
        )
        return self._parse(
            request_spec, self._transport.request(request_spec, options), OfferImportResult
        )

    def import_status(
        self, import_id: int | str, **options: Unpack[RequestOptions]
    ) -> OfferImportStatus:
        """OF02: status and counters of an offer import."""
        request_spec = self._import_status_spec(import_id)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), OfferImportStatus
        )

    def import_error_report(self, import_id: int | str, **options: Unpack[RequestOptions]) -> bytes:
        """OF03: the error report, in the format of the imported file (raw bytes)."""
        return self._transport.request(self._error_report_spec(import_id), options).content


class AsyncOffers(_OffersRequests[AsyncTransport]):
    """The shop's offers (async twin of :class:`Offers`)."""

    def list(
        self,
        *,
        sku: str | None = None,
        product_id: str | None = None,
        offer_state_codes: Iterable[str] | None = None,
        favorite: bool | None = None,
        pricing_channel_code: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort: Literal["totalPrice", "price", "productTitle"] | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Offer]:
        """OF21: list offers lazily (``async for``)."""
        paging = self._list_paging(
            sku=sku,
            product_id=product_id,
            offer_state_codes=offer_state_codes,
            favorite=favorite,
            pricing_channel_code=pricing_channel_code,
            page_size=page_size,
            sort=sort,
            sort_order=sort_order,
        )
        return AsyncPager(self._transport, [paging], options)

    async def start_export(
        self, request: OfferExportRequest | None = None, **options: Unpack[RequestOptions]
    ) -> ExportTracking:
        """OF52: start an asynchronous offer export."""
        request_spec = self._export_spec(request or OfferExportRequest())
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, ExportTracking)

    async def export_status(
        self, tracking_id: str, **options: Unpack[RequestOptions]
    ) -> OfferExportStatus:
        """OF53: poll an offer export."""
        request_spec = self._export_status_spec(tracking_id)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, OfferExportStatus)

    async def download_export(
        self, url: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[ExportedOffer]:
        """OF54: download one JSON export chunk."""
        request_spec = self._download_spec(url)
        response = await self._transport.request(request_spec, options)
        return self._parse_list(request_spec, response, "", ExportedOffer)

    async def export(
        self,
        request: OfferExportRequest | None = None,
        *,
        poll_interval: float = 10.0,
        max_polls: int = 720,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[ExportedOffer]:
        """OF52 + OF53 + OF54: export, wait, then yield every offer."""
        tracking = await self.start_export(request, **options)
        for poll in range(max_polls):
            if poll:
                await self._transport.config.async_sleep(poll_interval)
            status = await self.export_status(tracking.tracking_id, **options)
            if export_finished(status.status, tracking.tracking_id, "OF53"):
                for url in status.urls:
                    for offer in await self.download_export(url, **options):
                        yield offer
                return
        raise export_timed_out(tracking.tracking_id, "OF53", max_polls)

    async def import_file(
        self,
        file: bytes,
        *,
        filename: str = "offers.csv",
        import_mode: Literal["NORMAL", "REPLACE"] = "NORMAL",
        with_products: bool = False,
        operator_format: bool | None = None,
        **options: Unpack[RequestOptions],
    ) -> OfferImportResult:
        """OF01: import an offer file."""
        request_spec = self._import_spec(
            file,
            filename=filename,
            import_mode=import_mode,
            with_products=with_products,
            operator_format=operator_format,
        )
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, OfferImportResult)

    async def import_status(
        self, import_id: int | str, **options: Unpack[RequestOptions]
    ) -> OfferImportStatus:
        """OF02: status and counters of an offer import."""
        request_spec = self._import_status_spec(import_id)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, OfferImportStatus)

    async def import_error_report(
        self, import_id: int | str, **options: Unpack[RequestOptions]
    ) -> bytes:
        """OF03: the error report (raw bytes)."""
        response = await self._transport.request(self._error_report_spec(import_id), options)
        return response.content
