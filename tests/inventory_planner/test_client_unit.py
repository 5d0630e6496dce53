"""InventoryPlannerClient against httpx.MockTransport: headers, pagination, fields, filters,
write bodies, errors, quantities and statuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from mirakl_sync.errors import (
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    ResponseValidationError,
    ServerError,
)
from mirakl_sync.inventory_planner import (
    DEFAULT_VARIANT_FIELDS,
    F,
    InventoryPlannerClient,
    NewPurchaseOrderLine,
    PurchaseOrderStatus,
    PurchaseOrderUpdate,
    Sort,
    VariantUpdate,
    WebhookCreate,
    status_matches,
    whole_units,
)
from tests.inventory_planner.helpers import (
    ACCOUNT,
    API_KEY,
    PURCHASE_ORDER_JSON,
    VARIANT_JSON,
    Recorder,
    collect,
    meta,
    mock_async_client,
    mock_client,
    ok,
    run,
)

VARIANTS = "/api/v1/variants"
POS = "/api/v1/purchase-orders"


def _paged(items: list[dict[str, Any]], plural: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        limit = int(request.url.params["limit"])
        chunk = items[page * limit : (page + 1) * limit]
        return ok({"meta": meta(plural, len(items), len(chunk), limit, page), plural: chunk})

    return handler


# -- configuration and headers ---------------------------------------------------------------


def test_headers_carry_raw_key_account_and_a_user_agent() -> None:
    rec = Recorder({("GET", VARIANTS): _paged([VARIANT_JSON], "variants")})
    with mock_client(rec) as client:
        client.variants.list().to_list()
    headers = rec.requests[0].headers
    assert headers["authorization"] == API_KEY  # no "Bearer"
    assert headers["account"] == ACCOUNT
    assert headers["user-agent"].startswith("mirakl-sync/")
    assert headers["accept"] == "application/json"
    assert API_KEY not in repr(client)
    assert ACCOUNT not in repr(client)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_key": ""}, "api_key is empty"),
        ({"account": " "}, "account is empty"),
        ({"api_key": "a\nb"}, "line break"),
        ({"user_agent": ""}, "user_agent"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": "https://u:p@x.test"}, "credentials"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    args = {"api_key": API_KEY, "account": ACCOUNT, **kwargs}
    key, account = args.pop("api_key"), args.pop("account")
    with pytest.raises(ConfigurationError, match=message):
        InventoryPlannerClient(key, account, **args)


def test_base_url_accepts_the_api_prefix() -> None:
    client = InventoryPlannerClient(API_KEY, ACCOUNT, base_url="https://ip.test/api/v1/")
    assert client.base_url == "https://ip.test"


# -- pagination --------------------------------------------------------------------------------


def test_pagination_is_zero_based_and_stops_at_the_total() -> None:
    items = [{**VARIANT_JSON, "id": str(i), "sku": f"S{i}"} for i in range(5)]
    rec = Recorder({("GET", VARIANTS): _paged(items, "variants")})
    pager = mock_client(rec).variants.list(page_size=2)
    assert rec.requests == []  # lazy
    assert [v.sku for v in pager] == ["S0", "S1", "S2", "S3", "S4"]
    assert [r.url.params["page"] for r in rec.requests] == ["0", "1", "2"]
    assert {r.url.params["limit"] for r in rec.requests} == {"2"}
    assert pager.total_count == 5


def test_pagination_stops_on_an_exact_multiple_without_an_extra_call() -> None:
    items = [{**VARIANT_JSON, "id": str(i)} for i in range(4)]
    rec = Recorder({("GET", VARIANTS): _paged(items, "variants")})
    assert len(mock_client(rec).variants.list(page_size=2).to_list()) == 4
    assert len(rec.requests) == 2


def test_pagination_without_meta_stops_on_a_short_page() -> None:
    pages = [[VARIANT_JSON, VARIANT_JSON], [VARIANT_JSON]]

    def handler(request: httpx.Request) -> httpx.Response:
        return ok({"variants": pages[int(request.url.params["page"])]})

    rec = Recorder({("GET", VARIANTS): handler})
    assert len(mock_client(rec).variants.list(page_size=2).to_list()) == 3
    assert len(rec.requests) == 2


@pytest.mark.parametrize("size", [0, 1001])
def test_page_size_is_checked_before_any_request(size: int) -> None:
    rec = Recorder()
    with pytest.raises(ValueError, match="between 1 and 1000"):
        mock_client(rec).variants.list(page_size=size)
    assert rec.requests == []


def test_async_pagination_matches_sync() -> None:
    items = [{**VARIANT_JSON, "id": str(i)} for i in range(3)]
    rec = Recorder({("GET", VARIANTS): _paged(items, "variants")})

    async def scenario() -> None:
        async with mock_async_client(rec) as client:
            found = await collect(client.variants.list(page_size=2))
        assert [v.id for v in found] == ["0", "1", "2"]

    run(scenario)
    assert [r.url.params["page"] for r in rec.requests] == ["0", "1"]


# -- fields, filters, sorting ------------------------------------------------------------------


def test_fields_are_narrow_by_default() -> None:
    rec = Recorder({("GET", VARIANTS): _paged([VARIANT_JSON], "variants")})
    client = mock_client(rec)
    client.variants.list().to_list()
    fields = rec.params()["fields"].split(",")
    assert fields == list(DEFAULT_VARIANT_FIELDS)
    assert "warehouse.in_stock" in fields
    assert "forecast_by_period" not in fields

    client.variants.list(extra_fields=["last_30_days_sales"]).to_list()
    assert rec.params()["fields"].endswith(",last_30_days_sales")

    client.variants.list(fields=["sku"]).to_list()
    assert rec.params()["fields"] == "id,sku"

    client.variants.list(all_fields=True).to_list()
    assert "fields" not in rec.params()


def test_unknown_fields_are_kept_in_extra() -> None:
    rec = Recorder({("GET", f"{VARIANTS}/1234"): ok({"variant": VARIANT_JSON})})
    variant = mock_client(rec).variants.get("1234", extra_fields=["forecast_by_period"])
    assert variant.extra["forecast_by_period"] == {"2020": {"1": 0}}
    assert variant.extra["last_forecast_time"] == 1580197499
    assert "sku" not in variant.extra


def test_filters_and_sorting_are_built_from_typed_arguments() -> None:
    rec = Recorder({("GET", VARIANTS): _paged([], "variants")})
    mock_client(rec).variants.list(
        fields=["sku"],
        where=[
            F("replenishment") > 0,
            F("oos") <= 30,
            F("in_stock") < Decimal("0.5"),
            F("lead_time") >= 7,
            F("sku").eqi("car-red"),
            F("vendor").eq("Acme & Co"),
            F("status").ne("CLOSED"),
            F("price").between(5, 10),
            F("sku").matches("^TSHIRT"),
            F("segment").isin(["A", "B"]),
            F("removed").eq(False),
            F("updated_at").gte(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
            F("created_at").lt(dt.date(2026, 1, 1)),
        ],
        sort=[F("oos").asc(), Sort("under_value", descending=True)],
    ).to_list()
    query = list(rec.requests[0].url.params.multi_items())
    assert query == [
        ("fields", "id,sku"),
        ("replenishment_gt", "0"),
        ("oos_lte", "30"),
        ("in_stock_lt", "0.5"),
        ("lead_time_gte", "7"),
        ("sku_eqi", "car-red"),
        ("vendor", "Acme & Co"),
        ("status_ne", "CLOSED"),
        ("price_range", "5-10"),
        ("sku_match", "^TSHIRT"),
        ("segment_in", "A,B"),
        ("removed", "false"),
        ("updated_at_gte", "2026-01-02T03:04:05Z"),
        ("created_at_lt", "2026-01-01"),
        ("oos_sort", "asc"),
        ("under_value_sort", "desc"),
        ("page", "0"),
        ("limit", "1000"),
    ]


def test_filter_validation() -> None:
    with pytest.raises(ValueError, match="field name"):
        F("sku; drop")
    with pytest.raises(ValueError, match="commas"):
        _ = F("sku").isin(["a,b"]).param
    with pytest.raises(ValueError, match="timezone"):
        _ = F("updated_at").gte(dt.datetime(2026, 1, 1)).param
    with pytest.raises(TypeError):
        F("sku").isin("abc")


def test_sku_shortcuts() -> None:
    rec = Recorder({("GET", VARIANTS): _paged([VARIANT_JSON], "variants")})
    client = mock_client(rec)
    client.variants.list(skus=["A", "B"], fields=["sku"]).to_list()
    assert rec.params()["sku_in"] == "A,B"
    found = client.variants.get_by_sku("car-red", case_insensitive=True)
    assert found is not None
    assert found.sku == "CAR-RED"
    assert rec.params()["sku_eqi"] == "car-red"


# -- models and quantities ---------------------------------------------------------------------


def test_float_quantities_become_exact_decimals() -> None:
    rec = Recorder({("GET", f"{VARIANTS}/1234"): ok({"variant": VARIANT_JSON})})
    variant = mock_client(rec).variants.get("1234")
    assert variant.in_stock == Decimal("12.0")
    assert variant.replenishment == Decimal("3.4")
    assert variant.cost_price == Decimal("4.5")
    block = variant.block("c955_2")
    assert block is not None
    assert block.in_stock == Decimal("4.5")
    assert variant.vendor == "carVendor"
    assert variant.updated_at == dt.datetime(2020, 1, 28, 7, 46, 10, tzinfo=dt.UTC)


def test_whole_units_rounding_is_explicit() -> None:
    assert whole_units(Decimal("2.7")) == 2
    assert whole_units(Decimal("-0.5")) == -1
    assert whole_units(Decimal("3.4"), "ceil") == 4
    assert whole_units(Decimal("2.5"), "nearest") == 2
    assert whole_units(None) == 0
    assert whole_units(7) == 7


def test_replenishment_suggestions_round_up() -> None:
    rec = Recorder({("GET", VARIANTS): _paged([VARIANT_JSON], "variants")})
    client = mock_client(rec)
    [overall] = list(client.variants.replenishment())
    assert rec.params()["replenishment_gt"] == "0"
    assert rec.params()["oos_sort"] == "asc"
    assert overall.quantity == Decimal("3.4")
    assert overall.units == 4
    [block] = list(client.variants.replenishment(warehouse="c955_2"))
    assert "replenishment_gt" not in rec.params()
    assert (block.warehouse, block.units, block.lead_time) == ("c955_2", 2, Decimal(21))
    assert list(client.variants.replenishment(warehouse="unknown")) == []


def test_purchase_order_parsing_is_tolerant() -> None:
    rec = Recorder(
        {
            ("GET", f"{POS}/76s6df76sa978df78987s8f"): ok(
                {"purchase-order": {**PURCHASE_ORDER_JSON, "received_date": 1580197499}}
            )
        }
    )
    po = mock_client(rec).purchase_orders.get("76s6df76sa978df78987s8f")
    assert po.status is PurchaseOrderStatus.OPEN
    assert po.expected_date == dt.date(2020, 2, 13)
    assert po.received_date == dt.date(2020, 1, 28)
    assert po.items[0].ordered == Decimal(4)
    assert "fields" not in rec.params()  # a single PO comes whole by default


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("OPEN", PurchaseOrderStatus.OPEN),
        ("Partially Received", PurchaseOrderStatus.PARTIALLY_RECEIVED),
        ("partially_received", PurchaseOrderStatus.PARTIALLY_RECEIVED),
        ("CANCELED", PurchaseOrderStatus.CANCELLED),
        ("waiting for invoice", "waiting for invoice"),
    ],
)
def test_statuses_are_case_insensitive(raw: str, expected: object) -> None:
    rec = Recorder({("GET", f"{POS}/1"): ok({"purchase-order": {"id": 1, "status": raw}})})
    po = mock_client(rec).purchase_orders.get("1")
    assert po.status == expected
    assert po.has_status(raw.upper())
    assert status_matches("open", "OPEN")
    assert not status_matches(None, "open")


def test_purchase_order_list_filters_status_case_insensitively() -> None:
    rec = Recorder({("GET", POS): _paged([PURCHASE_ORDER_JSON], "purchase-orders")})
    [po] = mock_client(rec).purchase_orders.list(
        status=PurchaseOrderStatus.OPEN, vendor="carVendor", warehouse="big one"
    )
    params = rec.params()
    assert params["status_eqi"] == "open"
    assert params["vendor"] == "carVendor"
    assert params["warehouse"] == "big one"
    assert "items.received" in params["fields"].split(",")
    assert po.id == "76s6df76sa978df78987s8f"


# -- writes ------------------------------------------------------------------------------------


def test_variant_update_is_wrapped() -> None:
    rec = Recorder(
        {("PATCH", f"{VARIANTS}/1234"): ok({"variant": {**VARIANT_JSON, "lead_time": 21}})}
    )
    client = mock_client(rec)
    updated = client.variants.update("1234", lead_time=21, replenishment_notes="slow vendor")
    assert rec.body() == {"variant": {"lead_time": 21, "replenishment_notes": "slow vendor"}}
    assert updated.lead_time == 21
    with pytest.raises(ValueError, match="nothing to update"):
        client.variants.update("1234", VariantUpdate())
    with pytest.raises(ValueError, match="non-negative"):
        client.variants.update("1234", lead_time=-1)
    assert len(rec.requests) == 1


def test_purchase_order_create_from_items_body() -> None:
    rec = Recorder({("POST", POS): ok({"purchase-order": PURCHASE_ORDER_JSON})})
    client = mock_client(rec)
    client.purchase_orders.create_from_items(
        "big one",
        [
            NewPurchaseOrderLine(variant_id="1234", quantity=4, cost_price=Decimal("1.10")),
            NewPurchaseOrderLine(variant_id="99", quantity=2),
        ],
        vendor="carVendor",
        status=PurchaseOrderStatus.DRAFT,
        reference="MS-1",
        expected_date=dt.date(2026, 2, 1),
    )
    assert rec.requests[-1].content == (
        b'{"purchase-order":{"warehouse":"big one","vendor":"carVendor","status":"DRAFT",'
        b'"reference":"MS-1","expected_date":"2026-02-01","items":[{"id":"1234",'
        b'"replenishment":4,"cost_price":1.10},{"id":"99","replenishment":2}]}}'
    )


def test_purchase_order_create_from_filter_body() -> None:
    rec = Recorder({("POST", POS): ok({"purchase-order": PURCHASE_ORDER_JSON})})
    mock_client(rec).purchase_orders.create_from_filter(
        "big one", [F("vendor").eq("carVendor"), F("replenishment") > 0], vendor="carVendor"
    )
    assert rec.body()["purchase-order"]["variants_filter"] == {
        "vendor": "carVendor",
        "replenishment_gt": 0,
    }


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ({"1": 0}, "> 0"),
        ({"1": True}, "whole number"),
        ({}, "needs lines"),
    ],
)
def test_purchase_order_lines_are_validated_before_sending(
    lines: dict[str, Any], error: str
) -> None:
    rec = Recorder()
    with pytest.raises((ValueError, TypeError), match=error):
        mock_client(rec).purchase_orders.create_from_items("wh", lines)
    assert rec.requests == []


def test_update_and_receive_bodies() -> None:
    rec = Recorder(
        {
            ("PUT", f"{POS}/7"): ok({"purchase-order": PURCHASE_ORDER_JSON}),
            ("PATCH", f"{POS}/7/items"): ok({"items": [{"id": "1234", "received": 3.0}]}),
        }
    )
    client = mock_client(rec)
    client.purchase_orders.update(
        "7", PurchaseOrderUpdate(status="partially received"), method="PUT"
    )
    assert rec.body() == {"purchase-order": {"status": "PARTIALLY RECEIVED"}}
    [item] = client.purchase_orders.receive("7", {"1234": 3})
    assert rec.body() == {"items": [{"id": "1234", "received": 3}]}
    assert item.received == Decimal("3.0")


def test_webhook_bodies() -> None:
    hook = {"id": 11, "address": "https://h.test/x", "topic": "t", "fields": ["id", "reference"]}
    rec = Recorder(
        {
            ("POST", "/api/v1/webhooks"): ok({"webhook": hook}),
            ("DELETE", "/api/v1/webhooks/11"): ok({"result": {"status": "success"}}),
        }
    )
    client = mock_client(rec)
    created = client.webhooks.create(
        WebhookCreate(address="https://h.test/x", fields="id, reference")
    )
    assert rec.body() == {
        "webhook": {
            "address": "https://h.test/x",
            "topic": "purchase-orders/connection-save",
            "fields": "id,reference",
        }
    }
    assert created.id == "11"
    assert created.fields == "id,reference"
    client.webhooks.delete("11")
    with pytest.raises(ValueError, match="http"):
        client.webhooks.create(WebhookCreate(address="ftp://h"))


def test_vendor_ids_are_url_encoded() -> None:
    rec = Recorder({("GET", "/api/v1/vendors/Acme & Co/EU"): ok({"vendor": {"id": "x"}})})
    mock_client(rec).vendors.get("Acme & Co/EU")
    assert rec.requests[0].url.raw_path == b"/api/v1/vendors/Acme%20%26%20Co%2FEU"


# -- errors ------------------------------------------------------------------------------------


def test_error_message_comes_from_result() -> None:
    body = {"result": {"status": "error", "message": "Failed to find purchase-order po2"}}
    rec = Recorder({("GET", f"{POS}/po2"): ok(body, 404)})
    with pytest.raises(NotFoundError, match="Failed to find purchase-order po2") as info:
        mock_client(rec).purchase_orders.get("po2")
    assert info.value.operation == "purchase-orders.get"
    assert API_KEY not in str(info.value)
    assert ACCOUNT not in info.value.body_excerpt


def test_an_error_result_inside_a_200_raises() -> None:
    body = {"result": {"status": "ERROR", "message": "Failed to find vendor v2"}}
    rec = Recorder({("GET", "/api/v1/vendors/v2"): ok(body)})
    with pytest.raises(BadRequestError, match="Failed to find vendor v2"):
        mock_client(rec).vendors.get("v2")


def test_rejected_create_is_not_retried() -> None:
    body = {"result": {"status": "error", "message": "warehouse is required"}}
    rec = Recorder({("POST", POS): ok(body, 500)})
    with pytest.raises(ServerError, match="warehouse is required"):
        mock_client(rec).purchase_orders.create_from_items("wh", {"1": 1})
    assert len(rec.requests) == 1


def test_reads_are_retried_on_503() -> None:
    answers = [ok({}, 503), ok({"variant": VARIANT_JSON})]
    rec = Recorder({("GET", f"{VARIANTS}/1"): lambda _r: answers.pop(0)})
    assert mock_client(rec).variants.get("1").sku == "CAR-RED"
    assert len(rec.requests) == 2


def test_a_missing_entity_key_is_a_validation_error() -> None:
    rec = Recorder({("GET", f"{VARIANTS}/1"): ok({"variants": []})})
    with pytest.raises(ResponseValidationError, match="'variant'"):
        mock_client(rec).variants.get("1")


def test_empty_ids_are_refused_before_io() -> None:
    rec = Recorder()
    client = mock_client(rec)
    with pytest.raises(ValueError, match="non-empty"):
        client.variants.get(" ")
    with pytest.raises(ValueError, match="non-empty"):
        client.purchase_orders.receive("", {"1": 1})
    assert rec.requests == []


def test_async_writes_and_errors() -> None:
    rec = Recorder(
        {
            ("POST", POS): ok({"purchase-order": PURCHASE_ORDER_JSON}),
            ("GET", f"{POS}/x"): ok({"result": {"status": "error", "message": "nope"}}, 404),
        }
    )

    async def scenario() -> None:
        async with mock_async_client(rec) as client:
            po = await client.purchase_orders.create_from_items("big one", {"1234": 4})
            assert po.reference == "8"
            with pytest.raises(NotFoundError, match="nope"):
                await client.purchase_orders.get("x")

    run(scenario)
    assert json_body(rec.requests[0]) == {
        "purchase-order": {"warehouse": "big one", "items": [{"id": "1234", "replenishment": 4}]}
    }


def json_body(request: httpx.Request) -> Any:
    import json

    return json.loads(request.content)
