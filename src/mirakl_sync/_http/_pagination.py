"""Lazy pagination over offset-paged and seek-paged listings, sync and async.

The paging strategies (:class:`OffsetPaging`, :class:`SeekPaging`) are pure: they build the first
request and, from a response, the page's items and the next request. :class:`SyncPager` and
:class:`AsyncPager` only send. Nothing is fetched before iteration starts, and each page is
fetched only when the previous one is consumed.

* Offset (Mirakl OR11, OF21...): ``max``/``offset``, ``total_count``, ``Link: <...>; rel="next"``.
  The ``Link`` header wins when present; otherwise the offset advances while it is below
  ``total_count``. An empty page ends the listing.
* Seek (Mirakl TL02, ST11...): ``limit``; continuation requests send **only** ``page_token``
  (Mirakl ignores every other parameter once a token is given); a missing ``next_page_token``
  ends the listing.

A page that would repeat an earlier request (a server looping on the same token or offset) raises
:class:`~mirakl_sync.errors.ResponseValidationError` instead of looping forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar
from urllib.parse import urljoin

import attrs
import httpx

from mirakl_sync._http._client import (
    AsyncTransport,
    JSONValue,
    RequestOptions,
    RequestSpec,
    SyncTransport,
    loads_body,
)
from mirakl_sync.errors import ResponseValidationError

T = TypeVar("T")


@attrs.frozen
class Page(Generic[T]):
    """One fetched page: its items, the total announced by the server, the next request."""

    items: tuple[T, ...]
    total_count: int | None = None
    next_spec: RequestSpec | None = None


class Paging(Protocol[T]):
    """A pure paging strategy."""

    def first(self) -> RequestSpec: ...

    def parse(self, spec: RequestSpec, response: httpx.Response) -> Page[T]: ...


def _body(spec: RequestSpec, response: httpx.Response) -> JSONValue:
    try:
        return loads_body(response.content)
    except ValueError as exc:
        raise ResponseValidationError(
            f"response is not JSON: {exc}",
            body_excerpt=response.text[:500],
            operation=spec.operation,
            method=spec.method,
        ) from None


def _items(spec: RequestSpec, body: JSONValue, key: str) -> list[JSONValue]:
    raw = body if key == "" else (body.get(key) if isinstance(body, dict) else None)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ResponseValidationError(
            f"expected a list under {key!r}",
            body_excerpt=str(body)[:500],
            operation=spec.operation,
            method=spec.method,
        )
    return raw


def _total(body: JSONValue) -> int | None:
    if isinstance(body, dict):
        value = body.get("total_count")
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None
    return None


def _replace_param(
    params: Sequence[tuple[str, str]], name: str, value: str
) -> tuple[tuple[str, str], ...]:
    return (*tuple((k, v) for k, v in params if k != name), (name, value))


@attrs.frozen(kw_only=True)
class OffsetPaging(Generic[T]):
    """Offset pagination (``max``/``offset``/``total_count``/``Link rel=next``).

    Only the first page is charged to the call budget (``spec.budget_key``): continuation pages
    belong to the same listing.
    """

    spec: RequestSpec
    items_key: str
    parse_item: Callable[[JSONValue], T]
    page_size: int = 100

    def first(self) -> RequestSpec:
        params = _replace_param(self.spec.params, "max", str(self.page_size))
        return attrs.evolve(self.spec, params=_replace_param(params, "offset", "0"))

    def parse(self, spec: RequestSpec, response: httpx.Response) -> Page[T]:
        body = _body(spec, response)
        raw_items = _items(spec, body, self.items_key)
        items = tuple(self.parse_item(item) for item in raw_items)
        total = _total(body)
        next_spec: RequestSpec | None = None
        link = response.links.get("next", {}).get("url")
        # A server that paginates with Link headers ends the listing by omitting rel="next";
        # a spec that came from a Link URL carries its query in the URL itself.
        link_mode = bool(response.headers.get("link")) or "?" in spec.url
        if link and raw_items:
            next_spec = attrs.evolve(
                spec, url=urljoin(str(response.request.url), link), params=(), budget_key=None
            )
        elif raw_items and not link_mode:
            offset = int(dict(spec.params).get("offset", "0")) + len(raw_items)
            if total is not None and offset < total:
                next_spec = attrs.evolve(
                    spec,
                    params=_replace_param(spec.params, "offset", str(offset)),
                    budget_key=None,
                )
        return Page(items=items, total_count=total, next_spec=next_spec)


@attrs.frozen(kw_only=True)
class SeekPaging(Generic[T]):
    """Seek pagination (``limit``/``page_token``/``next_page_token``).

    ``budget_every_page``: charge each page to the budget (TL02's limit counts every call).
    """

    spec: RequestSpec
    items_key: str
    parse_item: Callable[[JSONValue], T]
    page_size: int = 100
    budget_every_page: bool = False

    def first(self) -> RequestSpec:
        return attrs.evolve(
            self.spec, params=_replace_param(self.spec.params, "limit", str(self.page_size))
        )

    def parse(self, spec: RequestSpec, response: httpx.Response) -> Page[T]:
        body = _body(spec, response)
        items = tuple(self.parse_item(item) for item in _items(spec, body, self.items_key))
        token = body.get("next_page_token") if isinstance(body, dict) else None
        next_spec = None
        if token:
            next_spec = attrs.evolve(
                spec,
                params=(("page_token", str(token)),),
                include_default_params=False,
                budget_key=spec.budget_key if self.budget_every_page else None,
            )
        return Page(items=items, total_count=_total(body), next_spec=next_spec)


def _request_key(spec: RequestSpec) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (spec.url, spec.params)


class _LoopGuard:
    def __init__(self) -> None:
        self._seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()

    def check(self, spec: RequestSpec) -> None:
        key = _request_key(spec)
        if key in self._seen:
            raise ResponseValidationError(
                "pagination loop: the server pointed back to a page already read",
                operation=spec.operation,
                method=spec.method,
            )
        self._seen.add(key)


class SyncPager(Generic[T]):
    """Iterates the items of one or more paged listings lazily (sync).

    ``total_count`` is the server's total for the current listing once its first page is read.
    """

    def __init__(
        self,
        transport: SyncTransport,
        pagings: Sequence[Paging[T]],
        options: RequestOptions | None = None,
    ) -> None:
        self._transport = transport
        self._pagings = tuple(pagings)
        self._options: RequestOptions = options or {}
        self.total_count: int | None = None

    def __repr__(self) -> str:
        ops = sorted({p.first().operation for p in self._pagings})
        return f"SyncPager({', '.join(ops)}, listings={len(self._pagings)})"

    def pages(self) -> Iterator[Page[T]]:
        """Yield pages one at a time."""
        for paging in self._pagings:
            guard = _LoopGuard()
            spec: RequestSpec | None = paging.first()
            while spec is not None:
                guard.check(spec)
                response = self._transport.request(spec, self._options)
                page = paging.parse(spec, response)
                self.total_count = page.total_count
                yield page
                if not page.items:
                    break
                spec = page.next_spec

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def to_list(self) -> list[T]:
        """Read every page and return all items."""
        return list(self)


class AsyncPager(Generic[T]):
    """The async twin of :class:`SyncPager`: ``async for item in pager``."""

    def __init__(
        self,
        transport: AsyncTransport,
        pagings: Sequence[Paging[T]],
        options: RequestOptions | None = None,
    ) -> None:
        self._transport = transport
        self._pagings = tuple(pagings)
        self._options: RequestOptions = options or {}
        self.total_count: int | None = None

    def __repr__(self) -> str:
        ops = sorted({p.first().operation for p in self._pagings})
        return f"AsyncPager({', '.join(ops)}, listings={len(self._pagings)})"

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield pages one at a time."""
        for paging in self._pagings:
            guard = _LoopGuard()
            spec: RequestSpec | None = paging.first()
            while spec is not None:
                guard.check(spec)
                response = await self._transport.request(spec, self._options)
                page = paging.parse(spec, response)
                self.total_count = page.total_count
                yield page
                if not page.items:
                    break
                spec = page.next_spec

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[T]:
        """Read every page and return all items."""
        return [item async for item in self]


__all__ = ["AsyncPager", "OffsetPaging", "Page", "Paging", "SeekPaging", "SyncPager"]
