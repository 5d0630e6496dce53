"""Purchase orders (stock orders): list, get, items, create (from lines or from a variants
filter), update the header, receive items."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, Unpack

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
    fields_param,
    ip_spec,
    list_params,
    path,
    require_id,
)
from mirakl_sync.inventory_planner.filters import F, Filter, FilterValue, Sort, filters_body
from mirakl_sync.inventory_planner.models import (
    NewPurchaseOrderLine,
    PurchaseOrder,
    PurchaseOrderCreate,
    PurchaseOrderItem,
    PurchaseOrderStatus,
    PurchaseOrderUpdate,
)

#: Fields asked by ``list`` by default: the header and the items' identity and quantities.
DEFAULT_PURCHASE_ORDER_FIELDS: tuple[str, ...] = (
    "id",
    "reference",
    "status",
    "type",
    "vendor",
    "warehouse",
    "source_warehouse",
    "currency",
    "notes",
    "created_date",
    "expected_date",
    "received_date",
    "readonly",
    "total",
    "total_ordered",
    "total_received",
    "created_at",
    "updated_at",
    "last_modified",
    "items.id",
    "items.sku",
    "items.title",
    "items.variant",
    "items.replenishment",
    "items.received",
    "items.remaining",
    "items.cost_price",
)

Method = Literal["PATCH", "PUT"]


def wire_status(status: PurchaseOrderStatus | str) -> str:
    """A status as written to IP: default statuses in IP's upper-case names (``OPEN``,
    ``PARTIALLY RECEIVED``: accepted on writes by integrators), custom ones verbatim."""
    if isinstance(status, PurchaseOrderStatus):
        return status.value.replace("_", " ").upper()
    text = require_id(status, "status")
    try:
        return wire_status(PurchaseOrderStatus(text))
    except ValueError:
        return text


def _whole(value: object, name: str, *, allow_zero: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{name} must be a whole number of units")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"{name} must be a whole number of units, got {value}")
    number = int(value)
    if number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {number}")
    return number


def _date(value: dt.date | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a date, not a datetime")
    if not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a date")
    return value.isoformat()


def create_body(order: PurchaseOrderCreate) -> dict[str, Any]:
    """``{"purchase-order": {...}}`` for a new purchase order (validated)."""
    body: dict[str, Any] = {"warehouse": require_id(order.warehouse, "warehouse")}
    if order.vendor is not None:
        body["vendor"] = require_id(order.vendor, "vendor")
    if order.status is not None:
        body["status"] = wire_status(order.status)
    for name in ("reference", "currency", "notes"):
        value = getattr(order, name)
        if value is not None:
            body[name] = str(value)
    expected = _date(order.expected_date, "expected_date")
    if expected is not None:
        body["expected_date"] = expected
    if order.lines and order.variants_filter is not None:
        raise ValueError("give either lines or a variants_filter, not both")
    if order.lines:
        items = []
        seen: set[str] = set()
        for line in order.lines:
            variant_id = require_id(line.variant_id, "variant_id")
            if variant_id in seen:
                raise ValueError(f"variant {variant_id} appears twice; merge the lines")
            seen.add(variant_id)
            item: dict[str, Any] = {
                "id": variant_id,
                "replenishment": _whole(line.quantity, "quantity", allow_zero=False),
            }
            if line.cost_price is not None:
                item["cost_price"] = Decimal(line.cost_price)
            items.append(item)
        body["items"] = items
    elif order.variants_filter is not None:
        body["variants_filter"] = filters_body(order.variants_filter)
    else:
        raise ValueError("a purchase order needs lines or a variants_filter")
    if order.skip_background_jobs is not None:
        body["skip_background_jobs"] = bool(order.skip_background_jobs)
    return {"purchase-order": body}


def update_body(update: PurchaseOrderUpdate) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if update.status is not None:
        body["status"] = wire_status(update.status)
    if update.reference is not None:
        body["reference"] = str(update.reference)
    if update.notes is not None:
        body["notes"] = str(update.notes)
    expected = _date(update.expected_date, "expected_date")
    if expected is not None:
        body["expected_date"] = expected
    if not body:
        raise ValueError("nothing to update")
    return {"purchase-order": body}


def receive_body(received: Mapping[str, int] | Iterable[tuple[str, int]]) -> dict[str, Any]:
    """``{"items": [{"id": <item id>, "received": <cumulative qty>}, ...]}``."""
    pairs = list(received.items() if isinstance(received, Mapping) else received)
    if not pairs:
        raise ValueError("receive() needs at least one item")
    items = []
    seen: set[str] = set()
    for item_id, quantity in pairs:
        key = require_id(item_id, "item id")
        if key in seen:
            raise ValueError(f"item {key} is received twice in one call")
        seen.add(key)
        items.append({"id": key, "received": _whole(quantity, "received", allow_zero=True)})
    return {"items": items}


class _PurchaseOrderRequests(ResourceBase[TransportT]):
    def _list_spec(
        self,
        *,
        status: PurchaseOrderStatus | str | None,
        vendor: str | None,
        warehouse: str | None,
        type: str | None,
        fields: Iterable[str] | None,
        all_fields: bool,
        where: Iterable[Filter] | None,
        sort: Iterable[Sort] | Sort | None,
    ) -> RequestSpec:
        filters: list[Filter] = []
        if status is not None:
            # IP answers lower case and has accepted both: compare case-insensitively.
            raw = status.value if isinstance(status, PurchaseOrderStatus) else status
            filters.append(F("status").eqi(require_id(raw, "status")))
        if vendor is not None:
            filters.append(F("vendor").eq(require_id(vendor, "vendor")))
        if warehouse is not None:
            filters.append(F("warehouse").eq(require_id(warehouse, "warehouse")))
        if type is not None:
            filters.append(F("type").eq(require_id(type, "type")))
        chosen: Iterable[str] | None
        if all_fields:
            if fields is not None:
                raise ValueError("all_fields=True cannot be combined with fields")
            chosen = None
        else:
            chosen = DEFAULT_PURCHASE_ORDER_FIELDS if fields is None else fields
        params = list_params(fields=chosen, where=[*filters, *(where or ())], sort=sort)
        return ip_spec("purchase-orders.list", "GET", path("purchase-orders"), params=params)

    @staticmethod
    def _get_spec(po_id: str, fields: Iterable[str] | None) -> RequestSpec:
        url = path("purchase-orders", require_id(po_id, "purchase_order_id"))
        return ip_spec("purchase-orders.get", "GET", url, params=tuple(fields_param(fields)))

    @staticmethod
    def _items_spec(po_id: str) -> RequestSpec:
        url = path("purchase-orders", require_id(po_id, "purchase_order_id"), "items")
        return ip_spec("purchase-orders.items", "GET", url)

    @staticmethod
    def _create_spec(order: PurchaseOrderCreate) -> RequestSpec:
        return ip_spec(
            "purchase-orders.create", "POST", path("purchase-orders"), json_body=create_body(order)
        )

    @staticmethod
    def _update_spec(po_id: str, update: PurchaseOrderUpdate, method: Method) -> RequestSpec:
        if method not in ("PATCH", "PUT"):
            raise ValueError("method must be 'PATCH' or 'PUT'")
        url = path("purchase-orders", require_id(po_id, "purchase_order_id"))
        return ip_spec("purchase-orders.update", method, url, json_body=update_body(update))

    @staticmethod
    def _receive_spec(
        po_id: str, received: Mapping[str, int] | Iterable[tuple[str, int]]
    ) -> RequestSpec:
        url = path("purchase-orders", require_id(po_id, "purchase_order_id"), "items")
        return ip_spec("purchase-orders.receive", "PATCH", url, json_body=receive_body(received))

    @staticmethod
    def _from_items(
        warehouse: str,
        lines: Mapping[str, int] | Iterable[NewPurchaseOrderLine],
        fields: dict[str, Any],
    ) -> PurchaseOrderCreate:
        if isinstance(lines, Mapping):
            built = tuple(NewPurchaseOrderLine(variant_id=k, quantity=v) for k, v in lines.items())
        else:
            built = tuple(lines)
        return PurchaseOrderCreate(warehouse=warehouse, lines=built, **fields)

    @staticmethod
    def _from_filter(
        warehouse: str,
        where: Iterable[Filter] | Mapping[str, FilterValue],
        fields: dict[str, Any],
    ) -> PurchaseOrderCreate:
        flt = filters_body(where)
        return PurchaseOrderCreate(warehouse=warehouse, variants_filter=flt, **fields)


def _header(
    vendor: str | None,
    status: PurchaseOrderStatus | str | None,
    reference: str | None,
    expected_date: dt.date | None,
    currency: str | None,
    notes: str | None,
) -> dict[str, Any]:
    return {
        "vendor": vendor,
        "status": status,
        "reference": reference,
        "expected_date": expected_date,
        "currency": currency,
        "notes": notes,
    }


class PurchaseOrders(_PurchaseOrderRequests[SyncTransport]):
    """Purchase orders, transfers and assemblies (sync).

    Writes are not retried after an ambiguous failure (timeout, 5xx): IP has no idempotency key,
    so list by ``reference`` before creating again.
    """

    def list(
        self,
        *,
        status: PurchaseOrderStatus | str | None = None,
        vendor: str | None = None,
        warehouse: str | None = None,
        type: str | None = None,
        fields: Iterable[str] | None = None,
        all_fields: bool = False,
        where: Iterable[Filter] | None = None,
        sort: Iterable[Sort] | Sort | None = None,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> SyncPager[PurchaseOrder]:
        """``GET /api/v1/purchase-orders``, auto-paginated. ``status`` is matched
        case-insensitively (``status_eqi``)."""
        spec = self._list_spec(
            status=status,
            vendor=vendor,
            warehouse=warehouse,
            type=type,
            fields=fields,
            all_fields=all_fields,
            where=where,
            sort=sort,
        )
        paging = self._paging(spec, "purchase-orders", PurchaseOrder, page_size)
        return SyncPager(self._transport, [paging], options)

    def get(
        self,
        purchase_order_id: str,
        *,
        fields: Iterable[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        """``GET /api/v1/purchase-orders/{id}`` with its items (the whole object by default)."""
        spec = self._get_spec(purchase_order_id, fields)
        response = self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    def items(
        self, purchase_order_id: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[PurchaseOrderItem]:
        """``GET /api/v1/purchase-orders/{id}/items``."""
        paging = self._paging(
            self._items_spec(purchase_order_id), "items", PurchaseOrderItem, DEFAULT_LIMIT
        )
        return SyncPager(self._transport, [paging], options).to_list()

    def create(
        self, order: PurchaseOrderCreate, **options: Unpack[RequestOptions]
    ) -> PurchaseOrder:
        """``POST /api/v1/purchase-orders`` (body ``{"purchase-order": {...}}``)."""
        spec = self._create_spec(order)
        response = self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    def create_from_items(
        self,
        warehouse: str,
        lines: Mapping[str, int] | Iterable[NewPurchaseOrderLine],
        *,
        vendor: str | None = None,
        status: PurchaseOrderStatus | str | None = None,
        reference: str | None = None,
        expected_date: dt.date | None = None,
        currency: str | None = None,
        notes: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        """Create a purchase order for ``warehouse`` from ``{variant_id: quantity}`` or lines."""
        header = _header(vendor, status, reference, expected_date, currency, notes)
        return self.create(self._from_items(warehouse, lines, header), **options)

    def create_from_filter(
        self,
        warehouse: str,
        where: Iterable[Filter] | Mapping[str, FilterValue],
        *,
        vendor: str | None = None,
        status: PurchaseOrderStatus | str | None = None,
        reference: str | None = None,
        expected_date: dt.date | None = None,
        currency: str | None = None,
        notes: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        """Create a purchase order whose lines IP fills from its replenishment suggestions for
        the variants matching ``where`` (``variants_filter``), e.g.
        ``[F("vendor").eq("Acme"), F("replenishment") > 0]``."""
        header = _header(vendor, status, reference, expected_date, currency, notes)
        return self.create(self._from_filter(warehouse, where, header), **options)

    def update(
        self,
        purchase_order_id: str,
        update: PurchaseOrderUpdate,
        *,
        method: Method = "PATCH",
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        """Change the header (status, reference, expected date, notes)."""
        spec = self._update_spec(purchase_order_id, update, method)
        response = self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    def receive(
        self,
        purchase_order_id: str,
        received: Mapping[str, int] | Iterable[tuple[str, int]],
        **options: Unpack[RequestOptions],
    ) -> builtins.list[PurchaseOrderItem]:
        """Record received quantities: ``{item_id: cumulative received}`` (absolute, not a
        delta: sending the same values twice changes nothing)."""
        spec = self._receive_spec(purchase_order_id, received)
        response = self._transport.request(spec, options)
        return self._entities(spec, response, "items", PurchaseOrderItem)


class AsyncPurchaseOrders(_PurchaseOrderRequests[AsyncTransport]):
    """Purchase orders (async twin of :class:`PurchaseOrders`)."""

    def list(
        self,
        *,
        status: PurchaseOrderStatus | str | None = None,
        vendor: str | None = None,
        warehouse: str | None = None,
        type: str | None = None,
        fields: Iterable[str] | None = None,
        all_fields: bool = False,
        where: Iterable[Filter] | None = None,
        sort: Iterable[Sort] | Sort | None = None,
        page_size: int = DEFAULT_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> AsyncPager[PurchaseOrder]:
        """``GET /api/v1/purchase-orders``, auto-paginated (``async for``)."""
        spec = self._list_spec(
            status=status,
            vendor=vendor,
            warehouse=warehouse,
            type=type,
            fields=fields,
            all_fields=all_fields,
            where=where,
            sort=sort,
        )
        paging = self._paging(spec, "purchase-orders", PurchaseOrder, page_size)
        return AsyncPager(self._transport, [paging], options)

    async def get(
        self,
        purchase_order_id: str,
        *,
        fields: Iterable[str] | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        spec = self._get_spec(purchase_order_id, fields)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    async def items(
        self, purchase_order_id: str, **options: Unpack[RequestOptions]
    ) -> builtins.list[PurchaseOrderItem]:
        paging = self._paging(
            self._items_spec(purchase_order_id), "items", PurchaseOrderItem, DEFAULT_LIMIT
        )
        return await AsyncPager(self._transport, [paging], options).to_list()

    async def create(
        self, order: PurchaseOrderCreate, **options: Unpack[RequestOptions]
    ) -> PurchaseOrder:
        spec = self._create_spec(order)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    async def create_from_items(
        self,
        warehouse: str,
        lines: Mapping[str, int] | Iterable[NewPurchaseOrderLine],
        *,
        vendor: str | None = None,
        status: PurchaseOrderStatus | str | None = None,
        reference: str | None = None,
        expected_date: dt.date | None = None,
        currency: str | None = None,
        notes: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        header = _header(vendor, status, reference, expected_date, currency, notes)
        return await self.create(self._from_items(warehouse, lines, header), **options)

    async def create_from_filter(
        self,
        warehouse: str,
        where: Iterable[Filter] | Mapping[str, FilterValue],
        *,
        vendor: str | None = None,
        status: PurchaseOrderStatus | str | None = None,
        reference: str | None = None,
        expected_date: dt.date | None = None,
        currency: str | None = None,
        notes: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        header = _header(vendor, status, reference, expected_date, currency, notes)
        return await self.create(self._from_filter(warehouse, where, header), **options)

    async def update(
        self,
        purchase_order_id: str,
        update: PurchaseOrderUpdate,
        *,
        method: Method = "PATCH",
        **options: Unpack[RequestOptions],
    ) -> PurchaseOrder:
        spec = self._update_spec(purchase_order_id, update, method)
        response = await self._transport.request(spec, options)
        return self._entity(spec, response, "purchase-order", PurchaseOrder)

    async def receive(
        self,
        purchase_order_id: str,
        received: Mapping[str, int] | Iterable[tuple[str, int]],
        **options: Unpack[RequestOptions],
    ) -> builtins.list[PurchaseOrderItem]:
        spec = self._receive_spec(purchase_order_id, received)
        response = await self._transport.request(spec, options)
        return self._entities(spec, response, "items", PurchaseOrderItem)
