"""``MiraklClient`` and ``AsyncMiraklClient``: typed access to the Mirakl Seller API."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import cached_property
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from mirakl_sync._http import (
    AsyncTransport,
    CallBudget,
    RetryPolicy,
    Secret,
    SyncTransport,
    TransportConfig,
)
from mirakl_sync._http._client import (
    DEFAULT_MAX_BUDGET_WAIT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
)
from mirakl_sync.errors import ConfigurationError
from mirakl_sync.mirakl._base import mirakl_error_parser
from mirakl_sync.mirakl.resources import (
    AsyncFinance,
    AsyncOffers,
    AsyncOrders,
    AsyncPlatform,
    AsyncShipments,
    AsyncStock,
    Finance,
    Offers,
    Orders,
    Platform,
    Shipments,
    Stock,
)

#: Sentinel: "use Mirakl's published maxima" for ``call_budget``.
DEFAULT_BUDGET = "mirakl"


def _normalise_base_url(base_url: str) -> str:
    """``https://x.mirakl.net`` from either that or ``https://x.mirakl.net/api``."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ConfigurationError("base_url must be the Mirakl instance URL")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("base_url must look like https://your-instance.mirakl.net")
    if parts.username or parts.password:
        raise ConfigurationError("base_url must not carry credentials; pass api_key")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path = path[: -len("/api")]
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{path}"


def _config(
    base_url: str,
    api_key: str | Secret,
    *,
    shop_id: int | str | None,
    timeout: float,
    max_retries: int,
    retry_policy: RetryPolicy | None,
    call_budget: CallBudget | str | None,
    max_budget_wait: float,
    max_response_bytes: int | None,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    async_sleep: Callable[[float], Awaitable[None]],
    rand: Callable[[], float],
) -> TransportConfig:
    secret = api_key if isinstance(api_key, Secret) else Secret(api_key)
    if not secret.reveal().strip():
        raise ConfigurationError("api_key is empty")
    if any(c in secret.reveal() for c in "\r\n"):
        raise ConfigurationError("api_key contains a line break")
    policy = retry_policy or RetryPolicy(max_retries=max_retries)
    if call_budget == DEFAULT_BUDGET:
        # The budget must count time on the same clock the client sleeps on: with an injected
        # clock (the sandbox's, a test's) that clock, else the monotonic one.
        budget: CallBudget | str | None = (
            CallBudget() if now is _utcnow else CallBudget(clock=lambda: now().timestamp())
        )
    else:
        budget = call_budget
    if isinstance(budget, str):
        raise ConfigurationError("call_budget must be a CallBudget, None or 'mirakl'")
    default_params: tuple[tuple[str, str], ...] = ()
    if shop_id is not None:
        if not str(shop_id).strip().isdigit():
            raise ConfigurationError("shop_id must be a numeric Mirakl shop id")
        default_params = (("shop_id", str(shop_id).strip()),)
    return TransportConfig(
        base_url=_normalise_base_url(base_url),
        # Mirakl takes the raw shop key in Authorization, without "Bearer".
        auth_headers=lambda: {"Authorization": secret.reveal()},
        secrets=(secret,),
        default_params=default_params,
        error_parser=mirakl_error_parser,
        retry=policy,
        budget=budget,
        max_budget_wait=max_budget_wait,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        now=now,
        sleep=sleep,
        async_sleep=async_sleep,
        rand=rand,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MiraklClient:
    """Synchronous client for the Mirakl Seller API.

    Args:
        base_url: the operator's Mirakl instance (``https://your-instance.mirakl.net``; a
            trailing ``/api`` is accepted).
        api_key: the shop API key (sent raw in ``Authorization``; never shown in reprs, logs or
            errors).
        shop_id: the shop to act for when the key has access to several.
        timeout: default per-request timeout in seconds.
        max_retries: retries of a failed request (see :class:`RetryPolicy` for which).
        transport: an ``httpx`` transport (e.g. the sandbox's, or ``httpx.MockTransport``).
        retry_policy: a full :class:`RetryPolicy` (overrides ``max_retries``).
        call_budget: ``"mirakl"`` (Mirakl's published maxima, default), a custom
            :class:`CallBudget`, or ``None`` to disable client-side budgeting.
        max_budget_wait: longest wait (seconds) for a budget slot before
            :class:`~mirakl_sync.errors.CallBudgetExceededError` is raised.
        verify: TLS certificate verification (on by default; turning it off warns).
        max_response_bytes: the largest response body read (64 MiB by default; ``None`` for no
            limit); a larger one raises :class:`~mirakl_sync.errors.ResponseTooLargeError`
            without being buffered. Export chunks (OR15/OF54) can be larger: lower
            ``megabytes_per_chunk`` or pass ``max_response_bytes=`` on that call.

    Resources: ``orders``, ``shipments``, ``offers``, ``stock``, ``finance``, ``platform``. Use
    as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | Secret,
        *,
        shop_id: int | str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        call_budget: CallBudget | str | None = DEFAULT_BUDGET,
        max_budget_wait: float = DEFAULT_MAX_BUDGET_WAIT,
        verify: bool = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        config = _config(
            base_url,
            api_key,
            shop_id=shop_id,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            call_budget=call_budget,
            max_budget_wait=max_budget_wait,
            max_response_bytes=max_response_bytes,
            now=now,
            sleep=sleep,
            async_sleep=asyncio.sleep,
            rand=rand,
        )
        self._transport = SyncTransport(config, transport=transport, verify=verify)
        self.shop_id = shop_id

    def __repr__(self) -> str:
        shop = f", shop_id={self.shop_id!r}" if self.shop_id is not None else ""
        return f"MiraklClient({self._transport.config.base_url!r}{shop})"

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @property
    def call_budget(self) -> CallBudget | None:
        return self._transport.config.budget

    @cached_property
    def orders(self) -> Orders:
        """Orders: OR11, OR13-OR15, OR21, OR23, OR24, OR28-OR30."""
        return Orders(self._transport)

    @cached_property
    def shipments(self) -> Shipments:
        """Multiple shipments (partial shipping): ST01, ST11."""
        return Shipments(self._transport)

    @cached_property
    def offers(self) -> Offers:
        """Offers: OF21, OF52-OF54, OF01-OF03."""
        return Offers(self._transport)

    @cached_property
    def stock(self) -> Stock:
        """Stock: STO01-STO03."""
        return Stock(self._transport)

    @cached_property
    def finance(self) -> Finance:
        """Finance: TL02."""
        return Finance(self._transport)

    @cached_property
    def platform(self) -> Platform:
        """Platform settings: PC01, RE01, SH21."""
        return Platform(self._transport)

    def close(self) -> None:
        """Close the underlying connections."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncMiraklClient:
    """Asynchronous client for the Mirakl Seller API: the same resources and methods as
    :class:`MiraklClient`, awaited (listings are ``async for``). Use ``async with``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | Secret,
        *,
        shop_id: int | str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        call_budget: CallBudget | str | None = DEFAULT_BUDGET,
        max_budget_wait: float = DEFAULT_MAX_BUDGET_WAIT,
        verify: bool = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        config = _config(
            base_url,
            api_key,
            shop_id=shop_id,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            call_budget=call_budget,
            max_budget_wait=max_budget_wait,
            max_response_bytes=max_response_bytes,
            now=now,
            sleep=time.sleep,
            async_sleep=sleep,
            rand=rand,
        )
        self._transport = AsyncTransport(config, transport=transport, verify=verify)
        self.shop_id = shop_id

    def __repr__(self) -> str:
        shop = f", shop_id={self.shop_id!r}" if self.shop_id is not None else ""
        return f"AsyncMiraklClient({self._transport.config.base_url!r}{shop})"

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @property
    def call_budget(self) -> CallBudget | None:
        return self._transport.config.budget

    @cached_property
    def orders(self) -> AsyncOrders:
        """Orders: OR11, OR13-OR15, OR21, OR23, OR24, OR28-OR30."""
        return AsyncOrders(self._transport)

    @cached_property
    def shipments(self) -> AsyncShipments:
        """Multiple shipments (partial shipping): ST01, ST11."""
        return AsyncShipments(self._transport)

    @cached_property
    def offers(self) -> AsyncOffers:
        """Offers: OF21, OF52-OF54, OF01-OF03."""
        return AsyncOffers(self._transport)

    @cached_property
    def stock(self) -> AsyncStock:
        """Stock: STO01-STO03."""
        return AsyncStock(self._transport)

    @cached_property
    def finance(self) -> AsyncFinance:
        """Finance: TL02."""
        return AsyncFinance(self._transport)

    @cached_property
    def platform(self) -> AsyncPlatform:
        """Platform settings: PC01, RE01, SH21."""
        return AsyncPlatform(self._transport)

    async def aclose(self) -> None:
        """Close the underlying connections."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
