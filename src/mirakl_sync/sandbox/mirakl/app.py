"""``MiraklSandbox``: the Mirakl Seller API served from the simulated marketplace state.

Operations served (Mirakl operation codes): OR11, OR13, OR14, OR15, OR21, OR23, OR24, OR28,
OR29, OR30, OF01, OF02, OF03, OF21, OF52, OF53, OF54, STO01, STO02, STO03, TL02, PC01, RE01,
SH21, ST01, ST11. OR15 and OF54 download URLs are served by the sandbox itself under
``/sandbox/exports/...``. A few ``/sandbox/...`` control routes (clock, operator actions) let
processes using the loopback server drive the simulation too.

Auth is Mirakl's: the shop API key in ``Authorization`` (no ``Bearer``), 401 otherwise; the
optional ``shop_id`` query parameter picks one of the key's shops (403 for another shop).
Errors are ``{"message": ..., "status": ...}`` plus ``code`` for Mirakl's machine error codes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from mirakl_sync.sandbox._http import (
    BaseSandbox,
    FrequencyLimit,
    HTTPProblem,
    RequestContext,
    Route,
    json_bytes,
    json_response,
    parse_datetime,
    text_response,
)
from mirakl_sync.sandbox.clock import SandboxClock
from mirakl_sync.sandbox.faults import Faults
from mirakl_sync.sandbox.mirakl import render
from mirakl_sync.sandbox.mirakl.state import (
    ORDER_STATES,
    Export,
    MiraklError,
    MiraklState,
    Offer,
    Order,
    Shipment,
    Shop,
    Transaction,
)

__all__ = ["DEFAULT_API_KEY", "DEFAULT_SHOP_ID", "MIRAKL_FREQUENCY_LIMITS", "MiraklSandbox"]

JSON = Any
DEFAULT_API_KEY = "sandbox-shop-key"
DEFAULT_SHOP_ID = 2001
ID_LIST_LIMIT = 100
MAX_PAGE = 100
TL02_MAX_LIMIT = 2000
#: ST11 (and Mirakl's other seek listings but TL02/SBC11): ``limit`` 1-100, default 10.
SEEK_MAX_LIMIT = 100
SHIPMENT_STATES = (
    "SHIPPING",
    "READY_FOR_PICK_UP",
    "SHIPMENT_PREPARED",
    "SHIPPED",
    "TO_COLLECT",
    "RECEIVED",
    "CANCELED",
    "CLOSED",
)
SHIPMENT_DEBIT_STATES = (
    "NO_DEBIT",
    "NOT_STARTED",
    "WAITING_TAX_CONFIRMATION",
    "WAITING_OPERATOR_SYSTEM_CONTACT",
    "WAITING_DEBIT_CONFIRMATION",
    "DEBIT_OK",
    "CANCELED",
)

_MIN = timedelta(minutes=1)

#: Mirakl's published maximum call frequencies, enforced per shop (per import/export for the
#: status and report operations, which Mirakl states per OR13/STO01 call). ST01 ("on each new
#: shipment") and ST11 ("at each shipment page display") publish no numeric maximum.
MIRAKL_FREQUENCY_LIMITS: dict[str, tuple[FrequencyLimit, ...]] = {
    "OR11": (FrequencyLimit(1, _MIN),),
    "OR13": (FrequencyLimit(1, timedelta(minutes=5)),),
    "OR14": (FrequencyLimit(1, timedelta(seconds=2)),),
    "STO01": (FrequencyLimit(1, _MIN),),
    "STO02": (FrequencyLimit(1, timedelta(seconds=15)),),
    "STO03": (FrequencyLimit(1, _MIN),),
    "OF01": (FrequencyLimit(1, _MIN),),
    "OF02": (FrequencyLimit(1, _MIN),),
    "OF03": (FrequencyLimit(1, _MIN),),
    "OF52": (FrequencyLimit(1, _MIN),),
    "OF53": (FrequencyLimit(1, timedelta(seconds=10)),),
    "TL02": (FrequencyLimit(20, _MIN), FrequencyLimit(60, timedelta(hours=1))),
}
_PER_RESOURCE = {"OR14", "STO02", "STO03", "OF02", "OF03", "OF53"}


def default_platform_configuration() -> dict[str, JSON]:
    """A PC01 body describing a plain marketplace with manual acceptance."""
    return {
        "platform_name": "Mirakl Sandbox",
        "tenant_name": "sandbox",
        "timezone": "Europe/Paris",
        "features": {
            "catalog": {
                "allow_shop_contribution_to_all_channels": True,
                "exclude_invalid_products": False,
                "list_of_multiple_values_separator": "|",
                "product_acceptance_by_channel": False,
                "product_data_validation_by_channel": False,
                "product_import_only_on_leaf": True,
            },
            "circular_economy_data_collection": False,
            "competitive_pricing_tool": False,
            "direct_payment_customer_store": {
                "activated": False,
                "refund_cancel_authorized": False,
            },
            "disable_seller_alternative_carrier": False,
            "dropship": {"retail_pricing_edition_enabled": "NO", "retail_pricing_enabled": False},
            "kyc_status_per_seller": False,
            "lead_time_to_ship_by_sellers_enabled": "YES",
            "multi_currency": False,
            "multi_payout_psp_per_seller": False,
            "no_reply_needed": False,
            "offer_prices_decimals": "2",
            "operator_csv_delimiter": "SEMICOLON",
            "order_conditions": {
                "lead_time_to_ship": True,
                "maximum_order_quantity": False,
                "minimum_order_quantity": False,
                "package_order_quantity": False,
            },
            "order_tax_mode": "TAX_INCLUDED",
            "order_workflows": {
                "no_customer_payment_confirmation": False,
                "order_acceptance": "NOT_AUTOMATIC",
                "pause_debit_workflow": False,
                "pay_on_due_date": False,
                "pay_on_shipment": False,
                "sellers_edit_shipping_origin": False,
                "shipping_and_billing_details_before_acceptance": True,
            },
            "payment_confirmation": True,
            "pricing": {
                "channel_pricing": "DISABLED",
                "discount_period_required": False,
                "discount_price_creation_in_the_past_blocked": False,
                "scheduled_pricing": False,
                "volume_discount": False,
                "volume_pricing": False,
            },
            "product_data_validation_by_channel": False,
            "promotion": {
                "cart_promotion_campaign": False,
                "discount_campaign": False,
                "seller_promotion": False,
            },
            "returns": {"drop_ship": False, "marketplace": False, "one_creditor": False},
            "shipment": {"multi_part_item_shipment": False, "multi_shipment": False},
            "shop_tax_options": {"tax_identification_number": {"mandatory": False}},
            "tax_collection": {
                "activated": "NO",
                "product_tax_code_mandatory": False,
                "tax_collection_by_operator": False,
            },
            "tax_id_number": {"mandatory": False},
            "warehouses": {"geolocation": False, "restricted_countries": []},
        },
        "modules": {
            "mirakl_catalog_integrator": False,
            "mirakl_catalog_manager": True,
            "mirakl_catalog_transformer": False,
            "mirakl_platform_services": False,
            "offer_management": True,
            "order_management": True,
            "promotions": False,
            "quotes": False,
            "tax_manager": {
                "activated": False,
                "tax_provider": {"avalara": False, "vertex": False},
            },
        },
        "platform_configuration": {
            "customer_model": {"b2b": False, "b2c": True},
            "enhanced_seller_invoicing": {"enabled": False},
            "platform_model": {"drop_ship": False, "marketplace": True, "one_creditor": False},
        },
    }


def _b64(data: JSON) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _unb64(token: str) -> JSON:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise HTTPProblem(400, "Invalid page_token") from None


class MiraklSandbox(BaseSandbox):
    """An in-memory, stateful Mirakl Seller API (see the module docstring).

    Args:
        clock: the controlled clock (a new one starting 2026-01-05 09:00 UTC by default).
        seed: seeds ids, generated customers and (unless ``faults`` is given) fault draws.
        faults: a :class:`~mirakl_sync.sandbox.faults.Faults` to share or pre-configure.
        default_shop: create shop ``2001`` with key ``"sandbox-shop-key"``.
        enforce_frequencies: answer 429 when Mirakl's maximum call frequencies are exceeded.
        stock_api: False simulates an operator without STO01-STO03 (404).
        multi_shipment: the operator's multi-shipment feature (PC01
            ``features.shipment.multi_shipment``); when False, ST01 and ST11 answer 400
            ``MULTI_SHIPMENT_FEATURE_DISABLED``.
        **options: passed to :class:`~mirakl_sync.sandbox.mirakl.state.MiraklState`
            (``acceptance_window``, ``payment_delay``, ``import_delay``, ``export_delay``,
            ``refund_delay``, ``update_overlap``, ``commission_rate``, ``vat_rate``,
            ``partial_acceptance``, ``export_chunk_size``).
    """

    name = "mirakl-sandbox"

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        seed: int = 0,
        faults: Faults | None = None,
        default_shop: bool = True,
        enforce_frequencies: bool = True,
        stock_api: bool = True,
        multi_shipment: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(clock=clock, seed=seed, faults=faults)
        #: False simulates an operator without the dedicated stock API: STO01-STO03 answer 404.
        self.stock_api = stock_api
        self.state = MiraklState(seed=seed, now=self.clock.now, **options)
        self.state.export_builder = self._build_export
        self.enforce_frequencies = enforce_frequencies
        self.frequency_limits = dict(MIRAKL_FREQUENCY_LIMITS)
        self.platform_configuration = default_platform_configuration()
        self.multi_shipment = multi_shipment
        self.clock.subscribe(self._on_clock)
        if default_shop:
            self.state.add_shop(
                DEFAULT_SHOP_ID, name="Sandbox shop", api_key=DEFAULT_API_KEY, warehouses=()
            )
        self._register_routes()

    def __repr__(self) -> str:
        return (
            f"MiraklSandbox(shops={len(self.state.shops)}, offers={len(self.state.offers)}, "
            f"orders={len(self.state.orders)}, now={self.clock.now().isoformat()})"
        )

    @property
    def multi_shipment(self) -> bool:
        """Whether ST01/ST11 are enabled: PC01 ``features.shipment.multi_shipment`` (settable)."""
        features = self.platform_configuration.get("features") or {}
        return bool((features.get("shipment") or {}).get("multi_shipment"))

    @multi_shipment.setter
    def multi_shipment(self, enabled: bool) -> None:
        features = self.platform_configuration.setdefault("features", {})
        shipment = features.setdefault(
            "shipment", {"multi_part_item_shipment": False, "multi_shipment": False}
        )
        shipment["multi_shipment"] = bool(enabled)

    # -- convenience API for tests and scenarios (thread-safe) ------------------------------

    def _on_clock(self, now: datetime) -> None:
        with self._lock:
            self.state.advance(now)

    def add_shop(self, shop_id: int | None = None, **kwargs: Any) -> Shop:
        """Add a shop (``name``, ``api_key``, ``currency``, ``warehouses``)."""
        with self._lock:
            return self.state.add_shop(shop_id, **kwargs)

    def add_offer(self, sku: str, *, shop_id: int | None = None, **kwargs: Any) -> Offer:
        """Add an offer to a shop (default: the first shop); see ``MiraklState.add_offer``."""
        with self._lock:
            return self.state.add_offer(self.state.shop(shop_id).shop_id, sku, **kwargs)

    def offer(self, sku: str, *, shop_id: int | None = None) -> Offer | None:
        with self._lock:
            return self.state.offer_by_sku(self.state.shop(shop_id).shop_id, sku)

    def place_order(
        self, lines: Sequence[tuple[str, int]], *, shop_id: int | None = None, **kwargs: Any
    ) -> Order:
        """A customer orders ``(offer_sku, quantity)`` lines (WAITING_ACCEPTANCE by default)."""
        with self._lock:
            return self.state.place_order(self.state.shop(shop_id).shop_id, lines, **kwargs)

    def order(self, order_id: str) -> Order:
        with self._lock:
            self.state.advance(self.clock.now())
            return self.state.order(order_id)

    def validate_order(self, order_id: str) -> Order:
        """Operator: STAGING -> WAITING_ACCEPTANCE."""
        with self._lock:
            return self.state.validate(order_id)

    def request_debit(self, order_id: str) -> Order:
        """Operator: WAITING_DEBIT -> WAITING_DEBIT_PAYMENT."""
        with self._lock:
            return self.state.request_debit(order_id)

    def confirm_payment(self, order_id: str) -> Order:
        """Operator: the customer is debited, WAITING_DEBIT(_PAYMENT) -> SHIPPING."""
        with self._lock:
            return self.state.confirm_payment(order_id)

    def refuse_payment(self, order_id: str) -> Order:
        """Operator: the debit failed, -> CANCELED."""
        with self._lock:
            return self.state.refuse_payment(order_id)

    def receive_order(self, order_id: str) -> Order:
        """Customer: SHIPPED -> RECEIVED (transaction lines become PAYABLE)."""
        with self._lock:
            return self.state.receive(order_id)

    def close_order(self, order_id: str) -> Order:
        """Operator: RECEIVED -> CLOSED."""
        with self._lock:
            return self.state.close(order_id)

    def open_incident(self, order_id: str, line_id: str, reason_code: str = "1") -> Order:
        """Customer: a line goes INCIDENT_OPEN."""
        with self._lock:
            return self.state.open_incident(order_id, line_id, reason_code)

    def shipments(self, order_id: str) -> list[Shipment]:
        """The ST01 shipments of an order, oldest first."""
        with self._lock:
            return self.state.order_shipments(order_id)

    def ship_shipment(self, shipment_id: str) -> Shipment:
        """Seller (ST24's effect, not routed): ship a SHIPPING shipment; the order becomes
        SHIPPED once every unit is in a shipped shipment."""
        with self._lock:
            return self.state.ship_shipment(shipment_id)

    def pay_out(self, shop_id: int | None = None) -> Decimal:
        """Operator payout of PAYABLE transaction lines (TL02 PAYMENT line)."""
        with self._lock:
            return self.state.pay_out(self.state.shop(shop_id).shop_id)

    # -- hooks -----------------------------------------------------------------------------

    def error_body(self, status: int, message: str, code: str | None) -> JSON:
        body: dict[str, JSON] = {"message": message, "status": status}
        if code:
            body["code"] = code
        return body

    def authenticate(self, ctx: RequestContext, route: Route) -> None:
        if route.operation.startswith("SANDBOX"):
            return
        key = ctx.request.headers.get("authorization", "")
        shops = self.state.keys.get(key)
        if not key or not shops:
            raise HTTPProblem(401, "Unauthorized: invalid or missing API key")
        requested = ctx.q_int("shop_id")
        if requested is None:
            ctx.shop_id = shops[0]
        elif requested in shops:
            ctx.shop_id = requested
        else:
            raise HTTPProblem(403, f"Forbidden: the API key has no access to shop {requested}")

    def frequency_scope(self, ctx: RequestContext, route: Route) -> str | None:
        op = route.operation
        if op == "OR11" and ((ctx.q_int("offset") or 0) > 0 or ctx.q("order_ids") is not None):
            return None
        if op in _PER_RESOURCE:
            resource = next(iter(ctx.path_params.values()), "")
            return f"{ctx.shop_id}/{resource}"
        return str(ctx.shop_id)

    def advance_state(self, now: datetime) -> None:
        self.state.advance(now)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except MiraklError as error:
            raise HTTPProblem(error.status, error.message, code=error.code) from None

    # -- routes ----------------------------------------------------------------------------

    def _register_routes(self) -> None:
        r = self.route
        r("GET", "/api/orders", "OR11", self._or11)
        r("PUT", "/api/orders/refund", "OR28", self._or28)
        r("PUT", "/api/orders/cancel", "OR30", self._or30)
        r("POST", "/api/orders/async-export", "OR13", self._or13)
        r("GET", "/api/orders/async-export/status/{tracking_id}", "OR14", self._export_status)
        r("GET", "/sandbox/exports/orders/{tracking_id}/{chunk}", "OR15", self._export_chunk)
        r("PUT", "/api/orders/{order_id}/accept", "OR21", self._or21)
        r("PUT", "/api/orders/{order_id}/tracking", "OR23", self._or23)
        r("PUT", "/api/orders/{order_id}/ship", "OR24", self._or24)
        r("PUT", "/api/orders/{order_id}/cancel", "OR29", self._or29)
        r("GET", "/api/offers", "OF21", self._of21)
        r("POST", "/api/offers/export/async", "OF52", self._of52)
        r("GET", "/api/offers/export/async/status/{tracking_id}", "OF53", self._export_status)
        r("GET", "/sandbox/exports/offers/{tracking_id}/{chunk}", "OF54", self._export_chunk)
        r("POST", "/api/offers/imports", "OF01", self._of01)
        r("GET", "/api/offers/imports/{import_id}", "OF02", self._of02)
        r("GET", "/api/offers/imports/{import_id}/error_report", "OF03", self._of03)
        r("POST", "/api/offers/stock/imports", "STO01", self._sto01)
        r("GET", "/api/offers/stock/imports/{import_id}/status", "STO02", self._sto02)
        r("GET", "/api/offers/stock/imports/{import_id}/error_report", "STO03", self._sto03)
        r("GET", "/api/sellerpayment/transactions_logs", "TL02", self._tl02)
        r("GET", "/api/platform/configuration", "PC01", self._pc01)
        r("GET", "/api/reasons", "RE01", self._re01)
        r("GET", "/api/shipping/carriers", "SH21", self._sh21)
        r("POST", "/api/shipments", "ST01", self._st01)
        r("GET", "/api/shipments", "ST11", self._st11)
        r("GET", "/sandbox/clock", "SANDBOX", self._sandbox_clock)
        r("POST", "/sandbox/clock/advance", "SANDBOX", self._sandbox_advance)
        r("POST", "/sandbox/orders", "SANDBOX", self._sandbox_place_order)
        r("POST", "/sandbox/orders/{order_id}/{action}", "SANDBOX", self._sandbox_order_action)

    # -- orders ----------------------------------------------------------------------------

    def _id_list(self, ctx: RequestContext, name: str) -> list[str]:
        values = ctx.q_all(name, split=True)
        if len(values) > ID_LIST_LIMIT:
            raise HTTPProblem(
                400, f"The limit of {ID_LIST_LIMIT} is exceeded for the parameter : {name}"
            )
        return values

    def _or11(self, ctx: RequestContext) -> httpx.Response:
        """OR11: list orders with filters and offset pagination (``Link`` rel=next/previous)."""
        orders = [o for o in self.state.orders.values() if o.shop_id == ctx.shop_id]
        ids = self._id_list(ctx, "order_ids")
        refs_c = self._id_list(ctx, "order_references_for_customer")
        refs_s = self._id_list(ctx, "order_references_for_seller")
        states = self._id_list(ctx, "order_state_codes")
        channels = self._id_list(ctx, "channel_codes")
        centers = self._id_list(ctx, "fulfillment_center_code")
        for code in states:
            if code not in ORDER_STATES:
                raise HTTPProblem(
                    400, f"Invalid value '{code}' for the parameter : order_state_codes"
                )
        start, end = ctx.q_datetime("start_date"), ctx.q_datetime("end_date")
        start_u, end_u = ctx.q_datetime("start_update_date"), ctx.q_datetime("end_update_date")
        if start_u is not None:
            start_u -= self.state.update_overlap
        debited, incident = ctx.q_bool("customer_debited"), ctx.q_bool("has_incident")
        only_null_channel = ctx.q_bool("only_null_channel")
        workflow = ctx.q("payment_workflow")

        def keep(o: Order) -> bool:
            return (
                (not ids or o.order_id in ids)
                and (not refs_c or o.reference_for_customer in refs_c)
                and (not refs_s or o.reference_for_seller in refs_s)
                and (not states or o.state in states)
                and (not channels or o.channel_code in channels)
                and (not centers or o.fulfillment_center in centers)
                and (not only_null_channel or o.channel_code is None)
                and (start is None or o.created_date >= start)
                and (end is None or o.created_date <= end)
                and (start_u is None or o.last_updated_date >= start_u)
                and (end_u is None or o.last_updated_date <= end_u)
                and (debited is None or (o.customer_debited_date is not None) == debited)
                and (incident is None or o.has_incident == incident)
                and (workflow is None or o.payment_workflow == workflow)
            )

        selected = [o for o in orders if keep(o)]
        sort = ctx.q("sort") or "dateCreated"
        if sort != "dateCreated":
            raise HTTPProblem(400, f"Invalid value '{sort}' for the parameter : sort")
        direction = (ctx.q("order") or "asc").lower()
        if direction not in ("asc", "desc"):
            raise HTTPProblem(400, f"Invalid value '{direction}' for the parameter : order")
        selected.sort(key=lambda o: (o.created_date, o.order_id), reverse=direction == "desc")
        page, headers = self._paginate(ctx, selected)
        body = {
            "orders": [render.order_json(o, self.state) for o in page],
            "total_count": len(selected),
        }
        return json_response(body, headers=headers)

    def _paginate(self, ctx: RequestContext, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        if ctx.q_bool("paginate") is False:
            return items, {}
        size = max(1, min(ctx.q_int("max", 10) or 10, MAX_PAGE))
        offset = ctx.q_int("offset", 0) or 0
        if offset < 0:
            raise HTTPProblem(400, "Invalid value for the parameter : offset")
        links = []
        url = ctx.request.url
        if offset > 0:
            prev = url.copy_set_param("offset", str(max(0, offset - size)))
            links.append(f'<{prev}>; rel="previous"')
        if offset + size < len(items):
            nxt = url.copy_set_param("offset", str(offset + size))
            links.append(f'<{nxt}>; rel="next"')
        return items[offset : offset + size], ({"Link": ", ".join(links)} if links else {})

    def _or21(self, ctx: RequestContext, order_id: str) -> httpx.Response:
        """OR21: accept or refuse every line (204)."""
        body = ctx.json()
        lines = body.get("order_lines") if isinstance(body, dict) else None
        self._call(self.state.accept, ctx.shop_id, order_id, lines)
        return httpx.Response(204)

    def _or23(self, ctx: RequestContext, order_id: str) -> httpx.Response:
        """OR23: update carrier tracking (204)."""
        self._call(self.state.update_tracking, ctx.shop_id, order_id, ctx.json())
        return httpx.Response(204)

    def _or24(self, ctx: RequestContext, order_id: str) -> httpx.Response:
        """OR24: confirm shipment (204; 400 ORDER_INVALID_STATE unless SHIPPING)."""
        self._call(self.state.ship, ctx.shop_id, order_id)
        return httpx.Response(204)

    def _or29(self, ctx: RequestContext, order_id: str) -> httpx.Response:
        """OR29: cancel a whole order (204)."""
        self._call(self.state.cancel_order, ctx.shop_id, order_id)
        return httpx.Response(204)

    def _tax_mode(self, body: JSON) -> str:
        mode = body.get("order_tax_mode") or "TAX_INCLUDED"
        if mode not in ("TAX_INCLUDED", "TAX_EXCLUDED"):
            raise HTTPProblem(400, f"Invalid order_tax_mode '{mode}'", code="VALIDATION_ERROR")
        return str(mode)

    def _or28(self, ctx: RequestContext) -> httpx.Response:
        """OR28: create refunds (200 with the created refunds)."""
        body = ctx.json()
        if not isinstance(body, dict):
            raise HTTPProblem(400, "A JSON object is required", code="VALIDATION_ERROR")
        mode = self._tax_mode(body)
        done = self._call(self.state.refund, ctx.shop_id, body.get("refunds"))
        currency = self.state.shop(ctx.shop_id).currency
        refunds = [render.refund_result_json(line, refund, currency) for line, refund in done]
        return json_response({"order_tax_mode": mode, "refunds": refunds})

    def _or30(self, ctx: RequestContext) -> httpx.Response:
        """OR30: cancel order line quantities (200 with the created cancelations)."""
        body = ctx.json()
        if not isinstance(body, dict):
            raise HTTPProblem(400, "A JSON object is required", code="VALIDATION_ERROR")
        mode = self._tax_mode(body)
        done = self._call(self.state.cancel_lines, ctx.shop_id, body.get("cancelations"))
        currency = self.state.shop(ctx.shop_id).currency
        items = [render.cancelation_result_json(line, c, currency) for line, c in done]
        return json_response({"cancelations": items, "order_tax_mode": mode})

    # -- exports (OR13/14/15, OF52/53/54) --------------------------------------------------

    def _or13(self, ctx: RequestContext) -> httpx.Response:
        """OR13: start an asynchronous order export (one at a time per shop)."""
        body = ctx.json()
        if not isinstance(body, dict):
            raise HTTPProblem(400, "A JSON object is required")
        ranges = 0
        for low, high in (("start_date", "end_date"), ("start_update_date", "end_update_date")):
            if (body.get(low) is None) != (body.get(high) is None):
                raise HTTPProblem(400, f"{low} and {high} must be used together")
            if body.get(low) is not None:
                start, end = parse_datetime(body[low], low), parse_datetime(body[high], high)
                if end < start:
                    raise HTTPProblem(400, f"{high} must be after {low}")
                if end - start > timedelta(days=366):
                    raise HTTPProblem(400, "The date range cannot exceed one year")
                ranges += 1
        if not ranges:
            raise HTTPProblem(400, "A creation or update date range is required")
        per_chunk = body.get("items_per_chunk", 1_000_000)
        if not isinstance(per_chunk, int) or not 10_000 <= per_chunk <= 1_000_000:
            raise HTTPProblem(400, "items_per_chunk must be between 10000 and 1000000")
        for name in ("order_state_codes", "channel_codes"):
            if len(body.get(name) or []) > ID_LIST_LIMIT:
                raise HTTPProblem(
                    400, f"The limit of {ID_LIST_LIMIT} is exceeded for the parameter : {name}"
                )
        assert ctx.shop_id is not None
        if self.state.pending_export("orders", ctx.shop_id) is not None:
            raise HTTPProblem(400, "An order export is already in progress for this shop")
        export = self.state.submit_export("orders", ctx.shop_id, body)
        return json_response({"tracking_id": export.tracking_id})

    def _of52(self, ctx: RequestContext) -> httpx.Response:
        """OF52: start an asynchronous offer export (a duplicate returns the same tracking id)."""
        body = ctx.json() if ctx.body else {}
        if not isinstance(body, dict):
            raise HTTPProblem(400, "A JSON object is required")
        export_type = body.get("export_type", "text/csv")
        if export_type not in ("text/csv", "application/json"):
            raise HTTPProblem(400, f"Invalid export_type '{export_type}'")
        if body.get("last_request_date") is not None:
            parse_datetime(body["last_request_date"], "last_request_date")
            if body.get("include_inactive_offers") is not None:
                raise HTTPProblem(
                    400, "include_inactive_offers cannot be used with last_request_date"
                )
        assert ctx.shop_id is not None
        pending = self.state.pending_export("offers", ctx.shop_id)
        if pending is not None and pending.params == body:
            return json_response({"tracking_id": pending.tracking_id})
        export = self.state.submit_export("offers", ctx.shop_id, body)
        return json_response({"tracking_id": export.tracking_id})

    def _export(self, ctx: RequestContext, tracking_id: str, kind: str) -> Export:
        export = self.state.exports.get(tracking_id)
        if export is None or export.shop_id != ctx.shop_id or export.kind != kind:
            raise HTTPProblem(404, f"Export {tracking_id} not found")
        return export

    def _export_status(self, ctx: RequestContext, tracking_id: str) -> httpx.Response:
        """OR14 / OF53: export status, with download URLs once COMPLETED."""
        kind = "orders" if ctx.request.url.path.startswith("/api/orders") else "offers"
        export = self._export(ctx, tracking_id, kind)
        body: dict[str, JSON] = {
            "status": export.status,
            "last_updated": render.dt_ms(export.last_updated),
        }
        if export.status == "COMPLETED":
            body["urls"] = [
                f"{ctx.base_url}/sandbox/exports/{kind}/{tracking_id}/{i}"
                for i in range(len(export.chunks))
            ]
        return json_response(body)

    def _export_chunk(self, ctx: RequestContext, tracking_id: str, chunk: str) -> httpx.Response:
        """OR15 / OF54: one chunk of a completed export."""
        kind = "orders" if "/orders/" in ctx.request.url.path else "offers"
        export = self._export(ctx, tracking_id, kind)
        index = int(chunk) if chunk.isdigit() else -1
        if export.status != "COMPLETED" or not 0 <= index < len(export.chunks):
            raise HTTPProblem(404, "Export file not found")
        data = export.chunks[index]
        if isinstance(data, str):
            return text_response(data, "text/csv;charset=UTF-8")
        return json_response(data)

    def _build_export(self, export: Export, at: datetime) -> list[JSON]:
        if export.kind == "orders":
            return self._build_order_export(export)
        return self._build_offer_export(export)

    def _chunk_size(self, params: dict[str, JSON]) -> int:
        size = self.state.export_chunk_size or params.get("items_per_chunk") or 1_000_000
        return max(1, int(size))

    def _build_order_export(self, export: Export) -> list[JSON]:
        p = export.params

        def window(low: str, high: str) -> tuple[datetime, datetime] | None:
            if p.get(low) is None:
                return None
            return parse_datetime(p[low]), parse_datetime(p[high])

        created, updated = (
            window("start_date", "end_date"),
            window("start_update_date", "end_update_date"),
        )
        states = set(p.get("order_state_codes") or [])
        channels = set(p.get("channel_codes") or [])
        orders = [
            o
            for o in self.state.orders.values()
            if o.shop_id == export.shop_id
            and (created is None or created[0] <= o.created_date <= created[1])
            and (updated is None or updated[0] <= o.last_updated_date <= updated[1])
            and (not states or o.state in states)
            and (not channels or o.channel_code in channels)
            and (not p.get("only_null_channel") or o.channel_code is None)
        ]
        orders.sort(key=lambda o: (o.created_date, o.order_id))
        size = self._chunk_size(p)
        chunks = [orders[i : i + size] for i in range(0, len(orders), size)] or [[]]
        mb = p.get("megabytes_per_chunk")
        return [
            chunk
            for c in chunks
            for chunk in _within_size(
                [render.order_json(o, self.state) for o in c], mb, _orders_chunk
            )
        ]

    def _build_offer_export(self, export: Export) -> list[JSON]:
        p = export.params
        since = parse_datetime(p["last_request_date"]) if p.get("last_request_date") else None
        shop = self.state.shops[export.shop_id]
        if since is not None:
            offers = [
                o
                for o in self.state.shop_offers(export.shop_id, include_deleted=True)
                if o.last_updated >= since
            ]
        else:
            offers = [
                o
                for o in self.state.shop_offers(export.shop_id)
                if o.active or p.get("include_inactive_offers")
            ]
        offers.sort(key=lambda o: o.offer_id)
        size = self._chunk_size(p)
        groups = [offers[i : i + size] for i in range(0, len(offers), size)] or [[]]
        mb = p.get("megabytes_per_chunk")
        if p.get("export_type") == "application/json":
            return [
                chunk
                for g in groups
                for chunk in _within_size(
                    [render.offer_export_json(o, shop.name) for o in g], mb, list
                )
            ]
        return [chunk for g in groups for chunk in _within_size(g, mb, _offer_csv)]

    # -- offers and imports ----------------------------------------------------------------

    def _of21(self, ctx: RequestContext) -> httpx.Response:
        """OF21: list the shop's offers (offset pagination)."""
        assert ctx.shop_id is not None
        offers = self.state.shop_offers(ctx.shop_id)
        sku, product = ctx.q("sku"), ctx.q("product_id")
        states = ctx.q_all("offer_state_codes", split=True)
        offers = [
            o
            for o in offers
            if (sku is None or o.shop_sku == sku)
            and (product is None or o.product_sku == product)
            and (not states or o.state_code in states)
        ]
        offers.sort(key=lambda o: o.offer_id)
        page, headers = self._paginate(ctx, offers)
        body = {"offers": [render.offer_json(o) for o in page], "total_count": len(offers)}
        return json_response(body, headers=headers)

    def _upload(self, ctx: RequestContext) -> tuple[dict[str, str], bytes]:
        fields, files = ctx.form()
        upload = files.get("file")
        if upload is None:
            raise HTTPProblem(400, "The 'file' part is required")
        return fields, upload.content

    def _of01(self, ctx: RequestContext) -> httpx.Response:
        """OF01: import an offer file (201 with ``import_id``; errors come later in OF02/OF03)."""
        fields, content = self._upload(ctx)
        mode = fields.get("import_mode", "")
        if mode not in ("NORMAL", "REPLACE"):
            raise HTTPProblem(400, f"Invalid value '{mode}' for the parameter : import_mode")
        assert ctx.shop_id is not None
        for imp in self.state.offer_imports.values():
            if (
                imp.shop_id == ctx.shop_id
                and imp.content == content
                and imp.mode == mode
                and imp.status in ("WAITING", "RUNNING")
            ):
                return self._created(imp.import_id, f"/api/offers/imports/{imp.import_id}")
        imp = self.state.submit_offer_import(ctx.shop_id, content, mode)
        return self._created(imp.import_id, f"/api/offers/imports/{imp.import_id}")

    def _created(self, import_id: int | str, location: str) -> httpx.Response:
        return json_response({"import_id": import_id}, 201, {"Location": location})

    def _offer_import(self, ctx: RequestContext, import_id: str) -> Any:
        imp = self.state.offer_imports.get(int(import_id)) if import_id.isdigit() else None
        if imp is None or imp.shop_id != ctx.shop_id:
            raise HTTPProblem(404, f"Import {import_id} not found")
        return imp

    def _of02(self, ctx: RequestContext, import_id: str) -> httpx.Response:
        """OF02: offer import status and counters."""
        return json_response(render.offer_import_json(self._offer_import(ctx, import_id)))

    def _of03(self, ctx: RequestContext, import_id: str) -> httpx.Response:
        """OF03: the offer import's error report (the submitted lines + error columns)."""
        imp = self._offer_import(ctx, import_id)
        if not imp.error_report:
            raise HTTPProblem(404, f"No error report for import {import_id}")
        return text_response(imp.error_report, "application/octet-stream")

    def _require_stock_api(self) -> None:
        if not self.stock_api:
            raise HTTPProblem(404, "Not Found")

    def _sto01(self, ctx: RequestContext) -> httpx.Response:
        """STO01: import a stock file (201 with a string ``import_id``)."""
        self._require_stock_api()
        _, content = self._upload(ctx)
        assert ctx.shop_id is not None
        imp = self.state.submit_stock_import(ctx.shop_id, content)
        return self._created(imp.import_id, f"/api/offers/stock/imports/{imp.import_id}/status")

    def _stock_import(self, ctx: RequestContext, import_id: str) -> Any:
        imp = self.state.stock_imports.get(import_id)
        if imp is None or imp.shop_id != ctx.shop_id:
            raise HTTPProblem(404, f"Import {import_id} not found")
        return imp

    def _sto02(self, ctx: RequestContext, import_id: str) -> httpx.Response:
        """STO02: stock import status."""
        self._require_stock_api()
        return json_response(render.stock_import_json(self._stock_import(ctx, import_id)))

    def _sto03(self, ctx: RequestContext, import_id: str) -> httpx.Response:
        """STO03: error report, CSV ``"error-line";"error-message"`` (file line numbers)."""
        self._require_stock_api()
        imp = self._stock_import(ctx, import_id)
        if not imp.errors:
            raise HTTPProblem(404, f"No error report for import {import_id}")
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["error-line", "error-message"])
        writer.writerows([str(n), reason] for n, reason in imp.errors)
        return text_response(buffer.getvalue(), "text/csv;charset=UTF-8")

    # -- finance and platform --------------------------------------------------------------

    def _tl02(self, ctx: RequestContext) -> httpx.Response:
        """TL02: transaction lines, seek pagination (``limit`` <= 2000, ``page_token``)."""
        token = ctx.q("page_token")
        if token is not None:
            state = _unb64(token)
            params: dict[str, list[str]] = state["params"]
            cursor: list[JSON] | None = state["after"]
        else:
            params = {}
            for name, value in ctx.query:
                if name == "sort":  # "<criterion>,<direction>" is one value
                    params.setdefault(name, []).append(value)
                elif name != "shop_id":
                    params.setdefault(name, []).extend(v for v in value.split(",") if v)
            cursor = None

        def one(name: str) -> str | None:
            values = params.get(name)
            return values[-1] if values else None

        raw_limit = one("limit") or "10"
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= TL02_MAX_LIMIT:
            raise HTTPProblem(400, f"The limit parameter must be between 1 and {TL02_MAX_LIMIT}")
        limit = int(raw_limit)
        for name in ("order_id", "order_line_id"):
            if len(params.get(name, [])) > ID_LIST_LIMIT:
                raise HTTPProblem(
                    400, f"The limit of {ID_LIST_LIMIT} is exceeded for the parameter : {name}"
                )
        sort_field, _, sort_dir = (one("sort") or "dateCreated").partition(",")
        if sort_field not in ("dateCreated", "lastUpdated"):
            raise HTTPProblem(400, f"Invalid value '{sort_field}' for the parameter : sort")
        descending = (sort_dir or "DESC").upper() != "ASC"

        def date(name: str) -> datetime | None:
            raw = one(name)
            return parse_datetime(raw, name) if raw else None

        created_from, created_to = date("date_created_from"), date("date_created_to")
        updated_from = date("last_updated_from")
        states = set(params.get("payment_state", []))
        types = set(params.get("transaction_type", []))
        order_ids = set(params.get("order_id", []))
        line_ids = set(params.get("order_line_id", []))

        def keep(tx: Transaction) -> bool:
            return (
                tx.shop_id == ctx.shop_id
                and (created_from is None or tx.date_created >= created_from)
                and (created_to is None or tx.date_created <= created_to)
                and (updated_from is None or tx.last_updated >= updated_from)
                and (not states or tx.payment_state in states)
                and (not types or tx.type in types)
                and (not order_ids or tx.order_id in order_ids)
                and (not line_ids or tx.order_line_id in line_ids)
            )

        def key(tx: Transaction) -> tuple[str, int]:
            when = tx.date_created if sort_field == "dateCreated" else tx.last_updated
            return (when.isoformat(), tx.seq)

        rows = sorted(
            (tx for tx in self.state.transactions if keep(tx)), key=key, reverse=descending
        )
        if cursor is not None:
            after = (str(cursor[0]), int(cursor[1]))
            rows = [tx for tx in rows if (key(tx) < after if descending else key(tx) > after)]
        page = rows[:limit]
        body: dict[str, JSON] = {"data": [render.transaction_json(tx) for tx in page]}
        if len(rows) > limit:
            last = key(page[-1])
            body["next_page_token"] = _b64({"params": params, "after": list(last)})
        return json_response(body)

    def _pc01(self, ctx: RequestContext) -> httpx.Response:
        """PC01: platform configuration."""
        return json_response(self.platform_configuration)

    def _re01(self, ctx: RequestContext) -> httpx.Response:
        """RE01: reasons (refund, cancelation, incident...)."""
        kinds = ctx.q_all("type", split=True)
        reasons = [r for r in self.state.reasons if not kinds or r["type"] in kinds]
        return json_response({"reasons": reasons, "total_count": len(reasons)})

    def _sh21(self, ctx: RequestContext) -> httpx.Response:
        """SH21: carriers usable in OR23."""
        return json_response({"carriers": self.state.carriers})

    # -- multiple shipments (ST01, ST11) ---------------------------------------------------

    def _require_multi_shipment(self) -> None:
        if not self.multi_shipment:
            raise HTTPProblem(
                400,
                "MULTI_SHIPMENT_FEATURE_DISABLED: multiple shipments are not enabled on this "
                "platform (PC01 features.shipment.multi_shipment)",
                code="MULTI_SHIPMENT_FEATURE_DISABLED",
            )

    def _st01(self, ctx: RequestContext) -> httpx.Response:
        """ST01: create shipments (201; refused shipments in ``shipment_errors``)."""
        self._require_multi_shipment()
        body = ctx.json()
        if not isinstance(body, dict):
            raise HTTPProblem(400, "A JSON object is required", code="VALIDATION_ERROR")
        created, errors = self._call(
            self.state.create_shipments, ctx.shop_id, body.get("shipments")
        )
        return json_response(
            {
                "shipment_success": [render.shipment_json(s) for s in created],
                "shipment_errors": [{"order_id": o, "message": m} for o, m in errors],
            },
            201,
        )

    def _seek_query(self, ctx: RequestContext) -> tuple[dict[str, list[str]], list[JSON] | None]:
        """The parameters of a seek listing: from the ``page_token`` (which carries them and
        the cursor; every other parameter is then ignored) or from the query string."""
        token = ctx.q("page_token")
        if token is not None:
            state = _unb64(token)
            if not isinstance(state, dict) or "params" not in state:
                raise HTTPProblem(400, "Invalid page_token")
            return state["params"], state.get("after")
        params: dict[str, list[str]] = {}
        for name, value in ctx.query:
            if name != "shop_id":
                params.setdefault(name, []).append(value)
        return params, None

    def _st11(self, ctx: RequestContext) -> httpx.Response:
        """ST11: list shipments, seek pagination (``limit`` <= 100), oldest first by default."""
        self._require_multi_shipment()
        params, cursor = self._seek_query(ctx)

        def one(name: str) -> str | None:
            values = params.get(name)
            return values[-1] if values else None

        raw_limit = one("limit") or "10"
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= SEEK_MAX_LIMIT:
            raise HTTPProblem(400, f"The limit parameter must be between 1 and {SEEK_MAX_LIMIT}")
        limit = int(raw_limit)
        order_ids = set(params.get("order_id", []))
        if len(params.get("order_id", [])) > ID_LIST_LIMIT:
            raise HTTPProblem(
                400, f"The limit of {ID_LIST_LIMIT} is exceeded for the parameter : order_id"
            )
        for name, allowed in (
            ("shipment_state_code", SHIPMENT_STATES),
            ("shipment_customer_debit_state_code", SHIPMENT_DEBIT_STATES),
        ):
            for value in params.get(name, []):
                if value not in allowed:
                    raise HTTPProblem(400, f"Invalid value '{value}' for the parameter : {name}")
        states = set(params.get("shipment_state_code", []))
        debits = set(params.get("shipment_customer_debit_state_code", []))
        sort_field, _, sort_dir = (one("sort") or "dateCreated").partition(",")
        if sort_field != "dateCreated":
            raise HTTPProblem(400, f"Invalid value '{sort_field}' for the parameter : sort")
        descending = (sort_dir or "ASC").upper() == "DESC"
        updated_from = one("last_updated_from")
        updated_to = one("last_updated_to")
        low = parse_datetime(updated_from, "last_updated_from") if updated_from else None
        high = parse_datetime(updated_to, "last_updated_to") if updated_to else None

        def keep(s: Shipment) -> bool:
            return (
                s.shop_id == ctx.shop_id
                and (not order_ids or s.order_id in order_ids)
                and (not states or s.status in states)
                and (not debits or s.status_customer_debit in debits)
                and (low is None or s.last_updated_date >= low)
                and (high is None or s.last_updated_date <= high)
            )

        def key(s: Shipment) -> tuple[str, int]:
            return (s.created_date.isoformat(), s.seq)

        rows = sorted(
            (s for s in self.state.shipments.values() if keep(s)), key=key, reverse=descending
        )
        if cursor is not None:
            after = (str(cursor[0]), int(cursor[1]))
            rows = [s for s in rows if (key(s) < after if descending else key(s) > after)]
        page = rows[:limit]
        body: dict[str, JSON] = {"data": [render.shipment_json(s) for s in page]}
        if len(rows) > limit:
            body["next_page_token"] = _b64({"params": params, "after": list(key(page[-1]))})
        return json_response(body)

    # -- sandbox control (not Mirakl operations) -------------------------------------------

    def _sandbox_clock(self, ctx: RequestContext) -> httpx.Response:
        return json_response({"now": render.dt_ms(self.clock.now())})

    def _sandbox_advance(self, ctx: RequestContext) -> httpx.Response:
        body = ctx.json()
        seconds = body.get("seconds", 0) if isinstance(body, dict) else 0
        if not isinstance(seconds, int | float) or seconds < 0:
            raise HTTPProblem(400, "seconds must be a non-negative number")
        self.clock.advance(seconds=seconds)
        return json_response({"now": render.dt_ms(self.clock.now())})

    def _sandbox_place_order(self, ctx: RequestContext) -> httpx.Response:
        body = ctx.json()
        try:
            shop = self.state.shop(body.get("shop_id"))
            lines = [(ln["offer_sku"], int(ln["quantity"])) for ln in body["lines"]]
            order = self.state.place_order(shop.shop_id, lines)
        except (KeyError, TypeError, ValueError) as error:
            raise HTTPProblem(400, f"Invalid order: {error}") from None
        return json_response(render.order_json(order, self.state), 201)

    _ACTIONS = {
        "validate": "validate",
        "request-debit": "request_debit",
        "confirm-payment": "confirm_payment",
        "refuse-payment": "refuse_payment",
        "receive": "receive",
        "close": "close",
    }

    def _sandbox_order_action(
        self, ctx: RequestContext, order_id: str, action: str
    ) -> httpx.Response:
        method = self._ACTIONS.get(action)
        if method is None:
            raise HTTPProblem(404, f"Unknown action {action}")
        order = self._call(getattr(self.state, method), order_id)
        return json_response(render.order_json(order, self.state))


def _offer_csv(offers: list[Any]) -> str:
    """An OF54 CSV chunk (header + one row per offer)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(render.OFFER_CSV_COLUMNS)
    writer.writerows(render.offer_export_row(o) for o in offers)
    return buffer.getvalue()


def _orders_chunk(orders: list[Any]) -> JSON:
    return {"orders": orders}


def _within_size(
    items: list[Any], megabytes: object, render: Callable[[list[Any]], JSON]
) -> list[JSON]:
    """OR13/OF52 ``megabytes_per_chunk``: ``render`` (a chunk's body) over ``items`` cut, in
    order, into parts whose body is at most that many MiB (halving a part until it fits; a
    single item always makes a chunk). Without a size, one chunk."""
    if not isinstance(megabytes, int) or isinstance(megabytes, bool) or megabytes <= 0:
        return [render(items)]
    limit = megabytes * 1024 * 1024
    out: list[JSON] = []
    todo = [items]
    while todo:
        part = todo.pop()
        body = render(part)
        size = len(body.encode()) if isinstance(body, str) else len(json_bytes(body))
        if len(part) <= 1 or size <= limit:
            out.append(body)
        else:
            mid = len(part) // 2
            todo += [part[mid:], part[:mid]]  # the first half is popped (and kept) first
    return out
