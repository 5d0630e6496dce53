"""The Mirakl Seller API operations this client implements.

``OPERATIONS`` maps each operation code to its HTTP method and path template, exactly as in
Mirakl's OpenAPI document, so coverage can be checked. OR15 and OF54 fetch URLs that OR14 and
OF53 return; their template is ``{url}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs


@attrs.frozen
class Operation:
    """One Mirakl operation: code, HTTP method, path template (``{name}`` placeholders)."""

    code: str
    method: str
    path: str
    summary: str

    @property
    def dynamic_url(self) -> bool:
        """True when the URL comes from an earlier response (OR15, OF54)."""
        return self.path == "{url}"

    def format(self, **path_params: str) -> str:
        """The path with its placeholders filled (values must be non-empty)."""
        from urllib.parse import quote

        for name, value in path_params.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{self.code}: {name} must be a non-empty string")
        return self.path.format(**{k: quote(v, safe="") for k, v in path_params.items()})


def _op(code: str, method: str, path: str, summary: str) -> tuple[str, Operation]:
    return code, Operation(code, method, path, summary)


OPERATIONS: Mapping[str, Operation] = MappingProxyType(
    dict(
        [
            _op("OR11", "GET", "/api/orders", "List orders"),
            _op("OR13", "POST", "/api/orders/async-export", "Start an asynchronous order export"),
            _op(
                "OR14",
                "GET",
                "/api/orders/async-export/status/{tracking_id}",
                "Poll an order export",
            ),
            _op("OR15", "GET", "{url}", "Download an order export chunk"),
            _op("OR21", "PUT", "/api/orders/{order_id}/accept", "Accept or refuse order lines"),
            _op("OR23", "PUT", "/api/orders/{order_id}/tracking", "Update tracking information"),
            _op("OR24", "PUT", "/api/orders/{order_id}/ship", "Confirm shipment"),
            _op("OR28", "PUT", "/api/orders/refund", "Refund order lines"),
            _op("OR29", "PUT", "/api/orders/{order_id}/cancel", "Cancel an order"),
            _op("OR30", "PUT", "/api/orders/cancel", "Cancel order lines"),
            _op("OF01", "POST", "/api/offers/imports", "Import an offer file"),
            _op("OF02", "GET", "/api/offers/imports/{import}", "Offer import status"),
            _op(
                "OF03",
                "GET",
                "/api/offers/imports/{import}/error_report",
                "Offer import error report",
            ),
            _op("OF21", "GET", "/api/offers", "List offers"),
            _op("OF52", "POST", "/api/offers/export/async", "Start an asynchronous offer export"),
            _op(
                "OF53",
                "GET",
                "/api/offers/export/async/status/{tracking_id}",
                "Poll an offer export",
            ),
            _op("OF54", "GET", "{url}", "Download an offer export chunk"),
            _op("STO01", "POST", "/api/offers/stock/imports", "Import offer stock (CSV)"),
            _op(
                "STO02",
                "GET",
                "/api/offers/stock/imports/{import_id}/status",
                "Stock import status",
            ),
            _op(
                "STO03",
                "GET",
                "/api/offers/stock/imports/{import_id}/error_report",
                "Stock import error report",
            ),
            _op("TL02", "GET", "/api/sellerpayment/transactions_logs", "List transaction lines"),
            _op("PC01", "GET", "/api/platform/configuration", "Platform configuration"),
            _op("RE01", "GET", "/api/reasons", "List reasons"),
            _op("SH21", "GET", "/api/shipping/carriers", "List carriers"),
            _op("ST01", "POST", "/api/shipments", "Create shipments"),
            _op("ST11", "GET", "/api/shipments", "List shipments"),
        ]
    )
)
