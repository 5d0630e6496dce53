"""Stock: STO01 quantity import (CSV), STO02 status, STO03 error report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from mirakl_sync._http import AsyncTransport, RequestOptions, RequestSpec, SyncTransport
from mirakl_sync.mirakl._base import ResourceBase, TransportT, require_id, spec
from mirakl_sync.mirakl.models import (
    ImportErrorLine,
    StockImportResult,
    StockImportStatus,
    StockUpdate,
    parse_error_report,
    stock_csv,
)


class _StockRequests(ResourceBase[TransportT]):
    @staticmethod
    def _import_spec(updates: Iterable[StockUpdate], filename: str) -> RequestSpec:
        content = stock_csv(updates)
        if content.count(b"\n") < 2:  # header + at least one line
            raise ValueError("STO01 needs at least one stock update")
        return spec("STO01", files=(("file", (filename, content, "text/csv")),))

    @staticmethod
    def _status_spec(import_id: str) -> RequestSpec:
        return spec("STO02", path_params={"import_id": require_id(str(import_id), "import_id")})

    @staticmethod
    def _report_spec(import_id: str) -> RequestSpec:
        return spec(
            "STO03",
            path_params={"import_id": require_id(str(import_id), "import_id")},
            accept="text/csv",
        )


class Stock(_StockRequests[SyncTransport]):
    """Offer stock through Mirakl's dedicated stock import (sync)."""

    def import_quantities(
        self,
        updates: Iterable[StockUpdate],
        *,
        filename: str = "stock.csv",
        **options: Unpack[RequestOptions],
    ) -> StockImportResult:
        """STO01: send absolute quantities as the STO01 CSV (global, or per warehouse when a
        ``warehouse_code`` is given). Returns the import id; line errors (e.g. unknown offer
        SKUs) appear only in STO02/STO03. At most once a minute (call budget)."""
        request_spec = self._import_spec(updates, filename)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), StockImportResult
        )

    def import_status(self, import_id: str, **options: Unpack[RequestOptions]) -> StockImportStatus:
        """STO02: status of a stock import (at most every 15 s)."""
        request_spec = self._status_spec(import_id)
        return self._parse(
            request_spec, self._transport.request(request_spec, options), StockImportStatus
        )

    def import_error_report(
        self, import_id: str, **options: Unpack[RequestOptions]
    ) -> list[ImportErrorLine]:
        """STO03: the lines in error (line number of the imported file and reason)."""
        response = self._transport.request(self._report_spec(import_id), options)
        return parse_error_report(response.content)


class AsyncStock(_StockRequests[AsyncTransport]):
    """Offer stock (async twin of :class:`Stock`)."""

    async def import_quantities(
        self,
        updates: Iterable[StockUpdate],
        *,
        filename: str = "stock.csv",
        **options: Unpack[RequestOptions],
    ) -> StockImportResult:
        """STO01: send absolute quantities as the STO01 CSV."""
        request_spec = self._import_spec(updates, filename)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, StockImportResult)

    async def import_status(
        self, import_id: str, **options: Unpack[RequestOptions]
    ) -> StockImportStatus:
        """STO02: status of a stock import."""
        request_spec = self._status_spec(import_id)
        response = await self._transport.request(request_spec, options)
        return self._parse(request_spec, response, StockImportStatus)

    async def import_error_report(
        self, import_id: str, **options: Unpack[RequestOptions]
    ) -> list[ImportErrorLine]:
        """STO03: the lines in error."""
        response = await self._transport.request(self._report_spec(import_id), options)
        return parse_error_report(response.content)
