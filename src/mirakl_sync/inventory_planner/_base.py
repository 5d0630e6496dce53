"""Pieces shared by the Inventory Planner resources: the error-body parser, the ``result``
document check, 0-based ``page``/``limit`` paging over the ``meta`` envelope, request specs and
response parsing. Everything here is sans-IO; the sync and async resources only send."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import attrs
import cattrs
import httpx

from mirakl_sync._http import AsyncTransport, Page, RequestSpec, SyncTransport
from mirakl_sync._http._client import JSONValue, loads_body
from mirakl_sync._serde import structure_or_raise
from mirakl_sync.errors import BODY_EXCERPT_CHARS, BadRequestError, ResponseValidationError
from mirakl_sync.inventory_planner._converter import converter as ip_converter
from mirakl_sync.inventory_planner.filters import Filter, Sort, filter_params, sort_params

T = TypeVar("T")
TransportT = TypeVar("TransportT", SyncTransport, AsyncTransport)

API_PREFIX = "api/v1"
#: IP's maximum page size.
MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000


def ip_error_parser(body: JSONValue, text: str) -> tuple[str | None, str | None]:
    """(message, code) from an IP error body: ``{"result": {"status": "error", "message":
    "Failed to find vendor v2"}}``; a top-level ``message``/``error`` as a fallback. IP has no
    machine error codes."""
    if isinstance(body, Mapping):
        result = body.get("result")
        if isinstance(result, Mapping) and result.get("message"):
            return str(result["message"]), None
        message = body.get("message") or body.get("error")
        if message:
            return str(message), None
    stripped = text.strip()
    return (stripped[:300] or None), None


def result_error(body: JSONValue) -> str | None:
    """The message of a ``result`` document whose ``status`` is ``error`` (any casing)."""
    if not isinstance(body, Mapping):
        return None
    result = body.get("result")
    if isinstance(result, Mapping) and str(result.get("status", "")).strip().lower() == "error":
        return str(result.get("message") or "Inventory Planner reported an error")
    return None


def parse_json(spec: RequestSpec, response: httpx.Response) -> JSONValue:
    """The JSON body; a ``result.status == "error"`` document inside a 2xx answer (IP does that)
    raises :class:`~mirakl_sync.errors.BadRequestError` with IP's message."""
    try:
        body = loads_body(response.content) if response.content else {}
    except ValueError as exc:
        raise ResponseValidationError(
            f"response is not JSON: {exc}",
            body_excerpt=response.text[:BODY_EXCERPT_CHARS],
            operation=spec.operation,
            method=spec.method,
        ) from None
    message = result_error(body)
    if message is not None:
        raise BadRequestError(
            message,
            status_code=response.status_code,
            operation=spec.operation,
            method=spec.method,
            url=str(response.request.url.copy_with(query=None)),
            body_excerpt=response.text[:BODY_EXCERPT_CHARS],
        )
    return body


def require_id(value: object, name: str) -> str:
    """A non-empty id as a string (numbers accepted), rejected before any I/O."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"{name} must be a string")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{name} must be a non-empty string")
    return text


def path(*segments: str) -> str:
    """``api/v1/<seg>/<seg>`` with each segment URL-encoded (vendor ids are names)."""
    return "/".join([API_PREFIX, *(quote(s, safe="") for s in segments)])


def fields_param(fields: Iterable[str] | None) -> list[tuple[str, str]]:
    """``fields=a,b,c`` (an allowlist; IP has no wildcard)."""
    if fields is None:
        return []
    if isinstance(fields, str):
        raise TypeError("fields must be an iterable of field names, not a string")
    names = list(dict.fromkeys(f.strip() for f in fields if f.strip()))
    return [("fields", ",".join(names))] if names else []


def list_params(
    *,
    fields: Iterable[str] | None,
    where: Iterable[Filter] | None,
    sort: Iterable[Sort] | Sort | None,
    extra: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[str, str], ...]:
    return (*fields_param(fields), *extra, *filter_params(where), *sort_params(sort))


def check_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError("page_size must be an integer")
    if not 1 <= page_size <= MAX_LIMIT:
        raise ValueError(f"page_size must be between 1 and {MAX_LIMIT}")
    return page_size


def _replace(
    params: Sequence[tuple[str, str]], name: str, value: str
) -> tuple[tuple[str, str], ...]:
    return (*((k, v) for k, v in params if k != name), (name, value))


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None and not isinstance(value, bool) else None
    except ValueError:
        return None


@attrs.frozen(kw_only=True)
class PagePaging(Generic[T]):
    """IP's pagination: 0-based ``page`` and ``limit`` (max 1000), ``meta.total``.

    The listing ends on a short page (fewer items than ``limit``), an empty page, or once
    ``(page + 1) * limit`` reaches ``meta.total``. Only the first page is charged to the call
    budget.
    """

    spec: RequestSpec
    items_key: str
    parse_item: Callable[[JSONValue], T]
    page_size: int = DEFAULT_LIMIT

    def first(self) -> RequestSpec:
        params = _replace(self.spec.params, "page", "0")
        return attrs.evolve(self.spec, params=_replace(params, "limit", str(self.page_size)))

    def parse(self, spec: RequestSpec, response: httpx.Response) -> Page[T]:
        body = parse_json(spec, response)
        raw = body.get(self.items_key) if isinstance(body, Mapping) else None
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise ResponseValidationError(
                f"expected a list under {self.items_key!r}",
                body_excerpt=str(body)[:BODY_EXCERPT_CHARS],
                operation=spec.operation,
                method=spec.method,
            )
        meta = body.get("meta") if isinstance(body, Mapping) else None
        total = _int(meta.get("total")) if isinstance(meta, Mapping) else None
        params = dict(spec.params)
        page = int(params.get("page", "0"))
        limit = int(params.get("limit", str(self.page_size)))
        next_spec: RequestSpec | None = None
        more = len(raw) >= limit and (total is None or (page + 1) * limit < total)
        if raw and more:
            next_spec = attrs.evolve(
                spec, params=_replace(spec.params, "page", str(page + 1)), budget_key=None
            )
        items = tuple(self.parse_item(item) for item in raw)
        return Page(items=items, total_count=total, next_spec=next_spec)


def ip_spec(
    operation: str,
    method: str,
    url: str,
    *,
    params: tuple[tuple[str, str], ...] = (),
    json_body: JSONValue = None,
) -> RequestSpec:
    """A request spec; every IP call is charged to the ``inventory_planner`` budget key (IP
    publishes no limit: the key only matters when the caller configures a budget)."""
    return RequestSpec(
        operation=operation,
        method=method,
        url=url,
        params=params,
        json_body=json_body,
        budget_key="inventory_planner",
    )


class ResourceBase(Generic[TransportT]):
    """A resource bound to a transport; parsing helpers shared by sync and async twins."""

    def __init__(self, transport: TransportT, converter: cattrs.Converter = ip_converter) -> None:
        self._transport: TransportT = transport
        self._converter = converter

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _structure(self, spec: RequestSpec, data: JSONValue, cls: type[T]) -> T:
        return structure_or_raise(
            self._converter, data, cls, operation=spec.operation, method=spec.method
        )

    def _item_parser(self, spec: RequestSpec, cls: type[T]) -> Callable[[Any], T]:
        return lambda raw: self._structure(spec, raw, cls)

    def _paging(self, spec: RequestSpec, key: str, cls: type[T], page_size: int) -> PagePaging[T]:
        return PagePaging(
            spec=spec,
            items_key=key,
            parse_item=self._item_parser(spec, cls),
            page_size=check_page_size(page_size),
        )

    def _check_result(self, spec: RequestSpec, response: httpx.Response) -> None:
        """Raise when a body without payload (a DELETE) carries an error ``result``."""
        parse_json(spec, response)

    def _entity(self, spec: RequestSpec, response: httpx.Response, key: str, cls: type[T]) -> T:
        """The object under the singular key (``{"variant": {...}}``)."""
        body = parse_json(spec, response)
        data = body.get(key) if isinstance(body, Mapping) else None
        if not isinstance(data, Mapping):
            raise ResponseValidationError(
                f"expected an object under {key!r}",
                body_excerpt=str(body)[:BODY_EXCERPT_CHARS],
                operation=spec.operation,
                method=spec.method,
            )
        return self._structure(spec, data, cls)

    def _entities(
        self, spec: RequestSpec, response: httpx.Response, key: str, cls: type[T]
    ) -> list[T]:
        """The list under ``key`` of a non-paged answer (``{"items": [...]}``)."""
        body = parse_json(spec, response)
        raw = body.get(key) if isinstance(body, Mapping) else None
        if not isinstance(raw, list):
            raise ResponseValidationError(
                f"expected a list under {key!r}",
                body_excerpt=str(body)[:BODY_EXCERPT_CHARS],
                operation=spec.operation,
                method=spec.method,
            )
        return [self._structure(spec, item, cls) for item in raw]
