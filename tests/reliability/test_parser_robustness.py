"""Parser robustness (reliability.md §5.4, §6 "Untrusted JSON", §7 target 12).

For every operation in ``RESPONSE_SHAPES`` (the client's implemented operations), bodies built
from the operation's response schema in Mirakl's OpenAPI document, mutated bodies (wrong types,
nulls, huge strings, unknown enum values, extra fields, missing keys, numbers as strings, deep
nesting, NaN/Infinity/5000-digit numbers) and raw non-JSON bodies go through the real client
path. The client must return the typed model (or a list of them) or raise
:class:`~mirakl_sync.errors.ResponseValidationError`; nothing else may escape.

Oversized bodies are refused with :class:`~mirakl_sync.errors.ResponseTooLargeError` while the
stream is read, sync and async, for both API clients.

Example counts are CI-sized and derandomized; ``MIRAKL_SYNC_FUZZ_SCALE`` scales them (nightly).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from mirakl_sync._http import dumps_body
from mirakl_sync._http._client import DEFAULT_MAX_RESPONSE_BYTES
from mirakl_sync.errors import (
    ConfigurationError,
    ResponseTooLargeError,
    ResponseValidationError,
    ServerError,
)
from mirakl_sync.inventory_planner import AsyncInventoryPlannerClient, InventoryPlannerClient
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient
from mirakl_sync.mirakl.models import RESPONSE_SHAPES, PlatformConfiguration
from tests.openapi_spec import load_spec, response_validator
from tests.reliability.fuzz_support import (
    API_KEY,
    BASE_URL,
    CALLS,
    FuzzServer,
    documents,
    examples,
    is_typed_result,
    mutate,
    raw_bodies,
    response_schema,
    truncations,
)

OPERATIONS = sorted(RESPONSE_SHAPES)
_SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
}


def _describe(body: bytes) -> str:
    return repr(body[:300]) + (f"... ({len(body)} bytes)" if len(body) > 300 else "")


def _run(server: FuzzServer, client: MiraklClient, body: bytes) -> Any:
    """Send ``body`` through the client; return the result, or ``None`` after a
    ResponseValidationError; fail on any other exception."""
    server.body = body
    try:
        result = CALLS[server.code].run_sync(client)
    except ResponseValidationError:
        return None
    except Exception as exc:  # the property under test: nothing else escapes
        pytest.fail(
            f"{server.code}: {type(exc).__name__} escaped the client: {exc!r:.300}\n"
            f"body: {_describe(body)}"
        )
    assert is_typed_result(server.code, result), f"{server.code}: untyped result {result!r:.200}"
    return result


def test_every_implemented_operation_is_fuzzed() -> None:
    assert set(CALLS) == set(RESPONSE_SHAPES)


# Where the models are deliberately stricter than Mirakl's document: a field the document
# leaves optional (or types as free text) that the model requires (or types as a datetime).
# A schema-valid body may be refused only for these; any new refusal fails the test.
KNOWN_STRICTER: dict[str, frozenset[str]] = {
    "OF52": frozenset({"required field missing @ $.tracking_id"}),
    "STO01": frozenset({"required field missing @ $.import_id"}),
    "TL02": frozenset({"required field missing @ $.id"}),
    "OF54": frozenset(
        {
            "required field missing @ $.shop_sku",
            "required field missing @ $.warehouses[].code",
            # declared "type: string" without "format: date-time" in the document
            "invalid value for type, expected datetime.datetime | None @ $.date_created",
            "invalid value for type, expected datetime.datetime | None @ $.last_updated",
            "invalid value for type, expected datetime.datetime | None @ $.available_start_date",
            "invalid value for type, expected datetime.datetime | None @ $.available_end_date",
        }
    ),
}


def _detail_kinds(error: ResponseValidationError) -> set[str]:
    return {re.sub(r"\[\d+\]", "[]", detail) for detail in error.details}


@pytest.mark.contract
@pytest.mark.parametrize("code", OPERATIONS)
def test_schema_valid_bodies_parse_into_models(code: str) -> None:
    """Everything the document allows parses (Mirakl's compatibility contract), except where
    a model is knowingly stricter (KNOWN_STRICTER)."""
    load_spec()
    status, _ = response_schema(code)
    validator = response_validator(code, status)
    server = FuzzServer(code)
    client = server.client()
    allowed = KNOWN_STRICTER.get(code, frozenset())

    @settings(max_examples=examples(25), **_SETTINGS)
    @given(doc=documents(code))
    def check(doc: Any) -> None:
        body = dumps_body(doc)
        instance = json.loads(body)
        if code == "OF54":
            errors = [e.message for item in instance for e in validator.iter_errors(item)]
        else:
            errors = [e.message for e in validator.iter_errors(instance)]
        assert not errors, f"generator bug: {errors[:3]}"
        server.body = body
        try:
            result = CALLS[code].run_sync(client)
        except ResponseValidationError as exc:
            unexpected = _detail_kinds(exc) - allowed
            if unexpected or not exc.details:
                pytest.fail(f"{code}: a schema-valid body was refused: {exc!s:.600}")
            return
        assert is_typed_result(code, result)

    check()


@pytest.mark.contract
@pytest.mark.parametrize("code", OPERATIONS)
def test_mutated_bodies_give_a_model_or_response_validation_error(code: str) -> None:
    load_spec()
    server = FuzzServer(code)
    client = server.client()

    @settings(max_examples=examples(60), **_SETTINGS)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        doc = data.draw(documents(code), label="document")
        mutated = mutate(data, doc)
        note(f"mutations: {mutated.applied}")
        _run(server, client, mutated.serialise())

    check()


@pytest.mark.contract
@pytest.mark.parametrize("code", OPERATIONS)
def test_raw_and_truncated_bodies_give_a_model_or_response_validation_error(code: str) -> None:
    load_spec()
    server = FuzzServer(code)
    client = server.client()

    @settings(max_examples=examples(20), **_SETTINGS)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        if data.draw(st.booleans(), label="truncate a valid body"):
            body = data.draw(truncations(dumps_body(data.draw(documents(code)))))
        else:
            body = data.draw(raw_bodies())
        _run(server, client, body)

    check()


@pytest.mark.contract
@pytest.mark.parametrize("code", ["OR11", "OF54", "PC01", "ST01", "TL02"])
def test_async_client_parses_the_same_way(code: str) -> None:
    """The async transport reads the stream differently; the outcome must be the same."""
    load_spec()
    server = FuzzServer(code)
    sync_client = server.client()
    bodies: list[bytes] = []

    @settings(max_examples=examples(15), **_SETTINGS)
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        bodies.append(mutate(data, data.draw(documents(code))).serialise())

    collect()

    async def run_async(body: bytes, aclient: AsyncMiraklClient) -> Any:
        server.body = body
        try:
            return await CALLS[code].run_async(aclient)
        except ResponseValidationError as exc:
            return type(exc)
        except Exception as exc:
            pytest.fail(f"{code} async: {type(exc).__name__} escaped: {exc!r:.300}")

    async def run_all() -> list[Any]:
        async with server.async_client() as aclient:
            return [await run_async(body, aclient) for body in bodies]

    async_outcomes = asyncio.run(run_all())
    for body, outcome in zip(bodies, async_outcomes, strict=True):
        expected = _run(server, sync_client, body)
        assert outcome == (ResponseValidationError if expected is None else expected)


# --------------------------------------------------------------------------------------------
# Specific hazards (named, so a regression points at the cause)
# --------------------------------------------------------------------------------------------


@pytest.mark.contract
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-array"),
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="deep-object"),
        pytest.param(b'{"orders": [' + b"[" * 5000 + b"]" * 5000 + b"]}", id="deep-item"),
        pytest.param(b'{"orders": [{"order_id": ' + b"1" * 5000 + b"}]}", id="5000-digits"),
        pytest.param(b'{"orders": [], "total_count": Infinity}', id="infinity-total"),
        pytest.param(b'{"orders": [{"order_id": "O"}], "total_count": NaN}', id="nan-total"),
    ],
)
def test_named_hazards_become_response_validation_error(body: bytes) -> None:
    load_spec()
    server = FuzzServer("OR11")
    result = _run(server, server.client(), body)
    assert result is None or result == []


@pytest.mark.contract
def _huge_page_token(doc: Any) -> bool:
    return isinstance(doc, dict) and len(str(doc.get("next_page_token", ""))) > 60_000


@pytest.mark.contract
def test_huge_page_token_is_refused_as_invalid_response() -> None:
    load_spec()
    server = FuzzServer("TL02")  # ST11 goes through the same SeekPaging
    server.body = dumps_body({"data": [{"id": "T-1"}], "next_page_token": "t" * 70_000})
    with server.client() as client, pytest.raises(ResponseValidationError):
        CALLS["TL02"].run_sync(client)


@pytest.mark.contract
def test_unknown_fields_and_enum_values_are_accepted() -> None:
    load_spec()
    server = FuzzServer("PC01")
    body = {
        "features": {"order_workflow": {"acceptance_mode": "BRAND_NEW_MODE"}},
        "a_field_from_next_year": {"nested": [1, 2, 3]},
    }
    result = _run(server, server.client(), dumps_body(body))
    assert isinstance(result, PlatformConfiguration)


# --------------------------------------------------------------------------------------------
# Oversized bodies
# --------------------------------------------------------------------------------------------

LIMIT = 64 * 1024
CHUNK = b" " * 4096


class Endless:
    """A streaming body with no Content-Length that never ends; counts the chunks pulled."""

    def __init__(self, prefix: bytes = b'{"configuration": "') -> None:
        self.prefix = prefix
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        yield self.prefix
        while True:
            self.pulled += 1
            yield CHUNK

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.prefix
        while True:
            self.pulled += 1
            yield CHUNK


def _mirakl(handler: Any, **kwargs: Any) -> MiraklClient:
    return MiraklClient(
        BASE_URL, API_KEY, transport=httpx.MockTransport(handler), call_budget=None, **kwargs
    )


def _amirakl(handler: Any, **kwargs: Any) -> AsyncMiraklClient:
    return AsyncMiraklClient(
        BASE_URL, API_KEY, transport=httpx.MockTransport(handler), call_budget=None, **kwargs
    )


def test_default_limit_is_64_mib() -> None:
    assert DEFAULT_MAX_RESPONSE_BYTES == 64 * 1024 * 1024
    assert _mirakl(lambda r: httpx.Response(200))._transport.config.max_response_bytes == (
        DEFAULT_MAX_RESPONSE_BYTES
    )
    ip = InventoryPlannerClient(
        "k", "a", transport=httpx.MockTransport(lambda r: httpx.Response(200))
    )
    assert ip._transport.config.max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES


def test_endless_stream_is_refused_without_buffering_it() -> None:
    stream = Endless()
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, content=iter(stream))

    client = _mirakl(handler, max_response_bytes=LIMIT, max_retries=3)
    with pytest.raises(ResponseTooLargeError) as caught:
        client.platform.configuration()
    error = caught.value
    assert isinstance(error, ResponseValidationError)
    assert (error.operation, error.method, error.max_bytes) == ("PC01", "GET", LIMIT)
    assert error.url == f"{BASE_URL}/api/platform/configuration"
    assert str(LIMIT) in str(error)
    assert stream.pulled <= LIMIT // len(CHUNK) + 1  # stopped at the limit
    assert len(requests) == 1  # not retried: the same body would come back


def test_endless_stream_is_refused_async() -> None:
    stream = Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream.__aiter__())

    async def run() -> None:
        async with _amirakl(handler, max_response_bytes=LIMIT) as client:
            await client.platform.configuration()

    with pytest.raises(ResponseTooLargeError) as caught:
        asyncio.run(run())
    assert caught.value.operation == "PC01"
    assert stream.pulled <= LIMIT // len(CHUNK) + 1


def test_declared_content_length_over_the_limit_is_refused_before_reading() -> None:
    stream = Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=iter(stream), headers={"Content-Length": str(LIMIT * 1000)}
        )

    with pytest.raises(ResponseTooLargeError):
        _mirakl(handler, max_response_bytes=LIMIT).platform.configuration()
    assert stream.pulled == 0


def test_decompressed_size_counts() -> None:
    """A small gzip body that inflates past the limit (a zip bomb) is refused."""
    import gzip

    inflated = b'{"x": "' + b"a" * (LIMIT * 4) + b'"}'
    packed = gzip.compress(inflated)
    assert len(packed) < LIMIT

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=packed, headers={"Content-Encoding": "gzip"})

    with pytest.raises(ResponseTooLargeError):
        _mirakl(handler, max_response_bytes=LIMIT).platform.configuration()


def test_body_at_the_limit_is_read() -> None:
    body = b'{"x": "' + b"a" * (LIMIT - 9) + b'"}'
    assert len(body) == LIMIT

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    config = _mirakl(handler, max_response_bytes=LIMIT).platform.configuration()
    assert config.raw["x"] == "a" * (LIMIT - 9)


def test_limit_can_be_changed_per_call_and_disabled() -> None:
    body = b'{"x": "' + b"a" * (LIMIT * 2) + b'"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    client = _mirakl(handler, max_response_bytes=LIMIT)
    with pytest.raises(ResponseTooLargeError):
        client.platform.configuration()
    assert client.platform.configuration(refresh=True, max_response_bytes=LIMIT * 3).raw["x"]
    assert client.platform.configuration(refresh=True, max_response_bytes=None).raw["x"]
    unlimited = _mirakl(handler, max_response_bytes=None)
    assert unlimited.platform.configuration().raw["x"]


def test_oversized_error_body_keeps_its_status_error() -> None:
    """A 503 with a huge HTML page is still a (retryable) ServerError, its body truncated."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, content=iter(Endless(b"<html>")))

    with pytest.raises(ServerError) as caught:
        _mirakl(handler, max_response_bytes=LIMIT, max_retries=0).platform.configuration()
    assert caught.value.status_code == 503
    assert caught.value.body_excerpt.startswith("<html>")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "64"])
def test_limit_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        _mirakl(lambda r: httpx.Response(200), max_response_bytes=bad)
    with pytest.raises(ConfigurationError):
        InventoryPlannerClient("k", "a", max_response_bytes=bad)


def test_inventory_planner_client_refuses_oversized_bodies() -> None:
    stream = Endless(b'{"variants": [')

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(stream))

    client = InventoryPlannerClient(
        "k", "a", transport=httpx.MockTransport(handler), max_response_bytes=LIMIT
    )
    with pytest.raises(ResponseTooLargeError) as caught:
        list(client.variants.list())
    assert caught.value.max_bytes == LIMIT
    assert stream.pulled <= LIMIT // len(CHUNK) + 1


def test_inventory_planner_async_client_refuses_oversized_bodies() -> None:
    stream = Endless(b'{"variants": [')

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream.__aiter__())

    async def run() -> None:
        async with AsyncInventoryPlannerClient(
            "k", "a", transport=httpx.MockTransport(handler), max_response_bytes=LIMIT
        ) as client:
            [v async for v in client.variants.list()]

    with pytest.raises(ResponseTooLargeError):
        asyncio.run(run())
    assert stream.pulled <= LIMIT // len(CHUNK) + 1
