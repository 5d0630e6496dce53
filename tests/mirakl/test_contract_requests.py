"""Contract: every request the client sends matches Mirakl's OpenAPI document.

For every row of the client's operation table, the test drives the public method with every
filter set, captures the HTTP request and checks it against the operation in
``mirakl-mmp-seller-openapi.json``: method, path template, query parameter names, and the body
(JSON validated against the request schema; multipart field names and values checked against the
form schema).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import httpx
import pytest

from mirakl_sync.mirakl import OPERATIONS, AsyncMiraklClient, MiraklClient
from mirakl_sync.mirakl.models import (
    AmountCode,
    CancelationRequest,
    OfferExportRequest,
    OrderExportRequest,
    RefundRequest,
    ShipmentCreate,
    ShipmentLineCreate,
    ShipmentOrigin,
    ShipmentTrackingCreate,
    StockUpdate,
    Warehouse,
)
from tests.mirakl.mock_mirakl import API_KEY, BASE_URL, EXPORT_URL, RecordingMirakl, identify
from tests.openapi_spec import (
    load_spec,
    operation,
    query_parameter_names,
    request_body_validator,
)

pytestmark = pytest.mark.contract

T0 = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
T1 = T0 + timedelta(days=2)


@dataclass(frozen=True)
class Invocation:
    """One public client call: ``client.<resource>.<method>(*args, **kwargs)``."""

    resource: str
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def run_sync(self, client: MiraklClient) -> Any:
        result = getattr(getattr(client, self.resource), self.method)(*self.args, **self.kwargs)
        return (
            list(result)
            if isinstance(result, Iterable) and not isinstance(result, bytes)
            else result
        )

    async def run_async(self, client: AsyncMiraklClient) -> Any:
        result = getattr(getattr(client, self.resource), self.method)(*self.args, **self.kwargs)
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        return await result


def call(resource: str, method: str, *args: Any, **kwargs: Any) -> Invocation:
    return Invocation(resource, method, args, kwargs)


_OR11_FILTERS: dict[str, Any] = {
    "states": ["WAITING_ACCEPTANCE", "SHIPPING"],
    "references_for_customer": ["C-1"],
    "references_for_seller": ["S-1"],
    "created_from": T0,
    "created_to": T1,
    "updated_from": T0,
    "updated_to": T1,
    "channel_codes": ["FR"],
    "only_null_channel": False,
    "customer_debited": True,
    "payment_workflow": "PAY_ON_ACCEPTANCE",
    "has_incident": False,
    "fulfillment_center_codes": ["DEFAULT"],
    "order_tax_mode": "TAX_INCLUDED",
    "page_size": 50,
    "sort_order": "asc",
}
_REFUND = RefundRequest(
    order_line_id="O-1-1",
    amount=Decimal("10.50"),
    shipping_amount=Decimal("0"),
    reason_code="15",
    quantity=1,
    currency_iso_code="EUR",
    taxes=(AmountCode(code="TVA", amount=Decimal("1.75")),),
    shipping_taxes=(AmountCode(code="TVA", amount=Decimal("0")),),
    excluded_from_shipment=False,
)
_CANCELATION = CancelationRequest(
    order_line_id="O-1-1",
    quantity=1,
    amount=Decimal("10.50"),
    shipping_amount=Decimal("2.00"),
    reason_code="34",
    currency_iso_code="EUR",
    taxes=(AmountCode(code="TVA", amount=Decimal("1.75")),),
)
_ORDER_EXPORT = OrderExportRequest(
    start_update_date=T0,
    end_update_date=T1,
    order_state_codes=("SHIPPING",),
    channel_codes=("FR",),
    items_per_chunk=10000,
    megabytes_per_chunk=10,
)
_STOCK = [
    StockUpdate(offer_sku="A", quantity=5),
    StockUpdate(offer_sku="B", quantity=3, warehouse_code="PARIS"),
    StockUpdate(offer_sku="B", quantity=0, warehouse_code="LYON"),
]
_TL02_FILTERS: dict[str, Any] = {
    "last_updated_from": T0,
    "date_created_from": T0,
    "date_created_to": T1,
    "transaction_date_from": T0,
    "transaction_date_to": T1,
    "payment_states": ["PAID", "PAYABLE"],
    "transaction_types": ["ORDER_AMOUNT", "COMMISSION_FEE"],
    "order_ids": ["O-1", "O-2"],
    "seller_billing_cycle_ids": ["cycle-1"],
    "accounting_document_number": "DOC-1",
    "sort": "lastUpdated",
    "sort_order": "asc",
    "page_size": 2000,
}

_SHIPMENTS = [
    ShipmentCreate(
        order_id="O-1",
        shipment_lines=[
            ShipmentLineCreate(order_line_id="O-1-1", quantity=2, package_reference="PKG-1"),
            ShipmentLineCreate(order_line_id="O-1-2", quantity=1),
        ],
        tracking=ShipmentTrackingCreate(
            carrier_code="UPS",
            carrier_name="UPS",
            carrier_standard_code="UPS",
            tracking_number="1Z999",
            tracking_url="https://ups.example/track/1Z999",
        ),
        shipped=True,
        invoice_reference="INV-2026_01",
        shipping_from=ShipmentOrigin(warehouse=Warehouse(code="PARIS")),
    ),
    ShipmentCreate(
        order_id="O-1",
        shipment_lines=[ShipmentLineCreate(order_line_id="O-1-1", quantity=1)],
    ),
]
_ST11_FILTERS: dict[str, Any] = {
    "shipment_state_codes": ["SHIPPING", "SHIPPED"],
    "customer_debit_state_codes": ["NO_DEBIT"],
    "last_updated_from": T0,
    "last_updated_to": T1,
    "sort_order": "asc",
    "page_size": 100,
}

# One entry per operation: the public call(s) that exercise it with every option set.
CALLS: dict[str, list[Invocation]] = {
    "OR11": [
        call("orders", "list", **_OR11_FILTERS),
        call("orders", "list", order_ids=[f"O-{i}" for i in range(150)]),
        call("orders", "get", "Order_00010-A"),
    ],
    "OR21": [call("orders", "accept", "O-1", {"O-1-1": True, "O-1-2": False})],
    "OR23": [
        call(
            "orders",
            "update_tracking",
            "O-1",
            carrier_code="UPS",
            carrier_name="UPS",
            carrier_url="https://ups.example/track",
            carrier_standard_code="UPS",
            tracking_number="1Z999",
        )
    ],
    "OR24": [call("orders", "ship", "O-1")],
    "OR28": [call("orders", "refund", [_REFUND], order_tax_mode="TAX_INCLUDED")],
    "OR29": [call("orders", "cancel", "O-1")],
    "OR30": [call("orders", "cancel_lines", [_CANCELATION], order_tax_mode="TAX_INCLUDED")],
    "OR13": [call("orders", "start_export", _ORDER_EXPORT)],
    "OR14": [call("orders", "export_status", "tracking-1")],
    "OR15": [call("orders", "download_export", EXPORT_URL.replace("chunk", "orders"))],
    "OF21": [
        call(
            "offers",
            "list",
            sku="SKU-1",
            product_id="P-1",
            offer_state_codes=["11"],
            favorite=False,
            pricing_channel_code="FR",
            page_size=20,
            sort="price",
            sort_order="desc",
        )
    ],
    "OF52": [
        call(
            "offers",
            "start_export",
            OfferExportRequest(last_request_date=T0, items_per_chunk=10000, megabytes_per_chunk=10),
        )
    ],
    "OF53": [call("offers", "export_status", "tracking-2")],
    "OF54": [call("offers", "download_export", EXPORT_URL)],
    "OF01": [
        call(
            "offers",
            "import_file",
            b"sku;quantity;update-delete\nA;5;update\n",
            import_mode="NORMAL",
            with_products=False,
            operator_format=False,
        )
    ],
    "OF02": [call("offers", "import_status", 2001)],
    "OF03": [call("offers", "import_error_report", 2001)],
    "STO01": [call("stock", "import_quantities", _STOCK)],
    "STO02": [call("stock", "import_status", "imp-1")],
    "STO03": [call("stock", "import_error_report", "imp-1")],
    "TL02": [call("finance", "transactions", **_TL02_FILTERS)],
    "PC01": [call("platform", "configuration")],
    "RE01": [call("platform", "reasons", type="REFUND")],
    "SH21": [call("platform", "carriers")],
    "ST01": [call("shipments", "create", _SHIPMENTS)],
    "ST11": [
        call("shipments", "list", **_ST11_FILTERS),
        call("shipments", "list", order_ids=[f"O-{i}" for i in range(150)]),
    ],
}


def test_every_operation_is_exercised() -> None:
    assert set(CALLS) == set(OPERATIONS)


@pytest.mark.parametrize("code", sorted(OPERATIONS))
def test_operation_table_matches_the_document(code: str) -> None:
    load_spec()
    method, path, _ = operation(code)
    op = OPERATIONS[code]
    assert op.method == method
    if not op.dynamic_url:
        assert op.path == path


def _multipart_fields(request: httpx.Request) -> dict[str, bytes]:
    content_type = request.headers["content-type"]
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.content
    message = BytesParser(policy=HTTP).parsebytes(raw)
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        fields[name] = payload
    return fields


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = load_spec()
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def _check_body(code: str, request: httpx.Request) -> None:
    _, _, op = operation(code)
    content = op.get("requestBody", {}).get("content", {})
    if not request.content:
        assert not op.get("requestBody", {}).get("required"), f"{code} needs a body"
        return
    if "application/json" in content:
        assert request.headers["content-type"] == "application/json"
        body = json.loads(request.content)
        errors = [e.message for e in request_body_validator(code).iter_errors(body)]
        assert not errors, f"{code} body breaks the schema: {errors}"
        return
    assert "multipart/form-data" in content, f"{code} sent an undeclared body"
    schema = _resolve(content["multipart/form-data"]["schema"])
    fields = _multipart_fields(request)
    properties = schema.get("properties", {})
    assert set(fields) <= set(properties), (
        f"{code}: unknown form fields {set(fields) - set(properties)}"
    )
    assert set(schema.get("required", [])) <= set(fields)
    for name, value in fields.items():
        prop = _resolve(properties[name])
        if "enum" in prop:
            assert value.decode() in prop["enum"]
        if prop.get("type") == "boolean":
            assert value in (b"true", b"false")


@pytest.mark.parametrize("code", sorted(CALLS))
def test_requests_match_the_document(code: str) -> None:
    load_spec()
    mirakl = RecordingMirakl()
    with MiraklClient(
        BASE_URL, API_KEY, shop_id=2001, transport=mirakl.transport(), call_budget=None
    ) as client:
        for invocation in CALLS[code]:
            invocation.run_sync(client)
    own = [r for r in mirakl.requests if identify(r) == code]
    assert own, f"{code} sent no request"
    for request in mirakl.requests:
        request_code = identify(request)
        method, _path, _ = operation(request_code)
        assert request.method == method
        allowed = query_parameter_names(request_code)
        names = {name for name, _ in request.url.params.multi_items()}
        assert names <= allowed, f"{request_code}: undeclared query parameters {names - allowed}"
        assert request.headers["authorization"] == API_KEY
        assert request.headers["user-agent"].startswith("mirakl-sync/")
        _check_body(request_code, request)


def test_or11_batches_order_ids_by_100() -> None:
    load_spec()
    mirakl = RecordingMirakl()
    client = MiraklClient(BASE_URL, API_KEY, transport=mirakl.transport(), call_budget=None)
    list(client.orders.list(order_ids=[f"O-{i}" for i in range(250)]))
    sizes = [len(r.url.params["order_ids"].split(",")) for r in mirakl.requests]
    assert sizes == [100, 100, 50]


def test_tl02_continuation_sends_only_the_page_token() -> None:
    load_spec()
    mirakl = RecordingMirakl()
    first = {"data": [{"id": "8f0f1b8e-0000-4000-8000-000000000001"}], "next_page_token": "tok-2"}
    last = {"data": [{"id": "8f0f1b8e-0000-4000-8000-000000000002"}]}

    def answer(request: httpx.Request) -> httpx.Response:
        body = last if "page_token" in request.url.params else first
        return httpx.Response(200, json=body)

    mirakl.overrides["TL02"] = answer
    client = MiraklClient(
        BASE_URL, API_KEY, shop_id=7, transport=mirakl.transport(), call_budget=None
    )
    ids = [t.id for t in client.finance.transactions(last_updated_from=T0, page_size=1)]
    assert ids == [first["data"][0]["id"], last["data"][0]["id"]]  # type: ignore[index]
    first_params = dict(mirakl.requests[0].url.params)
    assert first_params["limit"] == "1"
    assert first_params["shop_id"] == "7"
    assert list(mirakl.requests[1].url.params.multi_items()) == [("page_token", "tok-2")]


def test_st11_batches_order_ids_by_100_and_continues_with_the_token_only() -> None:
    load_spec()
    mirakl = RecordingMirakl()
    client = MiraklClient(BASE_URL, API_KEY, transport=mirakl.transport(), call_budget=None)
    list(client.shipments.list(order_ids=[f"O-{i}" for i in range(250)], page_size=10))
    sizes = [
        len(r.url.params.get_list("order_id"))
        for r in mirakl.requests
        if "page_token" not in r.url.params
    ]
    assert sizes == [100, 100, 50]
    continuation = [r for r in mirakl.requests if "page_token" in r.url.params]
    assert continuation
    assert all(len(r.url.params.multi_items()) == 1 for r in continuation)
    assert all(r.url.params["limit"] == "10" for r in mirakl.requests if "limit" in r.url.params)


def test_st01_body_and_limits() -> None:
    load_spec()
    mirakl = RecordingMirakl()
    client = MiraklClient(BASE_URL, API_KEY, transport=mirakl.transport(), call_budget=None)
    result = client.shipments.create(_SHIPMENTS)
    assert [e.order_id for e in result.shipment_errors] == ["leadtime-ship02-A", "7263625-A"]
    assert result.shipment_success[0].shipment_lines[1].quantity == 3
    (request,) = mirakl.requests
    body = json.loads(request.content)
    first = body["shipments"][0]
    assert first["shipped"] is True
    assert first["shipment_lines"][0] == {
        "order_line_id": "O-1-1",
        "quantity": 2,
        "package_reference": "PKG-1",
    }
    assert first["shipping_from"] == {"warehouse": {"code": "PARIS"}}
    second = body["shipments"][1]
    assert second == {
        "order_id": "O-1",
        "shipment_lines": [{"order_line_id": "O-1-1", "quantity": 1}],
        "shipped": False,
    }
    one = ShipmentCreate(
        order_id="O", shipment_lines=[ShipmentLineCreate(order_line_id="L", quantity=1)]
    )
    with pytest.raises(ValueError, match="at most 1000"):
        client.shipments.create([one] * 1001)
    with pytest.raises(ValueError, match="at least one"):
        client.shipments.create([])
    with pytest.raises(TypeError):
        client.shipments.create(one)  # type: ignore[arg-type]
    assert len(mirakl.requests) == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: ShipmentLineCreate(order_line_id="L", quantity=0),
        lambda: ShipmentLineCreate(order_line_id="L", quantity=True),
        lambda: ShipmentLineCreate(order_line_id=" ", quantity=1),
        lambda: ShipmentCreate(order_id="O", shipment_lines=[]),
        lambda: ShipmentCreate(
            order_id="", shipment_lines=[ShipmentLineCreate(order_line_id="L", quantity=1)]
        ),
        lambda: ShipmentCreate(
            order_id="O",
            shipment_lines=[ShipmentLineCreate(order_line_id="L", quantity=1)],
            invoice_reference="no spaces allowed",
        ),
        lambda: ShipmentTrackingCreate(tracking_number="1Z"),
    ],
)
def test_shipment_requests_are_checked_before_sending(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def _wire(request: httpx.Request) -> tuple[str, str, object]:
    if request.headers.get("content-type", "").startswith("multipart/"):
        body: object = _multipart_fields(request)
    else:
        body = request.content
    return (request.method, str(request.url), body)


@pytest.mark.parametrize("code", sorted(CALLS))
def test_async_client_sends_the_same_requests(code: str) -> None:
    load_spec()
    sync_server, async_server = RecordingMirakl(), RecordingMirakl()
    with MiraklClient(
        BASE_URL, API_KEY, shop_id=2001, transport=sync_server.transport(), call_budget=None
    ) as client:
        sync_results = [invocation.run_sync(client) for invocation in CALLS[code]]

    async def run() -> list[Any]:
        async with AsyncMiraklClient(
            BASE_URL, API_KEY, shop_id=2001, transport=async_server.transport(), call_budget=None
        ) as aclient:
            return [await invocation.run_async(aclient) for invocation in CALLS[code]]

    async_results = asyncio.run(run())
    assert [_wire(r) for r in async_server.requests] == [_wire(r) for r in sync_server.requests]
    assert async_results == sync_results
