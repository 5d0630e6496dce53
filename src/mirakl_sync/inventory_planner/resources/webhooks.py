"""Webhooks: ``/api/v1/webhooks`` CRUD (requires full account access)."""

from __future__ import annotations

import builtins
from typing import Unpack

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    RequestOptions,
    RequestSpec,
    SyncPager,
    SyncTransport,
)
from mirakl_sync.inventory_planner._base import (
    DEFAULT_LIMIT,
    ResourceBase,
    TransportT,
    ip_spec,
    path,
    require_id,
)
from mirakl_sync.inventory_planner.models import Webhook, WebhookCreate


def _body(hook: WebhookCreate) -> dict[str, object]:
    address = require_id(hook.address, "address")
    if not address.startswith(("https://", "http://")):
        raise ValueError("a webhook address must be an http(s) URL")
    body: dict[str, object] = {"address": address, "topic": require_id(hook.topic, "topic")}
    if hook.fields:
        body["fields"] = ",".join(hook.fields)
    return {"webhook": body}


class _WebhookRequests(ResourceBase[TransportT]):
    @staticmethod
    def _list_spec() -> RequestSpec:
        return ip_spec("webhooks.list", "GET", path("webhooks"))

    @staticmethod
    def _get_spec(hook_id: str) -> RequestSpec:
        return ip_spec("webhooks.get", "GET", path("webhooks", require_id(hook_id, "webhook_id")))

    @staticmethod
    def _create_spec(hook: WebhookCreate) -> RequestSpec:
        return ip_spec("webhooks.create", "POST", path("webhooks"), json_body=_body(hook))

    @staticmethod
    def _update_spec(hook_id: str, hook: WebhookCreate) -> RequestSpec:
        url = path("webhooks", require_id(hook_id, "webhook_id"))
        return ip_spec("webhooks.update", "PUT", url, json_body=_body(hook))

    @staticmethod
    def _delete_spec(hook_id: str) -> RequestSpec:
        url = path("webhooks", require_id(hook_id, "webhook_id"))
        return ip_spec("webhooks.delete", "DELETE", url)


class Webhooks(_WebhookRequests[SyncTransport]):
    """Webhook subscriptions (sync)."""

    def list(
        self, *, page_size: int = DEFAULT_LIMIT, **options: Unpack[RequestOptions]
    ) -> builtins.list[Webhook]:
        """Every webhook."""
        paging = self._paging(self._list_spec(), "webhooks", Webhook, page_size)
        return SyncPager(self._transport, [paging], options).to_list()

    def get(self, webhook_id: str, **options: Unpack[RequestOptions]) -> Webhook:
        spec = self._get_spec(webhook_id)
        return self._entity(spec, self._transport.request(spec, options), "webhook", Webhook)

    def create(self, hook: WebhookCreate, **options: Unpack[RequestOptions]) -> Webhook:
        """Subscribe ``hook.address`` to ``hook.topic`` (IP generates the id)."""
        spec = self._create_spec(hook)
        return self._entity(spec, self._transport.request(spec, options), "webhook", Webhook)

    def update(
        self, webhook_id: str, hook: WebhookCreate, **options: Unpack[RequestOptions]
    ) -> Webhook:
        """Replace a webhook's address, topic and fields (``PUT``)."""
        spec = self._update_spec(webhook_id, hook)
        return self._entity(spec, self._transport.request(spec, options), "webhook", Webhook)

    def delete(self, webhook_id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a webhook."""
        spec = self._delete_spec(webhook_id)
        self._check_result(spec, self._transport.request(spec, options))


class AsyncWebhooks(_WebhookRequests[AsyncTransport]):
    """Webhook subscriptions (async)."""

    async def list(
        self, *, page_size: int = DEFAULT_LIMIT, **options: Unpack[RequestOptions]
    ) -> builtins.list[Webhook]:
        paging = self._paging(self._list_spec(), "webhooks", Webhook, page_size)
        return await AsyncPager(self._transport, [paging], options).to_list()

    async def get(self, webhook_id: str, **options: Unpack[RequestOptions]) -> Webhook:
        spec = self._get_spec(webhook_id)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "webhook", Webhook)

    async def create(self, hook: WebhookCreate, **options: Unpack[RequestOptions]) -> Webhook:
        spec = self._create_spec(hook)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "webhook", Webhook)

    async def update(
        self, webhook_id: str, hook: WebhookCreate, **options: Unpack[RequestOptions]
    ) -> Webhook:
        spec = self._update_spec(webhook_id, hook)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "webhook", Webhook)

    async def delete(self, webhook_id: str, **options: Unpack[RequestOptions]) -> None:
        spec = self._delete_spec(webhook_id)
        self._check_result(spec, await self._transport.request(spec, options))
