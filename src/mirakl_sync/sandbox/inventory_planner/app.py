"""``InventoryPlannerSandbox``: Inventory Planner's public API (``/api/v1``) served from the
simulated account.

Operations (names used for faults and the call log): ``variants.list``, ``variants.get``,
``variants.update``, ``variants.vendors``, ``warehouses.list``, ``vendors.list``, ``vendors.get``,
``purchase-orders.list``, ``purchase-orders.get``, ``purchase-orders.create``,
``purchase-orders.update``, ``purchase-orders.items``, ``purchase-orders.receive``,
``webhooks.list/get/create/update/delete``, and ``connector.starter`` / ``connector.advanced``
(sandbox routes that accept the CSV connector files over HTTP).

Conventions simulated: headers ``Authorization: <key>`` and ``Account: <account id>``; list
bodies ``{"meta": {...}, "<plural>": [...]}``, single bodies under the singular key; writes
wrapped in the singular key; 0-based ``page`` and ``limit`` (max 1000); ``fields=`` allowlist
with dot notation for per-warehouse sub-fields; filters ``<field>``, ``_eq``, ``_eqi``, ``_ne``,
``_gt``, ``_gte``, ``_lt``, ``_lte``, ``_range``, ``_match``, ``_in``; sorting
``<field>_sort=asc|desc``; errors ``{"result": {"status": "error", "message": ...}}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from mirakl_sync.sandbox._http import (
    BaseSandbox,
    HTTPProblem,
    RequestContext,
    Route,
    json_response,
)
from mirakl_sync.sandbox.clock import SandboxClock
from mirakl_sync.sandbox.faults import Faults
from mirakl_sync.sandbox.inventory_planner.connector import CsvConnectors
from mirakl_sync.sandbox.inventory_planner.state import (
    InventoryPlannerState,
    IPError,
    PurchaseOrder,
    Variant,
)

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_IP_KEY", "InventoryPlannerSandbox"]

JSON = Any
DEFAULT_IP_KEY = "sandbox-ip-key"
DEFAULT_ACCOUNT = "sandbox-account"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_OPS = ("_eqi", "_eq", "_ne", "_gte", "_gt", "_lte", "_lt", "_range", "_match", "_in")
_CONTROL = frozenset({"page", "limit", "fields"})


def _compare(value: JSON, op: str, raw: str) -> bool:
    if op == "_eqi":
        return str(value).lower() == raw.lower()
    if op == "_match":
        return re.search(raw, str(value)) is not None
    if op == "_in":
        return str(value) in [v.strip() for v in raw.split(",")]
    if op in ("", "_eq", "_ne"):
        equal = str(value).lower() == raw.lower() if isinstance(value, bool) else str(value) == raw
        return equal if op != "_ne" else not equal
    try:
        number = float(value)
        if op == "_range":
            low, _, high = raw.partition("-")
            return float(low) <= number <= float(high)
        bound = float(raw)
    except (TypeError, ValueError):
        return False
    return {
        "_gt": number > bound,
        "_gte": number >= bound,
        "_lt": number < bound,
        "_lte": number <= bound,
    }[op]


def _select(item: dict[str, JSON], fields: list[str]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    nested: dict[str, list[str]] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        if rest:
            nested.setdefault(head, []).append(rest)
        elif head in item:
            out[head] = item[head]
    for head, subs in nested.items():
        if head in out or head not in item:
            continue
        value = item[head]
        if isinstance(value, list):
            key = "warehouse" if head == "warehouse" else "id"
            out[head] = [
                {key: v.get(key), **{s: v[s] for s in subs if s in v}}
                for v in value
                if isinstance(v, dict)
            ]
        elif isinstance(value, dict):
            out[head] = {s: value[s] for s in subs if s in value}
    return out


class InventoryPlannerSandbox(BaseSandbox):
    """An in-memory Inventory Planner account served over ``/api/v1`` (module docstring)."""

    name = "inventory-planner-sandbox"

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        faults: Faults | None = None,
        api_key: str = DEFAULT_IP_KEY,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        super().__init__(clock=clock, seed=seed, faults=faults)
        self.api_key = api_key
        self.account = account
        self.state = InventoryPlannerState(now=self.clock.now)
        self.connectors = CsvConnectors(self.state)
        self._register_routes()

    def __repr__(self) -> str:
        return (
            f"InventoryPlannerSandbox(variants={len(self.state.variants)}, "
            f"warehouses={len(self.state.warehouses)}, "
            f"purchase_orders={len(self.state.purchase_orders)})"
        )

    # -- convenience -----------------------------------------------------------------------

    def add_warehouse(self, name: str, display_name: str | None = None, **kw: Any) -> Any:
        with self._lock:
            return self.state.add_warehouse(name, display_name, **kw)

    def add_vendor(self, name: str, **fields: Any) -> JSON:
        with self._lock:
            return self.state.add_vendor(name, **fields)

    def add_variant(self, sku: str, **kwargs: Any) -> Variant:
        """Add a variant (``stock={warehouse: qty}``, ``vendor``, ``lead_time``...)."""
        with self._lock:
            return self.state.add_variant(sku, **kwargs)

    def variant(self, sku: str) -> Variant | None:
        with self._lock:
            return self.state.variant_by_sku(sku)

    def set_stock(self, sku: str, warehouse: str, quantity: float) -> Variant:
        """Change a variant's stock in one warehouse (as the inventory system would)."""
        with self._lock:
            variant = self.state.variant_by_sku(sku)
            if variant is None:
                raise KeyError(sku)
            if warehouse not in self.state.warehouses:
                self.state.add_warehouse(warehouse)
            variant.stock[warehouse] = quantity
            variant.updated_at = self.clock.now()
            return variant

    # -- hooks -----------------------------------------------------------------------------

    def error_body(self, status: int, message: str, code: str | None) -> JSON:
        return {"result": {"status": "error", "message": message}}

    def authenticate(self, ctx: RequestContext, route: Route) -> None:
        headers = ctx.request.headers
        if headers.get("authorization") != self.api_key or headers.get("account") != self.account:
            raise HTTPProblem(401, "Authentication failed: check the API key and Account headers")

    def frequency_scope(self, ctx: RequestContext, route: Route) -> str | None:
        return "account"

    # -- routing ---------------------------------------------------------------------------

    def _register_routes(self) -> None:
        r = self.route
        v1 = "/api/v1"
        r("GET", f"{v1}/variants", "variants.list", self._list("variants", self._variants))
        r("GET", f"{v1}/variants/{{variant_id}}", "variants.get", self._variant_get)
        r("PATCH", f"{v1}/variants/{{variant_id}}", "variants.update", self._variant_update)
        r("PUT", f"{v1}/variants/{{variant_id}}", "variants.update", self._variant_update)
        r("GET", f"{v1}/variants/{{variant_id}}/vendors", "variants.vendors", self._variant_vendors)
        r("GET", f"{v1}/warehouses", "warehouses.list", self._list("warehouses", self._warehouses))
        r("GET", f"{v1}/vendors", "vendors.list", self._list("vendors", self._vendors))
        r("GET", f"{v1}/vendors/{{vendor_id}}", "vendors.get", self._vendor_get)
        po = f"{v1}/purchase-orders"
        r("GET", po, "purchase-orders.list", self._list("purchase-orders", self._pos))
        r("POST", po, "purchase-orders.create", self._po_create)
        r("GET", f"{po}/{{po_id}}", "purchase-orders.get", self._po_get)
        r("PUT", f"{po}/{{po_id}}", "purchase-orders.update", self._po_update)
        r("PATCH", f"{po}/{{po_id}}", "purchase-orders.update", self._po_update)
        r("GET", f"{po}/{{po_id}}/items", "purchase-orders.items", self._po_items)
        r("PATCH", f"{po}/{{po_id}}/items", "purchase-orders.receive", self._po_receive)
        r("GET", f"{v1}/webhooks", "webhooks.list", self._list("webhooks", self._webhooks))
        r("POST", f"{v1}/webhooks", "webhooks.create", self._webhook_create)
        r("GET", f"{v1}/webhooks/{{hook_id}}", "webhooks.get", self._webhook_get)
        r("PUT", f"{v1}/webhooks/{{hook_id}}", "webhooks.update", self._webhook_update)
        r("DELETE", f"{v1}/webhooks/{{hook_id}}", "webhooks.delete", self._webhook_delete)
        r("POST", "/sandbox/connectors/starter/{connection}", "connector.starter", self._starter)
        r("POST", "/sandbox/connectors/advanced/{entity}", "connector.advanced", self._advanced)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except IPError as error:
            raise HTTPProblem(error.status, error.message) from None

    def _list(
        self, plural: str, source: Callable[[], list[dict[str, JSON]]]
    ) -> Callable[[RequestContext], httpx.Response]:
        def handler(ctx: RequestContext) -> httpx.Response:
            return self._page(ctx, plural, source())

        return handler

    def _page(
        self, ctx: RequestContext, plural: str, items: list[dict[str, JSON]]
    ) -> httpx.Response:
        page = ctx.q_int("page", 0) or 0
        limit = ctx.q_int("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
        if page < 0 or limit < 1:
            raise HTTPProblem(400, "page must be >= 0 and limit >= 1")
        limit = min(limit, MAX_LIMIT)
        sorts: list[tuple[str, bool]] = []
        for name, raw in ctx.query:
            if name in _CONTROL or name.endswith("_sort") or name == "include_removed":
                if name.endswith("_sort"):
                    sorts.append((name[: -len("_sort")], raw.lower() == "desc"))
                continue
            field, op = name, ""
            for suffix in _OPS:
                if name.endswith(suffix):
                    field, op = name[: -len(suffix)], suffix
                    break
            items = [i for i in items if field in i and _compare(i[field], op, raw)]
        if plural == "variants" and ctx.q_bool("include_removed") is not True:
            items = [i for i in items if not i.get("removed")]
        for field, descending in reversed(sorts):
            items.sort(key=lambda i: (i.get(field) is None, i.get(field) or 0), reverse=descending)
        total = len(items)
        chunk = items[page * limit : (page + 1) * limit]
        fields = [f.strip() for f in (ctx.q("fields") or "").split(",") if f.strip()]
        if fields:
            chunk = [_select(i, fields) for i in chunk]
        start = page * limit
        meta = {
            "name": plural,
            "display_name": plural.replace("-", " ").capitalize(),
            "total": total,
            "count": len(chunk),
            "limit": limit,
            "page": page,
            "start": start,
            "end": start + max(0, len(chunk) - 1),
        }
        return json_response({"meta": meta, plural: chunk})

    def _one(self, ctx: RequestContext, key: str, item: dict[str, JSON]) -> httpx.Response:
        fields = [f.strip() for f in (ctx.q("fields") or "").split(",") if f.strip()]
        return json_response({key: _select(item, fields) if fields else item})

    def _body(self, ctx: RequestContext, key: str) -> JSON:
        body = ctx.json()
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise HTTPProblem(400, f"The body must be wrapped in '{key}'")
        return body[key]

    # -- variants, warehouses, vendors -----------------------------------------------------

    def _variants(self) -> list[dict[str, JSON]]:
        return [self.state.variant_json(v) for v in self.state.variants.values()]

    def _variant_get(self, ctx: RequestContext, variant_id: str) -> httpx.Response:
        variant = self._call(self.state.variant, variant_id)
        return self._one(ctx, "variant", self.state.variant_json(variant))

    def _variant_update(self, ctx: RequestContext, variant_id: str) -> httpx.Response:
        variant = self._call(self.state.variant, variant_id)
        body = self._body(ctx, "variant")
        writable = {"lead_time", "review_period", "minimum_stock", "replenishment_notes"}
        unknown = set(body) - writable
        if unknown:
            raise HTTPProblem(400, f"Read-only or unknown fields: {', '.join(sorted(unknown))}")
        for name, value in body.items():
            setattr(variant, name, value)
        variant.updated_at = self.clock.now()
        return json_response({"variant": self.state.variant_json(variant)})

    def _variant_vendors(self, ctx: RequestContext, variant_id: str) -> httpx.Response:
        variant = self._call(self.state.variant, variant_id)
        vendors = []
        if variant.vendor:
            vendors.append(
                {
                    "id": variant.vendor.lower(),
                    "vendor_name": variant.title,
                    "cost_price": float(variant.cost_price),
                    "vendor_reference": None,
                }
            )
        return self._page(ctx, "vendors", vendors)

    def _warehouses(self) -> list[dict[str, JSON]]:
        return [w.to_json() for w in self.state.warehouses.values()]

    def _vendors(self) -> list[dict[str, JSON]]:
        return list(self.state.vendors.values())

    def _vendor_get(self, ctx: RequestContext, vendor_id: str) -> httpx.Response:
        vendor = self.state.vendors.get(vendor_id.lower())
        if vendor is None:
            raise HTTPProblem(404, f"Failed to find vendor {vendor_id}")
        return self._one(ctx, "vendor", vendor)

    # -- purchase orders -------------------------------------------------------------------

    def _pos(self) -> list[dict[str, JSON]]:
        return [self.state.po_json(p) for p in self.state.purchase_orders.values()]

    def _po_json(self, po: PurchaseOrder) -> httpx.Response:
        return json_response({"purchase-order": self.state.po_json(po)})

    def _po_create(self, ctx: RequestContext) -> httpx.Response:
        po = self._call(self.state.create_po, self._body(ctx, "purchase-order"))
        return self._po_json(po)

    def _po_get(self, ctx: RequestContext, po_id: str) -> httpx.Response:
        po = self._call(self.state.po, po_id)
        return self._one(ctx, "purchase-order", self.state.po_json(po))

    def _po_update(self, ctx: RequestContext, po_id: str) -> httpx.Response:
        return self._po_json(
            self._call(self.state.update_po, po_id, self._body(ctx, "purchase-order"))
        )

    def _po_items(self, ctx: RequestContext, po_id: str) -> httpx.Response:
        po = self._call(self.state.po, po_id)
        return self._page(ctx, "items", self.state.po_json(po)["items"])

    def _po_receive(self, ctx: RequestContext, po_id: str) -> httpx.Response:
        body = ctx.json()
        items = body.get("items") if isinstance(body, dict) else None
        po = self._call(self.state.receive, po_id, items)
        return json_response({"items": self.state.po_json(po)["items"]})

    # -- webhooks --------------------------------------------------------------------------

    def _webhooks(self) -> list[dict[str, JSON]]:
        return list(self.state.webhooks.values())

    def _hook(self, hook_id: str) -> dict[str, JSON]:
        hook = self.state.webhooks.get(int(hook_id)) if hook_id.isdigit() else None
        if hook is None:
            raise HTTPProblem(404, f"Failed to find webhook {hook_id}")
        return hook  # type: ignore[no-any-return]

    def _webhook_fields(self, body: JSON) -> dict[str, JSON]:
        if not body.get("address") or not body.get("topic"):
            raise HTTPProblem(400, "address and topic are required")
        return {k: body.get(k) for k in ("address", "topic", "fields")}

    def _webhook_create(self, ctx: RequestContext) -> httpx.Response:
        data = self._webhook_fields(self._body(ctx, "webhook"))
        hook = {"id": self.state.next_id("webhook"), **data}
        self.state.webhooks[hook["id"]] = hook
        return json_response({"webhook": hook})

    def _webhook_get(self, ctx: RequestContext, hook_id: str) -> httpx.Response:
        return json_response({"webhook": self._hook(hook_id)})

    def _webhook_update(self, ctx: RequestContext, hook_id: str) -> httpx.Response:
        hook = self._hook(hook_id)
        hook.update(self._webhook_fields({**hook, **self._body(ctx, "webhook")}))
        return json_response({"webhook": hook})

    def _webhook_delete(self, ctx: RequestContext, hook_id: str) -> httpx.Response:
        hook = self._hook(hook_id)
        del self.state.webhooks[hook["id"]]
        return json_response({"result": {"status": "success", "message": "Deleted"}})

    # -- CSV connectors over HTTP (sandbox routes) ------------------------------------------

    def _starter(self, ctx: RequestContext, connection: str) -> httpx.Response:
        _, files = ctx.form()
        texts = {k: f.content.decode("utf-8-sig") for k, f in files.items()}
        if "products" not in texts or "sales_orders" not in texts:
            raise HTTPProblem(400, "products and sales_orders files are required")
        report = self.connectors.import_starter(
            connection, texts["products"], texts["sales_orders"], texts.get("purchase_orders")
        )
        return json_response(report.to_json(), 200 if report.accepted else 400)

    def _advanced(self, ctx: RequestContext, entity: str) -> httpx.Response:
        report = self.connectors.import_advanced(entity, ctx.body.decode("utf-8-sig"))
        return json_response(report.to_json(), 200 if report.accepted else 400)

    def now(self) -> datetime:
        return self.clock.now()
