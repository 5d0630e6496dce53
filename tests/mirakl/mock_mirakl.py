"""A recording ``httpx.MockTransport`` that answers every implemented operation with Mirakl's own
response example from the OpenAPI document (used by contract and transport tests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from mirakl_sync._http import dumps_body
from mirakl_sync.mirakl import OPERATIONS
from tests.openapi_spec import response_examples

BASE_URL = "https://sandbox-instance.mirakl.net"
EXPORT_URL = f"{BASE_URL}/exports/chunk-1.json"
API_KEY = "canary-4f1e2d3c-api-key"


def _template_regex(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


_STATIC = [
    (op.code, op.method, _template_regex(op.path))
    for op in OPERATIONS.values()
    if not op.dynamic_url
]


def identify(request: httpx.Request) -> str:
    """The operation code a request is for (dynamic download URLs by their path)."""
    path = request.url.path
    if path.startswith("/exports/"):
        return "OR15" if "orders" in path else "OF54"
    matches = [code for code, method, rx in _STATIC if method == request.method and rx.match(path)]
    if len(matches) != 1:
        raise AssertionError(f"{request.method} {path} matches {matches}")
    return matches[0]


def example_body(op: str) -> Any:
    """The first JSON response example of a 2xx status for ``op``."""
    for status, _, value in response_examples(op):
        if status.startswith("2"):
            return value
    raise LookupError(op)


class RecordingMirakl:
    """Answers with spec examples and records each request; ``overrides`` replaces responses."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.overrides: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        op = identify(request)
        if op in self.overrides:
            return self.overrides[op](request)
        if op in {"OR21", "OR23", "OR24", "OR29"}:
            return httpx.Response(204)
        if op == "STO03":
            return httpx.Response(
                200, content=b"1;Offer not found\n", headers={"Content-Type": "text/csv"}
            )
        if op == "OF03":
            return httpx.Response(200, content=b"sku;quantity;error\nA;1;Unknown\n")
        if op == "OR14":
            return _json({"status": "COMPLETED", "urls": [EXPORT_URL.replace("chunk", "orders")]})
        if op == "OF53":
            return _json({"status": "COMPLETED", "urls": [EXPORT_URL]})
        if op == "OR15":
            return _json({"orders": example_body("OR11")["orders"]})
        status = 201 if op in {"OF01", "STO01", "ST01"} else 200
        body = example_body(op)
        if "page_token" in request.url.params and isinstance(body, dict):
            # A seek listing's example carries a next_page_token: end the listing on page two.
            body = {k: v for k, v in body.items() if k != "next_page_token"}
        return _json(body, status)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def _json(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=dumps_body(body), headers={"Content-Type": "application/json"}
    )
