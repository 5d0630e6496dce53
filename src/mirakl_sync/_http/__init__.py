"""The shared HTTP layer: transports, retry policy, call budgets, pagination, redaction."""

from mirakl_sync._http._budget import MIRAKL_MAX_FREQUENCIES, CallBudget, Limit
from mirakl_sync._http._client import (
    AsyncTransport,
    RequestOptions,
    RequestSpec,
    SyncTransport,
    TransportConfig,
    dumps_body,
    loads_body,
)
from mirakl_sync._http._pagination import (
    AsyncPager,
    OffsetPaging,
    Page,
    SeekPaging,
    SyncPager,
)
from mirakl_sync._http._redact import Secret, redact_text, redact_url
from mirakl_sync._http._retry import RetryPolicy, parse_retry_after

__all__ = [
    "MIRAKL_MAX_FREQUENCIES",
    "AsyncPager",
    "AsyncTransport",
    "CallBudget",
    "Limit",
    "OffsetPaging",
    "Page",
    "RequestOptions",
    "RequestSpec",
    "RetryPolicy",
    "Secret",
    "SeekPaging",
    "SyncPager",
    "SyncTransport",
    "TransportConfig",
    "dumps_body",
    "loads_body",
    "parse_retry_after",
    "redact_text",
    "redact_url",
]
