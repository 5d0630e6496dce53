"""Variants: list, get, update planning fields, variant vendors, replenishment suggestions."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Iterator
from decimal import Decimal
from typing import Literal, Unpack

from mirakl_sync._http import (
    AsyncPager,
    AsyncTransport,
    RequestOptions,
    RequestSpec,
    SyncPager,
    SyncTransport,
)
from mirakl_sync._serde import to_wire
from mirakl_sync.inventory_planner._base import (
    DEFAULT_LIMIT,
    ResourceBase,
    TransportT,
    fields_param,
    ip_spec,
    list_params,
    path,
    require_id,
)
from mirakl_sync.inventory_planner.filters import F, Filter, Sort
from mirakl_sync.inventory_planner.models import (
    ReplenishmentSuggestion,
    Variant,
    VariantUpdate,
    VariantVendor,
)

#: Per-warehouse sub-fields asked by default (dot notation; asking ``warehouse`` alone returns
#: every per-warehouse metric).
WAREHOUSE_BLOCK_FIELDS: tuple[str, ...] = (
    "warehouse.warehouse",
    "warehouse.in_stock",
    "warehouse.replenishment",
    "warehouse.purchase_orders_qty",
    "warehouse.lead_time",
    "warehouse.review_period",
    "warehouse.minimum_stock",
)

#: The narrow field set asked by default: identity, stock, planning, per-warehouse blocks.
#: Variants carry 200+ metrics; IP's ``fields`` is an allowlist without wildcard.
DEFAULT_VARIANT_FIELDS: tuple[str, ...] = (
    "id",
    "sku",
    "title",
    "product_id",
    "barcode",
    "price",
    "cost_price",
    "in_stock",
    "replenishment",
    "purchase_orders_qty",
    "lead_time",
    "review_period",
    "minimum_stock",
    "oos",
    "under_value",
    "removed",
    "updated_at",
    "connections",
    *WAREHOUSE_BLOCK_FIELDS,
)

#: Fields of a replenishment walk.
REPLENISHMENT_FIELDS: tuple[str, ...] = (
    "id",
    "sku",
    "replenishment",
    "oos",
    "under_value",
    "lead_time",
    "connections",
    "warehouse.warehouse",
    "warehouse.replenishment",
    "warehouse.lead_time",
    "warehouse.oos",
)


def variant_fields(
    fields: Iterable[str] | None, extra_fields: Iterable[str] | None, all_fields: bool
) -> list[str] | None:
    """The ``fields`` allowlist to send (``None`` = the whole object)."""
    if all_fields:
        if fields is not None or extra_fields is not None:
            raise ValueError("all_fields=True cannot be combined with fields/extra_fields")
        return None
    chosen = list(DEFAULT_VARIANT_FIELDS if fields is None else fields)
    if isinstance(extra_fields, str):
        raise TypeError("extra_fields must be an iterable of names, not a string")
    chosen += list(extra_fields or ())
    if "id" not in chosen:
        chosen.insert(0, "id")  # the model needs it
    return chosen


def _suggestions(
    variant: Variant, warehouse: str | None, minimum: Decimal
) -> Iterator[ReplenishmentSuggestion]:
    if warehouse is None:
        if variant.replenishment is not None and variant.replenishment > minimum:
            yield ReplenishmentSuggestion(
                variant_id=variant.id,
                sku=variant.sku,
                quantity=variant.replenishment,
                oos=variant.oos,
                under_value=variant.under_value,
                lead_time=variant.lead_time,
                vendor=variant.vendor,
            )
        return
    block = variant.block(warehouse)
    if block is not None and block.replenishment is not None and block.replenishment > minimum:
        yield ReplenishmentSuggestion(
            variant_id=variant.id,
            sku=variant.sku,
            quantity=block.replenishment,
            warehouse=warehouse,
            oos=block.oos if block.oos is not None else variant.oos,
            under_value=variant.under_value,
            lead_time=block.lead_time if block.lead_time is not None else variant.lead_time,
            vendor=variant.vendor,
        )


class _VariantRequests(ResourceBase[TransportT]):
    def _list_spec(
        self,
        *,
        fields: Iterable[str] | None,
        extra_fields: Iterable[str] | None,
        all_fields: bool,
        where: Iterable[Filter] | None,
        sort: Iterable[Sort] | Sort | None,
        sku: str | None,
        skus: Iterable[str] | None,
        vendor: str | None,
    ) -> RequestSpec:
        filters: list[Filter] = []
        if sku is not None:
            filters.append(F("sku").eq(require_id(sku, "sku")))
        if skus is not None:
            if isinstance(skus, str):
                raise TypeError("skus must be an iterable of SKUs, not a string")
            filters.append(F("sku").isin([require_id(s, "sku") for s in skus]))
        if vendor is not None:
            filters.append(F("vendor").eq(require_id(vendor, "vendor")))
        filters += list(where or ())
        params = list_params(
            fields=variant_fields(fields, extra_fields, all_fields), where=filters, sort=sort
        )
        return ip_spec("variants.list", "GET", path("variants"), params=params)

    def _get_spec(
        self,
        variant_id: str,
        fields: Iterable[str] | None,
        extra_fields: Iterable[str] | None,
        all_fields: bool,
    ) -> RequestSpec:
        vid = require_id(variant_id, "variant_id")
        params = tuple(fields_param(variant_fields(fields, extra_fields, all_fields)))
        return ip_spec("variants.get", "GET", path("variants", vid), params=params)

    def _update_spec(
        self, variant_id: str, update: VariantUpdate, method: Literal["PATCH", "PUT"]
    ) -> RequestSpec:
        vid = require_id(variant_id, "variant_id")
        if method not in ("PATCH", "PUT"):
            raise ValueError("method must be 'PATCH' or 'PUT'")
        body = to_wire(self._converter, update)
        for name in ("lead_time", "review_period", "minimum_stock"):
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a non-negative integer")
        if not body:
            raise ValueError("nothing to update: give at least one planning field")
        return ip_spec(
            "variants.update", method, path("variants", vid), json_body={"variant": body}
        )

    def _vendors_spec(self, variant_id: str) -> RequestSpec:
        vid = require_id(variant_id, "variant_id")
        return ip_spec("variants.vendors", "GET", path("variants", vid, "vendors"))

    def _replenishment_spec(
        self,
        warehouse: str | None,
        vendor: str | None,
        where: Iterable[Filter] | None,
        extra_fields: Iterable[str] | None,
    ) -> RequestSpec:
        filters: list[Filter] = []
        if warehouse is None:
            filters.append(F("replenishment") > 0)
        else:
            require_id(warehouse, "warehouse")
        return self._list_spec(
            fields=REPLENISHMENT_FIELDS,
            extra_fields=extra_fields,
            all_fields=False,
            where=[*filters, *(where or ())],
            sort=F("oos").asc(),
            sku=None,
            skus=None,
            vendor=vendor,
        )

    @staticmethod
    def _build_update(
        update: VariantUpdate | None,
        lead_time: int | None,
        review_period: int | None,
        minimum_stock: int | None,
        replenishment_notes: str | None,
    ) -> VariantUpdate:
        given = (lead_time, review_period, minimum_stock, replenishment_notes)
        if update is not None:
            if any(v is not None for v in given):
                raise ValueError("pass either a VariantUpdate or keyword fields, not both")
            return update
        return VariantUpdate(
            lead_time=lead_time,
            review_period=review_period,
            minimum_stock=minimum_stock,
            replenishment_notes=replenishment_notes,
        )


class Variants(_VariantRequests[SyncTransport]):
    """Inventory Planner variants (sync)."""

    def list(
        self,
        *,
        fields: Iterable[str] | None = None,
        extra_fields: Iterable[str] | None = None,
        all_fields: bool = False,
        where: Iterable[Filter] | None = None,
        sort: Iterable[Sort] | Sort | None = None,
        sku: str | None = None,
        skus: Iterable[str] | None = None,
        vendor: str | None = None,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[Variant]:
        """``GET /api/v1/variants``, auto-paginated (pages fetched lazily while iterating).

        Args:
            fields: the allowlist of fields (default :data:`DEFAULT_VARIANT_FIELDS`).
            extra_fields: fields added to the default set (``["last_30_days_sales"]``); what
                the model does not know lands in :attr:`Variant.extra`.
            all_fields: ask for the whole object (200+ metrics per variant: slow).
            where: typed filters (``F("in_stock") <= 0``).
            sort: sort keys (``F("oos").asc()``).
            sku / skus / vendor: shortcuts for ``sku=``, ``sku_in=``, ``vendor=``.
            page_size: ``limit`` per page (1-1000).
        """
        spec = self._list_spec(
            fields=fields,
            extra_fields=extra_fields,
            all_fields=all_fields,
            where=where,
            sort=sort,
            sku=sku,
            skus=skus,
            vendor=vendor,
        )
        return SyncPager(
            self._transport, [self._paging(spec, "variants", Variant, page_size)], options
        )

    def get(
        self,
        variant_id: str,
        *,
        fields: Iterable[str] | None = None,
        extra_fields: Iterable[str] | None = None,
        all_fields: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Variant:
        """``GET /api/v1/variants/{id}`` (narrow fields by default, like :meth:`list`)."""
        spec = self._get_spec(variant_id, fields, extra_fields, all_fields)
        return self._entity(spec, self._transport.request(spec, options), "variant", Variant)

    def get_by_sku(
        self, sku: str, *, case_insensitive: bool = False, **options: Unpack[RequestOptions]
    ) -> Variant | None:
        """The variant with SKU ``sku`` (``sku=`` or ``sku_eqi=``), or ``None``."""
        where = [F("sku").eqi(require_id(sku, "sku"))] if case_insensitive else None
        pager = self.list(
            sku=None if case_insensitive else sku, where=where, page_size=2, **options
        )
        first = next(iter(pager.pages()), None)
        return first.items[0] if first is not None and first.items else None

    def update(
        self,
        variant_id: str,
        update: VariantUpdate | None = None,
        *,
        lead_time: int | None = None,
        review_period: int | None = None,
        minimum_stock: int | None = None,
        replenishment_notes: str | None = None,
        method: Literal["PATCH", "PUT"] = "PATCH",
        **options: Unpack[RequestOptions],
    ) -> Variant:
        """Change a variant's planning fields (body ``{"variant": {...}}``). Not retried on an
        ambiguous failure: re-read the variant before sending again."""
        body = self._build_update(
            update, lead_time, review_period, minimum_stock, replenishment_notes
        )
        spec = self._update_spec(variant_id, body, method)
        return self._entity(spec, self._transport.request(spec, options), "variant", Variant)

    def vendors(
        self, variant_id: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[VariantVendor]:
        """``GET /api/v1/variants/{id}/vendors``: the variant's vendors and their cost prices."""
        spec = self._vendors_spec(variant_id)
        paging = self._paging(spec, "vendors", VariantVendor, DEFAULT_LIMIT)
        return SyncPager(self._transport, [paging], options).to_list()

    def replenishment(
        self,
        *,
        warehouse: str | None = None,
        vendor: str | None = None,
        where: Iterable[Filter] | None = None,
        minimum: Decimal | int = 0,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> Iterator[ReplenishmentSuggestion]:
        """Replenishment suggestions, most urgent (lowest ``oos``) first.

        Without ``warehouse``: variants with ``replenishment_gt=0`` (filtered by IP). With a
        ``warehouse`` id: every variant's block for that warehouse whose ``replenishment`` is
        above ``minimum`` (IP cannot filter on a block, so this walks all variants, narrowly).
        """
        spec = self._replenishment_spec(warehouse, vendor, where, None)
        pager = SyncPager(
            self._transport, [self._paging(spec, "variants", Variant, page_size)], options
        )
        for variant in pager:
            yield from _suggestions(variant, warehouse, Decimal(minimum))


class AsyncVariants(_VariantRequests[AsyncTransport]):
    """Inventory Planner variants (async twin of :class:`Variants`)."""

    def list(
        self,
        *,
        fields: Iterable[str] | None = None,
        extra_fields: Iterable[str] | None = None,
        all_fields: bool = False,
        where: Iterable[Filter] | None = None,
        sort: Iterable[Sort] | Sort | None = None,
        sku: str | None = None,
        skus: Iterable[str] | None = None,
        vendor: str | None = None,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[Variant]:
        """``GET /api/v1/variants``, auto-paginated (``async for``)."""
        spec = self._list_spec(
            fields=fields,
            extra_fields=extra_fields,
            all_fields=all_fields,
            where=where,
            sort=sort,
            sku=sku,
            skus=skus,
            vendor=vendor,
        )
        return AsyncPager(
            self._transport, [self._paging(spec, "variants", Variant, page_size)], options
        )

    async def get(
        self,
        variant_id: str,
        *,
        fields: Iterable[str] | None = None,
        extra_fields: Iterable[str] | None = None,
        all_fields: bool = False,
        **options: Unpack[RequestOptions],
    ) -> Variant:
        """``GET /api/v1/variants/{id}``."""
        spec = self._get_spec(variant_id, fields, extra_fields, all_fields)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "variant", Variant)

    async def get_by_sku(
        self, sku: str, *, case_insensitive: bool = False, **options: Unpack[RequestOptions]
    ) -> Variant | None:
        """The variant with SKU ``sku``, or ``None``."""
        where = [F("sku").eqi(require_id(sku, "sku"))] if case_insensitive else None
        pager = self.list(
            sku=None if case_insensitive else sku, where=where, page_size=2, **options
        )
        async for page in pager.pages():
            return page.items[0] if page.items else None
        return None

    async def update(
        self,
        variant_id: str,
        update: VariantUpdate | None = None,
        *,
        lead_time: int | None = None,
        review_period: int | None = None,
        minimum_stock: int | None = None,
        replenishment_notes: str | None = None,
        method: Literal["PATCH", "PUT"] = "PATCH",
        **options: Unpack[RequestOptions],
    ) -> Variant:
        """Change a variant's planning fields."""
        body = self._build_update(
            update, lead_time, review_period, minimum_stock, replenishment_notes
        )
        spec = self._update_spec(variant_id, body, method)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "variant", Variant)

    async def vendors(
        self, variant_id: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[VariantVendor]:
        """``GET /api/v1/variants/{id}/vendors``."""
        spec = self._vendors_spec(variant_id)
        paging = self._paging(spec, "vendors", VariantVendor, DEFAULT_LIMIT)
        return await AsyncPager(self._transport, [paging], options).to_list()

    async def replenishment(
        self,
        *,
        warehouse: str | None = None,
        vendor: str | None = None,
        where: Iterable[Filter] | None = None,
        minimum: Decimal | int = 0,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[ReplenishmentSuggestion]:
        """Replenishment suggestions (see :meth:`Variants.replenishment`)."""
        spec = self._replenishment_spec(warehouse, vendor, where, None)
        pager = AsyncPager(
            self._transport, [self._paging(spec, "variants", Variant, page_size)], options
        )
        async for variant in pager:
            for suggestion in _suggestions(variant, warehouse, Decimal(minimum)):
                yield suggestion


__all__ = [
    "DEFAULT_VARIANT_FIELDS",
    "REPLENISHMENT_FIELDS",
    "WAREHOUSE_BLOCK_FIELDS",
    "AsyncVariants",
    "Variants",
]
