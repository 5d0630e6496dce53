"""Retry, Retry-After and deadline behaviour of the shared transport, sync and async.

Table-driven on ``httpx.MockTransport`` with the sleep patched: no test waits for real.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest

from mirakl_sync._http import RequestSpec, RetryPolicy, parse_retry_after
from mirakl_sync.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from tests.http.conftest import START, Driver, Script, Step

GET = RequestSpec(operation="OR11", method="GET", url="/api/orders")
PUT = RequestSpec(operation="OR21", method="PUT", url="/api/orders/O-1/accept", json_body={})

REQ = httpx.Request("GET", "https://sandbox-instance.mirakl.net/api/orders")


def status(
    code: int, headers: dict[str, str] | None = None, body: bytes = b""
) -> Callable[[httpx.Request], httpx.Response]:
    """A response factory (a fresh response per request: httpx binds a response to its client)."""
    return lambda request: httpx.Response(code, headers=headers, content=body)


def http_date(seconds_from_start: int) -> str:
    return email.utils.format_datetime(START + timedelta(seconds=seconds_from_start), usegmt=True)


@dataclass
class Case:
    name: str
    spec: RequestSpec
    steps: list[Step]
    calls: int
    sleeps: list[float] = field(default_factory=list)
    raises: type[APIError] | None = None
    deadline_in: float | None = None
    policy: RetryPolicy | None = None


# rand() is fixed at 0.5, backoff_initial 0.5: full-jitter backoff waits 0.25, 0.5, 1.0, 2.0...
CASES = [
    Case("get 503 then ok", GET, [status(503), status(200)], 2, [0.25]),
    Case("get 502 504 then ok", GET, [status(502), status(504), status(200)], 3, [0.25, 0.5]),
    Case(
        "get 429 retry-after seconds",
        GET,
        [status(429, {"Retry-After": "7"}), status(200)],
        2,
        [7.0],
    ),
    Case(
        "get 429 retry-after http-date",
        GET,
        [status(429, {"Retry-After": http_date(30)}), status(200)],
        2,
        [30.0],
    ),
    Case(
        "get 503 retry-after honoured",
        GET,
        [status(503, {"Retry-After": "3"}), status(200)],
        2,
        [3.0],
    ),
    Case(
        "retry-after above the cap is not waited",
        GET,
        [status(429, {"Retry-After": "500"})],
        1,
        [],
        RateLimitError,
    ),
    Case(
        "retry-after date in the past means now",
        GET,
        [status(429, {"Retry-After": http_date(-60)}), status(200)],
        2,
        [0.0],
    ),
    Case(
        "get connect error",
        GET,
        [httpx.ConnectError("refused", request=REQ), status(200)],
        2,
        [0.25],
    ),
    Case("get read timeout", GET, [httpx.ReadTimeout("slow", request=REQ), status(200)], 2, [0.25]),
    Case(
        "get dropped connection",
        GET,
        [httpx.RemoteProtocolError("dropped", request=REQ), status(200)],
        2,
        [0.25],
    ),
    Case("get 500 is not retried", GET, [status(500)], 1, [], ServerError),
    Case(
        "get gives up after max retries",
        GET,
        [status(503)] * 5,
        5,
        [0.25, 0.5, 1.0, 2.0],
        ServerError,
    ),
    Case(
        "backoff is capped",
        GET,
        [status(503)] * 5,
        5,
        [0.25, 0.5, 0.5, 0.5],
        ServerError,
        policy=RetryPolicy(max_retries=4, backoff_initial=0.5, backoff_max=1.0),
    ),
    Case(
        "put connect error is retried",
        PUT,
        [httpx.ConnectError("x", request=REQ), status(204)],
        2,
        [0.25],
    ),
    Case(
        "put connect timeout is retried",
        PUT,
        [httpx.ConnectTimeout("x", request=REQ), status(204)],
        2,
        [0.25],
    ),
    Case("put 429 is retried", PUT, [status(429, {"Retry-After": "3"}), status(204)], 2, [3.0]),
    Case(
        "put read timeout is not retried",
        PUT,
        [httpx.ReadTimeout("x", request=REQ)],
        1,
        [],
        APITimeoutError,
    ),
    Case(
        "put dropped response is not retried",
        PUT,
        [httpx.RemoteProtocolError("x", request=REQ)],
        1,
        [],
        APIConnectionError,
    ),
    Case("put 503 is not retried", PUT, [status(503)], 1, [], ServerError),
    Case("put 502 is not retried", PUT, [status(502)], 1, [], ServerError),
    Case(
        "deadline stops a long retry-after",
        GET,
        [status(429, {"Retry-After": "20"})],
        1,
        [],
        RateLimitError,
        deadline_in=10.0,
    ),
    Case(
        "deadline allows a short retry-after",
        GET,
        [status(429, {"Retry-After": "5"}), status(200)],
        2,
        [5.0],
        deadline_in=10.0,
    ),
    Case(
        "deadline stops backoff that would cross it",
        GET,
        [status(503), status(503), status(503)],
        2,
        [0.25],
        ServerError,
        deadline_in=0.6,
    ),
    Case(
        "400 maps to BadRequestError",
        GET,
        [status(400, body=b'{"message":"bad","status":400}')],
        1,
        [],
        BadRequestError,
    ),
    Case("401 maps to AuthenticationError", GET, [status(401)], 1, [], AuthenticationError),
    Case("403 maps to PermissionDeniedError", GET, [status(403)], 1, [], PermissionDeniedError),
    Case("404 maps to NotFoundError", GET, [status(404)], 1, [], NotFoundError),
    Case("409 maps to ConflictError", PUT, [status(409)], 1, [], ConflictError),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_retry_table(driver: Driver, case: Case) -> None:
    script = Script(case.steps)
    config = driver.config(retry=case.policy) if case.policy else None
    options = {}
    if case.deadline_in is not None:
        options["deadline"] = START + timedelta(seconds=case.deadline_in)
    if case.raises is None:
        response = driver.send(script, case.spec, options, config)  # type: ignore[arg-type]
        assert response.status_code < 400
    else:
        with pytest.raises(case.raises) as info:
            driver.send(script, case.spec, options, config)  # type: ignore[arg-type]
        assert info.value.operation == case.spec.operation
        assert info.value.method == case.spec.method
    assert len(script.requests) == case.calls
    assert driver.clock.sleeps == case.sleeps


def test_rate_limit_error_reports_the_wait(driver: Driver) -> None:
    script = Script([status(429, {"Retry-After": "500"})])
    with pytest.raises(RateLimitError) as info:
        driver.send(script, GET)
    assert info.value.retry_after == 500.0
    assert info.value.status_code == 429


def test_connect_error_says_the_request_never_left(driver: Driver) -> None:
    script = Script([httpx.ConnectError("refused", request=REQ)] * 5)
    with pytest.raises(APIConnectionError) as info:
        driver.send(script, PUT, config=driver.config(retry=RetryPolicy(max_retries=0)))
    assert info.value.request_sent is False
    script = Script([httpx.ReadTimeout("slow", request=REQ)])
    with pytest.raises(APITimeoutError) as timeout:
        driver.send(script, PUT)
    assert timeout.value.request_sent is True


def test_invalid_state_code_is_typed(driver: Driver) -> None:
    body = b'{"message":"ORDER_INVALID_STATE: Order is not in the expected state","status":400}'
    from mirakl_sync.mirakl._base import mirakl_error_parser

    script = Script([status(400, body=body)])
    with pytest.raises(InvalidStateError) as info:
        driver.send(script, PUT, config=driver.config(error_parser=mirakl_error_parser))
    error = info.value
    assert isinstance(error, BadRequestError)
    assert isinstance(error, ConflictError)
    assert error.error_code == "ORDER_INVALID_STATE"
    assert "expected state" in error.message
    assert error.body_excerpt.startswith('{"message"')
    assert "OR21 PUT https://sandbox-instance.mirakl.net/api/orders/O-1/accept" in str(error)


def test_no_retry_when_disabled(driver: Driver) -> None:
    script = Script([status(503)])
    with pytest.raises(ServerError):
        driver.send(script, GET, config=driver.config(retry=RetryPolicy(max_retries=0)))
    assert len(script.requests) == 1


def test_raw_httpx_errors_never_escape(driver: Driver) -> None:
    for exc in [
        httpx.ConnectError("x", request=REQ),
        httpx.ReadError("x", request=REQ),
        httpx.WriteError("x", request=REQ),
        httpx.PoolTimeout("x", request=REQ),
        httpx.RemoteProtocolError("x", request=REQ),
        httpx.LocalProtocolError("x", request=REQ),
        httpx.UnsupportedProtocol("x", request=REQ),
    ]:
        script = Script([exc])
        with pytest.raises(APIError) as info:
            driver.send(script, PUT, config=driver.config(retry=RetryPolicy(max_retries=0)))
        assert not isinstance(info.value.__cause__, httpx.HTTPError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 7 ", 7.0),
        ("-3", 0.0),
        (http_date(45), 45.0),
        (http_date(-5), 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, START) == expected


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=5.0)
    assert [policy.backoff(n, lambda: 1.0) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(10_000, lambda: 1.0) == 5.0
