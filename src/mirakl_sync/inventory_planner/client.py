"""``InventoryPlannerClient`` and ``AsyncInventoryPlannerClient``: typed access to Inventory
Planner's public API (``https://app.inventory-planner.com/api/v1``)."""

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
    USER_AGENT,
)
from mirakl_sync.errors import ConfigurationError
from mirakl_sync.inventory_planner._base import ip_error_parser
from mirakl_sync.inventory_planner.resources import (
    AsyncPurchaseOrders,
    AsyncVariants,
    AsyncVendors,
    AsyncWarehouses,
    AsyncWebhooks,
    PurchaseOrders,
    Variants,
    Vendors,
    Warehouses,
    Webhooks,
)

DEFAULT_BASE_URL = "https://app.inventory-planner.com"
#: Integrators walk 12k+ variants at limit=1000 with 60 s timeouts.
DEFAULT_IP_TIMEOUT = 60.0


def _normalise_base_url(base_url: str) -> str:
    """``https://host`` from that or ``https://host/api/v1``."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ConfigurationError("base_url must be the Inventory Planner URL")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError("base_url must look like https://app.inventory-planner.com")
    if parts.username or parts.password:
        raise ConfigurationError("base_url must not carry credentials; pass api_key")
    path = parts.path.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{netloc}{path}"


def _secret(value: str | Secret, name: str) -> Secret:
    secret = value if isinstance(value, Secret) else Secret(value)
    if not secret.reveal().strip():
        raise ConfigurationError(f"{name} is empty")
    if any(c in secret.reveal() for c in "\r\n"):
        raise ConfigurationError(f"{name} contains a line break")
    return secret


def _config(
    api_key: str | Secret,
    account: str | Secret,
    *,
    base_url: str,
    timeout: float,
    max_retries: int,
    retry_policy: RetryPolicy | None,
    call_budget: CallBudget | None,
    max_budget_wait: float,
    max_response_bytes: int | None,
    user_agent: str,
    now: Callable[[], datetime],
    sleep: Callable[[float], None],
    async_sleep: Callable[[float], Awaitable[None]],
    rand: Callable[[], float],
) -> TransportConfig:
    key = _secret(api_key, "api_key")
    account_id = _secret(account, "account")
    if not user_agent or not user_agent.strip():
        raise ConfigurationError("user_agent must not be empty (Cloudflare blocks empty agents)")
    return TransportConfig(
        base_url=_normalise_base_url(base_url),
        # IP takes the raw key (no "Bearer") and the account id in a header named "Account".
        auth_headers=lambda: {"Authorization": key.reveal(), "Account": account_id.reveal()},
        secrets=(key, account_id),
        error_parser=ip_error_parser,
        retry=retry_policy or RetryPolicy(max_retries=max_retries),
        budget=call_budget,
        max_budget_wait=max_budget_wait,
        timeout=timeout,
        max_response_bytes=max_response_bytes,
        user_agent=user_agent,
        now=now,
        sleep=sleep,
        async_sleep=async_sleep,
        rand=rand,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class InventoryPlannerClient:
    """Synchronous client for the Inventory Planner API.

    Args:
        api_key: the API key (Account > Settings > API; sent raw in ``Authorization``; never
            shown in reprs, logs, errors or cassettes).
        account: the account id (sent in the ``Account`` header; scrubbed like the key).
        base_url: ``https://app.inventory-planner.com`` (a trailing ``/api/v1`` is accepted).
        timeout: default per-request timeout in seconds (60: variant pages are large).
        max_retries: retries of a failed request (GETs on connection errors, 429, 502-504;
            writes only when the request surely never left, or on 429).
        transport: an ``httpx`` transport (the sandbox's, or ``httpx.MockTransport``).
        retry_policy: a full :class:`RetryPolicy` (overrides ``max_retries``).
        call_budget: IP publishes no rate limit, so none is applied by default; pass a
            :class:`CallBudget` with limits under the key ``"inventory_planner"`` to pace calls
            (integrators use about one call per second).
        user_agent: must not be empty (IP's Cloudflare front blocks empty user agents).
        verify: TLS certificate verification (on by default; turning it off warns).
        max_response_bytes: the largest response body read (64 MiB by default; ``None`` for no
            limit); a larger one raises :class:`~mirakl_sync.errors.ResponseTooLargeError`
            without being buffered.

    Resources: ``variants``, ``warehouses``, ``vendors``, ``purchase_orders``, ``webhooks``.
    The API cannot write sales orders or stock levels: see
    :mod:`mirakl_sync.inventory_planner.feeds`.
    """

    def __init__(
        self,
        api_key: str | Secret,
        account: str | Secret,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_IP_TIMEOUT,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        call_budget: CallBudget | None = None,
        max_budget_wait: float = DEFAULT_MAX_BUDGET_WAIT,
        user_agent: str = USER_AGENT,
        verify: bool = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        config = _config(
            api_key,
            account,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            call_budget=call_budget,
            max_budget_wait=max_budget_wait,
            max_response_bytes=max_response_bytes,
            user_agent=user_agent,
            now=now,
            sleep=sleep,
            async_sleep=asyncio.sleep,
            rand=rand,
        )
        self._transport = SyncTransport(config, transport=transport, verify=verify)

    def __repr__(self) -> str:
        return f"InventoryPlannerClient({self.base_url!r})"

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @cached_property
    def variants(self) -> Variants:
        """Variants: list/get/update, vendors, replenishment suggestions."""
        return Variants(self._transport)

    @cached_property
    def warehouses(self) -> Warehouses:
        """Warehouses (read-only)."""
        return Warehouses(self._transport)

    @cached_property
    def vendors(self) -> Vendors:
        """Vendors (read-only)."""
        return Vendors(self._transport)

    @cached_property
    def purchase_orders(self) -> PurchaseOrders:
        """Purchase orders: list/get/items/create/update/receive."""
        return PurchaseOrders(self._transport)

    @cached_property
    def webhooks(self) -> Webhooks:
        """Webhooks CRUD."""
        return Webhooks(self._transport)

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


class AsyncInventoryPlannerClient:
    """Asynchronous client for the Inventory Planner API: the resources and methods of
    :class:`InventoryPlannerClient`, awaited (listings are ``async for``). Use ``async with``."""

    def __init__(
        self,
        api_key: str | Secret,
        account: str | Secret,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_IP_TIMEOUT,
        max_retries: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        call_budget: CallBudget | None = None,
        max_budget_wait: float = DEFAULT_MAX_BUDGET_WAIT,
        user_agent: str = USER_AGENT,
        verify: bool = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        config = _config(
            api_key,
            account,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=retry_policy,
            call_budget=call_budget,
            max_budget_wait=max_budget_wait,
            max_response_bytes=max_response_bytes,
            user_agent=user_agent,
            now=now,
            sleep=time.sleep,
            async_sleep=sleep,
            rand=rand,
        )
        self._transport = AsyncTransport(config, transport=transport, verify=verify)

    def __repr__(self) -> str:
        return f"AsyncInventoryPlannerClient({self.base_url!r})"

    @property
    def base_url(self) -> str:
        return self._transport.config.base_url

    @cached_property
    def variants(self) -> AsyncVariants:
        return AsyncVariants(self._transport)

    @cached_property
    def warehouses(self) -> AsyncWarehouses:
        return AsyncWarehouses(self._transport)

    @cached_property
    def vendors(self) -> AsyncVendors:
        return AsyncVendors(self._transport)

    @cached_property
    def purchase_orders(self) -> AsyncPurchaseOrders:
        return AsyncPurchaseOrders(self._transport)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:
        return AsyncWebhooks(self._transport)

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
