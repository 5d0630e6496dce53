"""Pieces shared by the Mirakl resources: query formatting, parsing, the error-body parser."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import cattrs
import httpx

from mirakl_sync._http import AsyncTransport, RequestSpec, SyncTransport
from mirakl_sync._http._client import JSONValue, loads_body
from mirakl_sync._serde import structure_or_raise
from mirakl_sync.errors import APIError, ResponseValidationError
from mirakl_sync.mirakl._converter import converter as mirakl_converter
from mirakl_sync.mirakl._operations import OPERATIONS

T = TypeVar("T")
TransportT = TypeVar("TransportT", SyncTransport, AsyncTransport)

#: Mirakl's limit on values in one id-list filter ("The limit of 100 is exceeded...").
MAX_IDS_PER_CALL = 100

_CODE = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")


def mirakl_error_parser(body: JSONValue, text: str) -> tuple[str | None, str | None]:
    """(message, code) from a Mirakl error body.

    Mirakl answers ``{"message": "...", "status": 400}``; machine codes such as
    ``ORDER_INVALID_STATE`` are documented per operation but their place in the body is not, so a
    ``code`` field wins, else the first upper-case ``WORD_WORD`` token of the message.
    """
    message: str | None = None
    code: str | None = None
    if isinstance(body, Mapping):
        raw_message = body.get("message") or body.get("errorDescription") or body.get("error")
        message = str(raw_message) if raw_message else None
        raw_code = body.get("code") or body.get("error_code")
        code = str(raw_code) if raw_code else None
    elif text.strip():
        message = text.strip()[:300]
    if code is None and message:
        match = _CODE.search(message)
        if match:
            code = match.group(1)
    return message, code


def format_datetime(value: datetime, name: str) -> str:
    """An aware datetime as Mirakl's ISO-8601 UTC form (``2024-03-19T00:00:00Z``)."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (naive datetimes are ambiguous)")
    utc = value.astimezone(UTC)
    text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def format_bool(value: bool) -> str:
    return "true" if value else "false"


def require_id(value: str, name: str) -> str:
    """Reject empty ids before any I/O."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def unique_strings(values: Iterable[str], name: str) -> list[str]:
    """Values as strings, order kept, duplicates removed, empties rejected."""
    if isinstance(values, str):
        raise TypeError(f"{name} must be an iterable of strings, not a single string")
    seen: dict[str, None] = {}
    for value in values:
        seen[require_id(str(value), name)] = None
    return list(seen)


def batches(values: Sequence[str], size: int = MAX_IDS_PER_CALL) -> Iterator[Sequence[str]]:
    """Consecutive slices of at most ``size`` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Params:
    """A small builder for ordered query parameters that skips unset values."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, value: object | None) -> Params:
        if value is None:
            return self
        if isinstance(value, bool):
            self.items.append((name, format_bool(value)))
        elif isinstance(value, datetime):
            self.items.append((name, format_datetime(value, name)))
        else:
            self.items.append((name, str(value)))
        return self

    def csv(self, name: str, values: Iterable[str] | None) -> Params:
        """One comma-separated parameter (OR11 style)."""
        if values is not None:
            items = unique_strings(values, name)
            if items:
                self.items.append((name, ",".join(items)))
        return self

    def repeated(self, name: str, values: Iterable[str] | None) -> Params:
        """One parameter per value (seek-endpoint style)."""
        if values is not None:
            for value in unique_strings(values, name):
                self.items.append((name, value))
        return self

    def build(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.items)


def spec(
    code: str,
    *,
    path_params: Mapping[str, str] | None = None,
    url: str | None = None,
    params: tuple[tuple[str, str], ...] = (),
    json_body: JSONValue = None,
    files: tuple[tuple[str, tuple[str, bytes, str]], ...] = (),
    data: tuple[tuple[str, str], ...] = (),
    budgeted: bool = True,
    accept: str = "application/json",
    idempotent: bool | None = None,
) -> RequestSpec:
    """A :class:`RequestSpec` for operation ``code`` (method and path from ``OPERATIONS``)."""
    operation = OPERATIONS[code]
    if operation.dynamic_url:
        if not url or not url.startswith(("http://", "https://", "/")):
            raise ValueError(f"{code}: a download URL from the export status is required")
        target = url
    else:
        target = operation.format(**(path_params or {}))
    return RequestSpec(
        operation=code,
        method=operation.method,
        url=target,
        params=params,
        json_body=json_body,
        files=files,
        data=data,
        budget_key=code if budgeted else None,
        accept=accept,
        idempotent=idempotent,
    )


class ResourceBase(Generic[TransportT]):
    """A resource bound to a transport; parsing helpers shared by sync and async twins."""

    def __init__(self, transport: TransportT, converter: cattrs.Converter = mirakl_converter):
        self._transport: TransportT = transport
        self._converter = converter

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _json(self, spec: RequestSpec, response: httpx.Response) -> JSONValue:
        try:
            return loads_body(response.content)
        except ValueError as exc:
            raise ResponseValidationError(
                f"response is not JSON: {exc}",
                body_excerpt=response.text[:500],
                operation=spec.operation,
                method=spec.method,
            ) from None

    def _structure(self, spec: RequestSpec, data: JSONValue, cls: type[T]) -> T:
        return structure_or_raise(
            self._converter, data, cls, operation=spec.operation, method=spec.method
        )

    def _parse(self, spec: RequestSpec, response: httpx.Response, cls: type[T]) -> T:
        return self._structure(spec, self._json(spec, response), cls)

    def _item_parser(self, spec: RequestSpec, cls: type[T]) -> Callable[[Any], T]:
        return lambda raw: self._structure(spec, raw, cls)

    def _parse_list(
        self, spec: RequestSpec, response: httpx.Response, key: str, cls: type[T]
    ) -> list[T]:
        body = self._json(spec, response)
        raw = body if key == "" else (body.get(key) if isinstance(body, Mapping) else None)
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ResponseValidationError(
                f"expected a list under {key!r}",
                body_excerpt=str(body)[:500],
                operation=spec.operation,
                method=spec.method,
            )
        return [self._structure(spec, item, cls) for item in raw]


def export_finished(status: object, tracking_id: str, operation: str) -> bool:
    """True when an asynchronous export (OR14/OF53 status) is COMPLETED; raises APIError when it
    ended FAILED or CANCELED; False while it is still running."""
    value = str(status).upper()
    if value == "COMPLETED":
        return True
    if value in {"FAILED", "CANCELED", "CANCELLED"}:
        raise APIError(f"export {tracking_id} ended {value}", operation=operation, method="GET")
    return False


def export_timed_out(tracking_id: str, operation: str, polls: int) -> APIError:
    return APIError(
        f"export {tracking_id} still running after {polls} polls", operation=operation, method="GET"
    )
