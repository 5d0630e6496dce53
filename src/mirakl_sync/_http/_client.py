"""The shared transport behind the Mirakl and Inventory Planner clients.

Request building, error mapping and the retry plan are shared (sans-IO); only sending differs
between :class:`SyncTransport` and :class:`AsyncTransport`. Raw ``httpx`` exceptions never escape:
they become :class:`~mirakl_sync.errors.APIConnectionError` / ``APITimeoutError`` and error
statuses become the :class:`~mirakl_sync.errors.APIStatusError` subclass of their family.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypedDict

import attrs
import httpx
import tenacity

from mirakl_sync._http._budget import CallBudget
from mirakl_sync._http._redact import Secret, redact_text, redact_url
from mirakl_sync._http._retry import RetryPolicy, parse_retry_after
from mirakl_sync._serde import json_dumps
from mirakl_sync._version import __version__
from mirakl_sync.errors import (
    BODY_EXCERPT_CHARS,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ResponseTooLargeError,
    ResponseValidationError,
    status_error_class,
)

logger = logging.getLogger("mirakl_sync.http")

JSONValue = Any
#: Response headers never kept on errors (a proxy may echo credentials back).
_SECRET_RESPONSE_HEADERS = frozenset(
    {"authorization", "account", "set-cookie", "proxy-authorization"}
)
USER_AGENT = f"mirakl-sync/{__version__} httpx/{httpx.__version__}"
DEFAULT_TIMEOUT = 30.0
#: Longest wait for a call budget slot before raising CallBudgetExceededError.
DEFAULT_MAX_BUDGET_WAIT = 65.0
#: Largest response body read (after decompression) before ResponseTooLargeError: 64 MiB.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class RequestOptions(TypedDict, total=False):
    """Per-call options every resource method accepts.

    Attributes:
        timeout: seconds for this call's connect/read/write (overrides the client default).
        deadline: an aware datetime: no retry or budget wait goes past it; the last error is
            raised instead.
        extra_headers: headers added to this call.
        max_response_bytes: the largest body this call may read (overrides the client's
            limit; ``None`` for no limit), e.g. for a large OR15/OF54 export chunk.
    """

    timeout: float
    deadline: datetime
    extra_headers: Mapping[str, str]
    max_response_bytes: int | None


@attrs.frozen(kw_only=True)
class RequestSpec:
    """One HTTP request, described before any I/O.

    Attributes:
        operation: the operation code (``"OR11"``), used in errors, logs and budgets.
        method: HTTP method.
        url: a path relative to the client's base URL, or an absolute URL (OR15/OF54 downloads).
        params: query parameters, in order, repeated names allowed.
        json_body: a JSON-ready body (``Decimal`` allowed) or ``None``.
        files: multipart file parts ``(field, (filename, content, content_type))``.
        data: multipart form fields sent with ``files``.
        budget_key: the call-budget key to charge, or ``None`` for an unbudgeted call.
        accept: the ``Accept`` header.
        include_default_params: add the client's default query parameters (``shop_id``); seek
            continuation requests send only their ``page_token``.
        idempotent: whether repeating the request is harmless (default: by method, GET only).
            A POST the server deduplicates (Mirakl OF52 returns the existing export) may say so.
    """

    operation: str
    method: str
    url: str
    params: tuple[tuple[str, str], ...] = ()
    json_body: JSONValue = None
    files: tuple[tuple[str, tuple[str, bytes, str]], ...] = ()
    data: tuple[tuple[str, str], ...] = ()
    budget_key: str | None = None
    accept: str = "application/json"
    include_default_params: bool = True
    idempotent: bool | None = None


def dumps_body(body: JSONValue) -> bytes:
    """Serialise a request body: compact JSON, ``Decimal`` as exact numbers, aware datetimes in
    UTC with ``Z`` (see :func:`mirakl_sync._serde.json_dumps`)."""
    return json_dumps(body).encode("utf-8")


#: Most digits, and largest exponent, of a number in a response body (CPython's own limit for
#: ``int`` conversion, CVE-2020-10735): ``1e999999999`` would make ``int()`` run for ever.
MAX_NUMBER_DIGITS = 4300


def _parse_decimal(text: str) -> Decimal:
    value = Decimal(text)
    # A text no longer than the limit cannot hold more digits: count them only for long ones
    # (as_tuple() makes a tuple of every digit, which costs more than the parse).
    if abs(value.adjusted()) > MAX_NUMBER_DIGITS or (
        len(text) > MAX_NUMBER_DIGITS and len(value.as_tuple().digits) > MAX_NUMBER_DIGITS
    ):
        raise ValueError(f"number out of range: {text[:40]}...")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_body(content: bytes) -> JSONValue:
    """Parse a JSON response body with exact ``Decimal`` numbers.

    Raises ``ValueError`` for anything that is not strict JSON: ``NaN``/``Infinity`` (which
    Python's parser would otherwise accept), numbers with more than :data:`MAX_NUMBER_DIGITS`
    digits or exponent, and bodies nested too deeply for the parser (its ``RecursionError`` does
    not escape). :func:`mirakl_sync._serde.loads_json` with those guards.
    """
    try:
        return json.loads(content, parse_float=_parse_decimal, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


ErrorParser = Callable[[JSONValue, str], tuple[str | None, str | None]]


def default_error_parser(body: JSONValue, text: str) -> tuple[str | None, str | None]:
    """(message, machine code) from an error body: ``{"message": ..., "code": ...}`` shapes."""
    if isinstance(body, Mapping):
        message = body.get("message") or body.get("error_description") or body.get("error")
        code = body.get("code") or body.get("error_code")
        return (str(message) if message else None, str(code) if code else None)
    return (text.strip()[:200] or None, None)


@attrs.define(kw_only=True)
class TransportConfig:
    """Everything a transport needs besides the httpx client itself.

    Attributes:
        base_url: scheme + host (+ path prefix) that relative request URLs are joined to.
        auth_headers: the secret headers, built on demand (never stored in a repr).
        secrets: values scrubbed from every message and excerpt.
        default_params: query parameters added to every request (e.g. Mirakl's ``shop_id``).
        error_parser: extracts (message, code) from an error body.
        retry: the retry policy.
        budget: the call budget, or ``None`` to disable client-side budgeting.
        max_budget_wait: longest wait for a budget slot before raising.
        timeout: default per-request timeout in seconds.
        max_response_bytes: the largest response body read (counted after decompression, while
            streaming) before :class:`~mirakl_sync.errors.ResponseTooLargeError`; ``None``
            disables the limit. Error responses over the limit are truncated instead, so their
            status error (and its retry) is kept.
        now / sleep / async_sleep / rand: injectable clock, sleepers and jitter source.
    """

    base_url: str
    auth_headers: Callable[[], dict[str, str]] = attrs.field(repr=False)
    secrets: tuple[Secret, ...] = attrs.field(default=(), repr=False)
    default_params: tuple[tuple[str, str], ...] = ()
    error_parser: ErrorParser = default_error_parser
    retry: RetryPolicy = attrs.Factory(RetryPolicy)
    budget: CallBudget | None = None
    max_budget_wait: float = DEFAULT_MAX_BUDGET_WAIT
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES
    user_agent: str = USER_AGENT
    now: Callable[[], datetime] = attrs.field(default=lambda: datetime.now(UTC), repr=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = attrs.field(default=asyncio.sleep, repr=False)
    rand: Callable[[], float] = attrs.field(default=random.random, repr=False)


def _check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigurationError("max_response_bytes must be a positive integer or None")
    return limit


class _TransportBase:
    """Request building, error mapping and the retry plan shared by both transports."""

    def __init__(self, config: TransportConfig) -> None:
        if not config.base_url.startswith(("http://", "https://")):
            raise ConfigurationError("base_url must start with http:// or https://")
        _check_limit(config.max_response_bytes)
        self.config = config

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.config.base_url!r})"

    # -- building ---------------------------------------------------------------------------

    def _absolute_url(self, spec: RequestSpec) -> str:
        if spec.url.startswith(("http://", "https://")):
            return spec.url
        return self.config.base_url.rstrip("/") + "/" + spec.url.lstrip("/")

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec, options: RequestOptions
    ) -> httpx.Request:
        headers = {"Accept": spec.accept, "User-Agent": self.config.user_agent}
        headers.update(self.config.auth_headers())
        headers.update(options.get("extra_headers", {}))
        url = httpx.URL(self._absolute_url(spec))
        # httpx replaces a URL's query when params are given: keep the URL's own query (a
        # Link rel=next URL) first, then the defaults it does not already carry.
        own = list(url.params.multi_items())
        names = {name for name, _ in own} | {name for name, _ in spec.params}
        defaults = self.config.default_params if spec.include_default_params else ()
        params: list[tuple[str, str | int | float | bool | None]] = [
            *own,
            *[(k, v) for k, v in defaults if k not in names],
            *spec.params,
        ]
        content: bytes | None = None
        if spec.json_body is not None:
            content = dumps_body(spec.json_body)
            headers["Content-Type"] = "application/json"
        timeout = options.get("timeout", self.config.timeout)
        return client.build_request(
            spec.method,
            url.copy_with(query=None),
            params=params or None,
            headers=headers,
            content=content,
            files=list(spec.files) or None,
            data=dict(spec.data) if spec.files else None,
            timeout=timeout,
        )

    # -- reading ----------------------------------------------------------------------------

    def _response_limit(self, options: RequestOptions) -> int | None:
        if "max_response_bytes" in options:
            return _check_limit(options["max_response_bytes"])
        return self.config.max_response_bytes

    def _early_refusal(
        self, spec: RequestSpec, response: httpx.Response, limit: int | None
    ) -> ResponseTooLargeError | None:
        """The error for a success response whose ``Content-Length`` already exceeds ``limit``."""
        if limit is None or response.status_code >= 400:
            return None
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return self._too_large(spec, response, limit, int(declared))
        return None

    def _accept_chunk(
        self,
        spec: RequestSpec,
        response: httpx.Response,
        limit: int | None,
        chunks: list[bytes],
        size: int,
        chunk: bytes,
    ) -> tuple[int, bool]:
        """Add ``chunk``; returns (new size, whether to keep reading). Raises when a success
        body goes over ``limit``; an error body is truncated at ``limit`` instead."""
        if limit is None or size + len(chunk) <= limit:
            chunks.append(chunk)
            return size + len(chunk), True
        if response.status_code >= 400:
            chunks.append(chunk[: limit - size])
            return limit, False
        raise self._too_large(spec, response, limit, size + len(chunk))

    def _too_large(
        self, spec: RequestSpec, response: httpx.Response, limit: int, seen: int
    ) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            f"response body larger than {limit} bytes (at least {seen} bytes); refused",
            max_bytes=limit,
            operation=spec.operation,
            method=spec.method,
            url=self._safe_url(response.request.url),
        )

    def _build_or_raise(self, spec: RequestSpec, options: RequestOptions) -> httpx.Request:
        """:meth:`_build`, with an unusable URL (e.g. a server-sent page token longer than any
        URL allows) reported as a validation error, never a raw httpx exception."""
        client: httpx.Client | httpx.AsyncClient = self._client  # type: ignore[attr-defined]
        try:
            return self._build(client, spec, options)
        except httpx.InvalidURL as exc:
            raise ResponseValidationError(
                f"cannot build the request URL: {redact_text(str(exc), self.config.secrets)}",
                operation=spec.operation,
                method=spec.method,
            ) from None

    def _scrub(self, content: bytes) -> bytes:
        """A body with every secret value masked: a server (or proxy) echoing our key must not
        carry it into models, error excerpts or logs."""
        for secret in self.config.secrets:
            value = secret.reveal().encode("utf-8")
            if len(value) >= 4 and value in content:
                content = content.replace(value, b"********")
        return content

    # -- errors -----------------------------------------------------------------------------

    def _safe_url(self, url: httpx.URL | str) -> str:
        return redact_text(redact_url(str(url)), self.config.secrets)

    def _connection_error(
        self, spec: RequestSpec, url: httpx.URL | str, exc: httpx.HTTPError
    ) -> APIConnectionError:
        # Only failures before the request was written are certainly "never left".
        never_left = isinstance(
            exc,
            httpx.ConnectError
            | httpx.ConnectTimeout
            | httpx.PoolTimeout
            | httpx.UnsupportedProtocol
            | httpx.ProxyError,
        )
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = redact_text(str(exc) or type(exc).__name__, self.config.secrets)
        return cls(
            f"{type(exc).__name__}: {detail}",
            request_sent=not never_left,
            operation=spec.operation,
            method=spec.method,
            url=self._safe_url(url),
        )

    def _status_error(self, spec: RequestSpec, response: httpx.Response) -> APIStatusError:
        text = redact_text(response.text if response.content else "", self.config.secrets)
        try:
            body: JSONValue = loads_body(response.content) if response.content else None
        except ValueError:
            body = None
        message, code = self.config.error_parser(body, text)
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.config.now())
        cls = status_error_class(response.status_code, code)
        return cls(
            redact_text(message or response.reason_phrase or "error", self.config.secrets),
            status_code=response.status_code,
            operation=spec.operation,
            method=spec.method,
            url=self._safe_url(response.request.url),
            error_code=code,
            body_excerpt=text[:BODY_EXCERPT_CHARS],
            headers={
                k.lower(): redact_text(v, self.config.secrets)
                for k, v in response.headers.items()
                if k.lower() not in _SECRET_RESPONSE_HEADERS
            },
            retry_after=retry_after,
        )

    def _check(self, spec: RequestSpec, response: httpx.Response) -> httpx.Response:
        logger.debug(
            "%s %s %s -> %s",
            spec.operation,
            spec.method,
            self._safe_url(response.request.url),
            response.status_code,
            extra={
                "operation": spec.operation,
                "method": spec.method,
                "status_code": response.status_code,
            },
        )
        if response.status_code >= 400:
            raise self._status_error(spec, response)
        return response

    # -- retry plan -------------------------------------------------------------------------

    def _budget_max_wait(self, options: RequestOptions) -> float:
        max_wait = self.config.max_budget_wait
        deadline = options.get("deadline")
        if deadline is not None:
            max_wait = min(max_wait, (deadline - self.config.now()).total_seconds())
        return max(0.0, max_wait)

    def _retry_kwargs(self, spec: RequestSpec, options: RequestOptions) -> dict[str, Any]:
        policy = self.config.retry
        deadline = options.get("deadline")

        def should_retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome
            if outcome is None or not outcome.failed:
                return False
            error = outcome.exception()
            return error is not None and policy.should_retry(
                spec.method, error, idempotent=spec.idempotent
            )

        def wait(state: tenacity.RetryCallState) -> float:
            assert state.outcome is not None
            error = state.outcome.exception()
            assert error is not None
            seconds = policy.wait_before_retry(state.attempt_number, error, self.config.rand)
            return math.inf if seconds is None else seconds

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number > policy.max_retries:
                return True
            if math.isinf(state.upcoming_sleep):
                return True  # Retry-After above the cap: give the caller the error now
            if deadline is not None:
                remaining = (deadline - self.config.now()).total_seconds()
                return state.upcoming_sleep >= remaining
            return False

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            logger.info(
                "%s %s: retry %d in %.2fs after %s",
                spec.operation,
                spec.method,
                state.attempt_number,
                state.upcoming_sleep,
                type(error).__name__,
                extra={"operation": spec.operation, "attempt": state.attempt_number},
            )

        return {
            "retry": should_retry,
            "wait": wait,
            "stop": stop,
            "before_sleep": before_sleep,
            "reraise": True,
        }


class SyncTransport(_TransportBase):
    """Sends :class:`RequestSpec` s with ``httpx.Client``: budget, retries, error mapping."""

    def __init__(
        self,
        config: TransportConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        super().__init__(config)
        if not verify:
            warnings.warn("TLS certificate verification is disabled", RuntimeWarning, stacklevel=3)
        self._client = httpx.Client(transport=transport, verify=verify, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send_once(self, spec: RequestSpec, options: RequestOptions) -> httpx.Response:
        if spec.budget_key and self.config.budget is not None:
            wait = self.config.budget.reserve(
                spec.budget_key, max_wait=self._budget_max_wait(options)
            )
            if wait > 0:
                self.config.sleep(wait)
        request = self._build_or_raise(spec, options)
        limit = self._response_limit(options)
        try:
            response = self._client.send(request, stream=True)
            try:
                refusal = self._early_refusal(spec, response, limit)
                if refusal is not None:
                    raise refusal
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size, more = self._accept_chunk(spec, response, limit, chunks, size, chunk)
                    if not more:
                        break
                # What Response.read() does, from the chunks read under the limit.
                response._content = self._scrub(b"".join(chunks))
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise self._connection_error(spec, request.url, exc) from None
        return self._check(spec, response)

    def request(self, spec: RequestSpec, options: RequestOptions | None = None) -> httpx.Response:
        """Send ``spec`` with retries; returns the successful response or raises APIError."""
        opts = options or {}
        retrying = tenacity.Retrying(sleep=self.config.sleep, **self._retry_kwargs(spec, opts))
        try:
            return retrying(self._send_once, spec, opts)
        except APIError:
            raise
        except httpx.HTTPError as exc:  # pragma: no cover - defensive: mapped in _send_once
            raise self._connection_error(spec, spec.url, exc) from None


class AsyncTransport(_TransportBase):
    """The async twin of :class:`SyncTransport` (``httpx.AsyncClient``)."""

    def __init__(
        self,
        config: TransportConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        super().__init__(config)
        if not verify:
            warnings.warn("TLS certificate verification is disabled", RuntimeWarning, stacklevel=3)
        self._client = httpx.AsyncClient(transport=transport, verify=verify, follow_redirects=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send_once(self, spec: RequestSpec, options: RequestOptions) -> httpx.Response:
        if spec.budget_key and self.config.budget is not None:
            wait = self.config.budget.reserve(
                spec.budget_key, max_wait=self._budget_max_wait(options)
            )
            if wait > 0:
                await self.config.async_sleep(wait)
        request = self._build_or_raise(spec, options)
        limit = self._response_limit(options)
        try:
            response = await self._client.send(request, stream=True)
            try:
                refusal = self._early_refusal(spec, response, limit)
                if refusal is not None:
                    raise refusal
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size, more = self._accept_chunk(spec, response, limit, chunks, size, chunk)
                    if not more:
                        break
                # What Response.aread() does, from the chunks read under the limit.
                response._content = self._scrub(b"".join(chunks))
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise self._connection_error(spec, request.url, exc) from None
        return self._check(spec, response)

    async def request(
        self, spec: RequestSpec, options: RequestOptions | None = None
    ) -> httpx.Response:
        """Send ``spec`` with retries; returns the successful response or raises APIError."""
        opts = options or {}
        retrying = tenacity.AsyncRetrying(
            sleep=self.config.async_sleep, **self._retry_kwargs(spec, opts)
        )
        return await retrying(self._send_once, spec, opts)
