"""Support for the parser-robustness tests: one public call per implemented Mirakl operation, a
mock server that answers it with a given body, and JSON mutations.

Every body goes through the real client path: ``MiraklClient`` (or ``AsyncMiraklClient``) on an
``httpx.MockTransport``, the shared transport's streaming read, ``loads_body``, the pagers and
``structure_or_raise``.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import strategies as st

from mirakl_sync._http import dumps_body
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient
from mirakl_sync.mirakl.models import (
    RESPONSE_SHAPES,
    AmountCode,
    CancelationRequest,
    OfferExportRequest,
    OrderExportRequest,
    RefundRequest,
    ShipmentCreate,
    ShipmentLineCreate,
    StockUpdate,
)
from tests.mirakl.mock_mirakl import identify
from tests.openapi_spec import load_spec, operation
from tests.reliability.schema_strategies import SchemaStrategies, small_json

JSON = Any
BASE_URL = "https://fuzz-instance.mirakl.net"
EXPORT_URL = f"{BASE_URL}/exports/chunk-1.json"
API_KEY = "fuzz-key-3b9d"
T0 = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def examples(base: int) -> int:
    """CI-sized example counts; ``MIRAKL_SYNC_FUZZ_SCALE=100`` (nightly) multiplies them."""
    return max(1, int(base * float(os.environ.get("MIRAKL_SYNC_FUZZ_SCALE", "1"))))


# --------------------------------------------------------------------------------------------
# One public call per operation of RESPONSE_SHAPES (the simplest form of the calls in
# tests/mirakl/test_contract_requests.py CALLS).
# --------------------------------------------------------------------------------------------

_REFUND = RefundRequest(
    order_line_id="O-1-1",
    amount=Decimal("10.50"),
    shipping_amount=Decimal("0"),
    reason_code="15",
    quantity=1,
    currency_iso_code="EUR",
    taxes=(AmountCode(code="TVA", amount=Decimal("1.75")),),
)
_CANCELATION = CancelationRequest(
    order_line_id="O-1-1",
    quantity=1,
    amount=Decimal("10.50"),
    shipping_amount=Decimal("0"),
    reason_code="34",
)
_SHIPMENT = ShipmentCreate(
    order_id="O-1", shipment_lines=[ShipmentLineCreate(order_line_id="O-1-1", quantity=1)]
)
_STOCK = [StockUpdate(offer_sku="A", quantity=5)]


@dataclass(frozen=True)
class Call:
    """``client.<resource>.<method>(*args, **kwargs)``."""

    resource: str
    method: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def run_sync(self, client: MiraklClient) -> Any:
        result = getattr(getattr(client, self.resource), self.method)(
            *self.args, **dict(self.kwargs)
        )
        return _materialise(result)

    async def run_async(self, client: AsyncMiraklClient) -> Any:
        result = getattr(getattr(client, self.resource), self.method)(
            *self.args, **dict(self.kwargs)
        )
        if hasattr(result, "__aiter__"):
            return [item async for item in result]
        return await result


def _materialise(result: Any) -> Any:
    if isinstance(result, Iterable) and not isinstance(result, (bytes, str, list)):
        return list(result)
    return result


def call(resource: str, method: str, *args: Any, **kwargs: Any) -> Call:
    return Call(resource, method, args, tuple(kwargs.items()))


CALLS: dict[str, Call] = {
    "OR11": call("orders", "list"),
    "OR15": call("orders", "download_export", EXPORT_URL.replace("chunk", "orders")),
    "OR13": call(
        "orders",
        "start_export",
        OrderExportRequest(start_update_date=T0, end_update_date=T0 + timedelta(days=1)),
    ),
    "OR14": call("orders", "export_status", "tracking-1"),
    "OR28": call("orders", "refund", [_REFUND]),
    "OR30": call("orders", "cancel_lines", [_CANCELATION]),
    "OF21": call("offers", "list"),
    "OF52": call("offers", "start_export", OfferExportRequest(last_request_date=T0)),
    "OF53": call("offers", "export_status", "tracking-2"),
    "OF54": call("offers", "download_export", EXPORT_URL),
    "OF01": call("offers", "import_file", b"sku;quantity;update-delete\nA;5;update\n"),
    "OF02": call("offers", "import_status", 2001),
    "STO01": call("stock", "import_quantities", _STOCK),
    "STO02": call("stock", "import_status", "imp-1"),
    "TL02": call("finance", "transactions", last_updated_from=T0),
    "PC01": call("platform", "configuration", refresh=True),
    "RE01": call("platform", "reasons"),
    "SH21": call("platform", "carriers", refresh=True),
    "ST01": call("shipments", "create", [_SHIPMENT]),
    "ST11": call("shipments", "list"),
}


def is_typed_result(code: str, result: Any) -> bool:
    """Whether ``result`` is what the operation promises: one model, or a list of models."""
    key, cls = RESPONSE_SHAPES[code]
    if key is None:
        return isinstance(result, cls)
    return isinstance(result, list) and all(isinstance(item, cls) for item in result)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FuzzServer:
    """Answers the operation under test with ``body``; continuation pages get an empty page
    (so a fuzzed ``total_count`` or token cannot make a listing run for ever)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.body = b"{}"
        self.requests = 0
        _, _, op = operation(code)
        self.status = int(next(s for s in op["responses"] if s.startswith("2")))
        self.items_key = RESPONSE_SHAPES[code][0]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert identify(request) == self.code, f"unexpected request {request.url}"
        params = request.url.params
        if "page_token" in params or params.get("offset", "0") != "0":
            return httpx.Response(200, json={self.items_key or "data": []})
        return httpx.Response(
            self.status, content=self.body, headers={"Content-Type": "application/json"}
        )

    def client(self) -> MiraklClient:
        return MiraklClient(
            BASE_URL,
            API_KEY,
            shop_id=2001,
            transport=httpx.MockTransport(self),
            call_budget=None,
            max_retries=0,
        )

    def async_client(self) -> AsyncMiraklClient:
        return AsyncMiraklClient(
            BASE_URL,
            API_KEY,
            shop_id=2001,
            transport=httpx.MockTransport(self),
            call_budget=None,
            max_retries=0,
        )


# --------------------------------------------------------------------------------------------
# Documents and mutations
# --------------------------------------------------------------------------------------------

_GENERATOR: list[SchemaStrategies] = []


def response_schema(code: str) -> tuple[str, JSON]:
    """(status, JSON schema) of the operation's success response. OF54's document describes one
    offer while the body is a JSON array of them: the array is added here."""
    _, _, op = operation(code)
    status = next(s for s in op["responses"] if s.startswith("2"))
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    if RESPONSE_SHAPES[code][0] == "":
        schema = {"type": "array", "items": schema}
    return status, schema


def documents(code: str) -> st.SearchStrategy[JSON]:
    """Bodies that match the operation's response schema in Mirakl's OpenAPI document."""
    if not _GENERATOR:
        _GENERATOR.append(SchemaStrategies(load_spec()))
    return _GENERATOR[0].for_schema(response_schema(code)[1])


# A raw token is put in the document as a placeholder string and spliced into the serialised
# text afterwards: it can hold what json/dumps_body cannot build (deep nesting, NaN, 5000-digit
# numbers).
_PLACEHOLDER = "\x00raw-token-{}\x00"

RAW_TOKENS: tuple[str, ...] = (
    "[" * 64 + "]" * 64,
    "[" * 900 + "]" * 900,
    '{"a":' * 700 + "1" + "}" * 700,
    "[" * 5000 + "]" * 5000,
    "[" * 200_000,  # unterminated and deep
    "1" * 5000,  # more digits than int() accepts (CVE-2020-10735 limit: 4300)
    "1e999999999",
    "-1E-999999999",
    "1E+400",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    str(2**80),
    "0.1e1",
)

JUNK: tuple[JSON, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**70),
    Decimal("0.10"),
    Decimal("-99999999999999999999.99"),
    "",
    " ",
    "true",
    "12",
    "12.50",
    "1e3",
    "2026-13-45T25:61:00Z",
    "NOT_A_KNOWN_ENUM_VALUE",
    "Ω≈ç√∫µ≤≥÷ 🤖 \u202e",
    "\ud800",
    [],
    {},
    [None],
    [1, "a", None],
    {"unexpected": {"nested": [1, 2, {"x": None}]}},
)

MUTATIONS = (
    "wrong_type",
    "null",
    "huge_string",
    "unknown_enum",
    "extra_field",
    "missing_key",
    "number_as_string",
    "deep_nesting",
    "raw_token",
    "empty_container",
    "wrap",
)


def _slots(doc: JSON) -> list[tuple[Any, Any]]:
    """Every (container, key) position of the document, parents first."""
    out: list[tuple[Any, Any]] = []
    stack: list[JSON] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in node:
                out.append((node, key))
                stack.append(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                out.append((node, index))
                stack.append(node[index])
    return out


@dataclass
class Mutated:
    """A mutated document: its JSON value with placeholders and the raw tokens they stand for."""

    doc: JSON
    raw: dict[str, str]
    applied: list[str]

    def serialise(self) -> bytes:
        text = dumps_body(self.doc).decode("utf-8")
        for placeholder, token in self.raw.items():
            text = text.replace(json.dumps(placeholder), token)
        return text.encode("utf-8", "surrogatepass")


def _replacement(kind: str, old: JSON, data: st.DataObject, raw: dict[str, str]) -> JSON:
    if kind == "wrong_type":
        choices = [j for j in JUNK if type(j) is not type(old)]
        return copy.deepcopy(data.draw(st.sampled_from(choices)))
    if kind == "null":
        return None
    if kind == "huge_string":
        return data.draw(st.sampled_from(["x", "é", "🤖", "\\"])) * 300_000
    if kind == "unknown_enum":
        return data.draw(st.sampled_from(["NOT_A_KNOWN_ENUM_VALUE", "", "shipping", "ÆØÅ"]))
    if kind == "number_as_string":
        if isinstance(old, bool):
            return "true" if old else "false"
        if isinstance(old, (int, Decimal)):
            return data.draw(st.sampled_from([str(old), f" {old} ", f"{old}e0"]))
        return data.draw(st.sampled_from(["1", "1.5", "-3", "0x10", "1_000", "∞"]))
    if kind == "deep_nesting":
        depth = data.draw(st.sampled_from([50, 200, 400]))
        value: JSON = data.draw(small_json(3))
        for level in range(depth):
            value = [value] if level % 2 else {"k": value}
        return value
    if kind == "raw_token":
        placeholder = _PLACEHOLDER.format(len(raw))
        raw[placeholder] = data.draw(st.sampled_from(RAW_TOKENS))
        return placeholder
    if kind == "empty_container":
        return data.draw(st.sampled_from([[], {}, ""]))
    if kind == "wrap":
        return data.draw(st.sampled_from([[old], {"value": old}]))
    raise AssertionError(kind)


def mutate(data: st.DataObject, doc: JSON, max_mutations: int = 3) -> Mutated:
    """Apply 1..``max_mutations`` mutations at positions hypothesis chooses."""
    doc = copy.deepcopy(doc)
    raw: dict[str, str] = {}
    applied: list[str] = []
    for _ in range(data.draw(st.integers(1, max_mutations))):
        kind = data.draw(st.sampled_from(MUTATIONS))
        slots = _slots(doc)
        index = data.draw(st.integers(0, len(slots)))  # len(slots): the root itself
        parent: Any
        key: Any
        parent, key = slots[index] if index < len(slots) else (None, None)
        if kind == "missing_key":
            if isinstance(parent, dict):
                del parent[key]
            elif isinstance(parent, list):
                parent.pop(key)
            applied.append(f"{kind}@{key!r}")
            continue
        if kind == "extra_field":
            target = parent[key] if parent is not None else doc
            if not isinstance(target, dict):
                target = parent if isinstance(parent, dict) else None
            if target is not None:
                target["x_unexpected_" + str(len(applied))] = copy.deepcopy(
                    data.draw(st.sampled_from(JUNK))
                )
            applied.append(f"{kind}@{key!r}")
            continue
        old = parent[key] if parent is not None else doc
        new = _replacement(kind, old, data, raw)
        if parent is None:
            doc = new
        else:
            parent[key] = new
        applied.append(f"{kind}@{key!r}")
    return Mutated(doc, raw, applied)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Whole bodies that are not (good) JSON."""
    return st.one_of(
        st.sampled_from(
            [
                b"",
                b"null",
                b"[]",
                b"{}",
                b"true",
                b'"just a string"',
                b"42",
                b"NaN",
                b"<html><body>502 Bad Gateway</body></html>",
                b"\xef\xbb\xbf{}",
                b"\xff\xfe{\x00}\x00",
                b'{"orders": [',
                b'{"a": 1}{"b": 2}',
                b"[" * 100_000 + b"]" * 100_000,
                b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                b"\x00" * 64,
                b'{"total_count": Infinity, "orders": [{}], "data": [{}], "offers": [{}]}',
                b'{"total_count": NaN, "orders": [], "next_page_token": {"x": 1}}',
                b'{"next_page_token": 12, "data": "x"}',
            ]
        ),
        st.binary(max_size=256),
        st.text(max_size=256).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


def truncations(body: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, max(0, len(body) - 1)).map(lambda n: body[:n])
