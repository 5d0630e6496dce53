"""Warehouses and vendors (read-only in IP's API)."""

from __future__ import annotations

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
from mirakl_sync.inventory_planner.models import Vendor, Warehouse


class _WarehouseRequests(ResourceBase[TransportT]):
    @staticmethod
    def _list_spec() -> RequestSpec:
        return ip_spec("warehouses.list", "GET", path("warehouses"))


class Warehouses(_WarehouseRequests[SyncTransport]):
    """``GET /api/v1/warehouses`` (sync). A warehouse's ``name`` is its id."""

    def list(
        self,
        *,
        include_disabled: bool = True,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> list[Warehouse]:
        """Every warehouse (``include_disabled=False`` drops disabled ones)."""
        spec = self._list_spec()
        paging = self._paging(spec, "warehouses", Warehouse, page_size)
        found = SyncPager(self._transport, [paging], options).to_list()
        return [w for w in found if include_disabled or not w.disabled]

    def names(self, **options: Unpack[RequestOptions]) -> dict[str, str]:
        """Warehouse id -> display name, enabled warehouses only."""
        return {
            w.name: w.display_name or w.name for w in self.list(include_disabled=False, **options)
        }


class AsyncWarehouses(_WarehouseRequests[AsyncTransport]):
    """``GET /api/v1/warehouses`` (async)."""

    async def list(
        self,
        *,
        include_disabled: bool = True,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> list[Warehouse]:
        """Every warehouse (``include_disabled=False`` drops disabled ones)."""
        spec = self._list_spec()
        paging = self._paging(spec, "warehouses", Warehouse, page_size)
        found = await AsyncPager(self._transport, [paging], options).to_list()
        return [w for w in found if include_disabled or not w.disabled]

    async def names(self, **options: Unpack[RequestOptions]) -> dict[str, str]:
        """Warehouse id -> display name, enabled warehouses only."""
        found = await self.list(include_disabled=False, **options)
        return {w.name: w.display_name or w.name for w in found}


class _VendorRequests(ResourceBase[TransportT]):
    @staticmethod
    def _list_spec() -> RequestSpec:
        return ip_spec("vendors.list", "GET", path("vendors"))

    @staticmethod
    def _get_spec(vendor_id: str) -> RequestSpec:
        return ip_spec("vendors.get", "GET", path("vendors", require_id(vendor_id, "vendor_id")))


class Vendors(_VendorRequests[SyncTransport]):
    """``/api/v1/vendors`` (sync). Vendor ids are names (URL-encoded in paths)."""

    def list(
        self, *, page_size: int = DEFAULT_LIMIT, **options: Unpack[RequestOptions]
    ) -> SyncPager[Vendor]:
        """Every vendor, auto-paginated."""
        spec = self._list_spec()
        return SyncPager(
            self._transport, [self._paging(spec, "vendors", Vendor, page_size)], options
        )

    def get(self, vendor_id: str, **options: Unpack[RequestOptions]) -> Vendor:
        """One vendor by id (its name)."""
        spec = self._get_spec(vendor_id)
        return self._entity(spec, self._transport.request(spec, options), "vendor", Vendor)


class AsyncVendors(_VendorRequests[AsyncTransport]):
    """``/api/v1/vendors`` (async)."""

    def list(
        self, *, page_size: int = DEFAULT_LIMIT, **options: Unpack[RequestOptions]
    ) -> AsyncPager[Vendor]:
        """Every vendor, auto-paginated (``async for``)."""
        spec = self._list_spec()
        return AsyncPager(
            self._transport, [self._paging(spec, "vendors", Vendor, page_size)], options
        )

    async def get(self, vendor_id: str, **options: Unpack[RequestOptions]) -> Vendor:
        """One vendor by id (its name)."""
        spec = self._get_spec(vendor_id)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "vendor", Vendor)
