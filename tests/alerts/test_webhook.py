"""WebhookSink against a real HTTP receiver on 127.0.0.1 that verifies the signatures."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
import pytest

from mirakl_sync._http import RetryPolicy, Secret
from mirakl_sync.alerts import WebhookSink, slack_payload, verify_signature, webhook_payload
from mirakl_sync.alerts.webhook import DELIVERY_HEADER, delivery_id, sign
from mirakl_sync.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ConfigurationError,
    RateLimitError,
    ServerError,
)
from tests.alerts.conftest import SECRET, Receiver, make_alert

TOKEN_PATH = "tokenpath9876"


def sink_for(receiver: Receiver, **kwargs: object) -> tuple[WebhookSink, list[float]]:
    sleeps: list[float] = []
    options: dict[str, object] = {"secret": SECRET, "sleep": sleeps.append, "timeout": 5.0}
    options.update(kwargs)
    return WebhookSink(receiver.url, **options), sleeps  # type: ignore[arg-type]


def test_signed_json_post_is_verified_by_the_receiver(receiver: Receiver) -> None:
    alert = make_alert(message="Prix spécial: 5 > 2 <b>")
    sink, sleeps = sink_for(receiver)
    with sink:
        sink.send(alert)
    assert sleeps == []
    (got,) = receiver.requests
    assert got.verified
    assert got.path == "/hooks/T000/B000/tokenpath9876"
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert got.headers["x-mirakl-sync-delivery"] == delivery_id(alert)
    assert got.headers["x-mirakl-sync-signature"].startswith("sha256=")
    assert got.headers["user-agent"].startswith("mirakl-sync/")
    assert json.loads(got.body) == {
        "version": 1,
        "kind": "OVERSELL_RISK",
        "severity": "critical",
        "owner": "inventory",
        "key": "OVERSELL_RISK:shop-a:MUG-BLUE",
        "shop": "shop-a",
        "message": "Prix spécial: 5 > 2 <b>",
        "entities": {"item": "MUG-BLUE", "offer_sku": "MUG-BLUE"},
        "first_seen": "2026-03-01T12:00:00Z",
    }


def test_payload_first_seen_is_utc_iso() -> None:
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=1))
    alert = make_alert(first_seen=datetime(2026, 3, 1, 13, 0, 0, 250000, tzinfo=paris))
    assert webhook_payload(alert)["first_seen"] == "2026-03-01T12:00:00.250000Z"
    naive = make_alert(first_seen=datetime(2026, 3, 1, 12, 0))
    assert webhook_payload(naive)["first_seen"] == "2026-03-01T12:00:00Z"


def test_delivery_id_is_a_header_safe_key_and_first_seen() -> None:
    alert = make_alert(key="UNMAPPED_SKU:shop-a:Tasse blanche\n")
    value = delivery_id(alert)
    assert value == "UNMAPPED_SKU:shop-a:Tasse%20blanche%0A@2026-03-01T12:00:00Z"
    assert value.isascii()


def test_without_secret_no_signature_headers(receiver: Receiver, alert: object) -> None:
    receiver.secret = None
    sink = WebhookSink(receiver.url)
    sink.send(make_alert())
    (got,) = receiver.requests
    assert "x-mirakl-sync-signature" not in got.headers
    assert "x-mirakl-sync-timestamp" not in got.headers
    assert DELIVERY_HEADER.lower() in got.headers
    sink.close()


def test_retries_503_and_429_honouring_retry_after(receiver: Receiver) -> None:
    receiver.script = [(503, {"Retry-After": "0.25"}), (429, {"Retry-After": "0"}), (200, {})]
    sink, sleeps = sink_for(receiver)
    sink.send(make_alert())
    assert sleeps == [0.25, 0.0]
    assert len(receiver.requests) == 3
    assert all(r.verified for r in receiver.requests)
    assert len({r.headers["x-mirakl-sync-delivery"] for r in receiver.requests}) == 1


def test_retry_after_as_http_date(receiver: Receiver) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    receiver.script = [(503, {"Retry-After": "Sun, 01 Mar 2026 12:00:02 GMT"})]
    sink, sleeps = sink_for(receiver, now=lambda: now)
    receiver.secret = None  # the fake clock makes timestamps "old" for the receiver
    sink.send(make_alert())
    assert sleeps == [2.0]
    assert len(receiver.requests) == 2


def test_retry_after_above_the_cap_fails_at_once(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "3600"})]
    sink, sleeps = sink_for(receiver)
    with pytest.raises(RateLimitError) as info:
        sink.send(make_alert())
    assert info.value.retry_after == 3600
    assert sleeps == []
    assert len(receiver.requests) == 1


def test_final_failure_raises_the_library_error(receiver: Receiver) -> None:
    receiver.script = [(503, {})] * 5
    sink, sleeps = sink_for(receiver, max_retries=2)
    with pytest.raises(ServerError) as info:
        sink.send(make_alert())
    assert isinstance(info.value, APIError)
    assert info.value.status_code == 503
    assert len(receiver.requests) == 3
    assert len(sleeps) == 2
    assert all(0 <= s <= 8.0 for s in sleeps)
    assert TOKEN_PATH not in str(info.value)
    assert SECRET not in str(info.value)
    assert info.value.url is not None
    assert info.value.url.endswith("/…")


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequestError), (401, APIStatusError), (404, APIStatusError), (302, APIStatusError)],
)
def test_client_errors_and_redirects_are_not_retried(
    receiver: Receiver, status: int, error: type[APIStatusError]
) -> None:
    receiver.script = [(status, {"Location": "http://127.0.0.1:1/elsewhere"})]
    sink, sleeps = sink_for(receiver)
    with pytest.raises(error) as info:
        sink.send(make_alert())
    assert info.value.status_code == status
    assert len(receiver.requests) == 1
    assert sleeps == []


def test_wrong_secret_is_refused_by_the_receiver(receiver: Receiver) -> None:
    sink, _ = sink_for(receiver, secret="another-secret")
    with pytest.raises(APIStatusError) as info:
        sink.send(make_alert())
    assert info.value.status_code == 401
    assert not receiver.requests[0].verified


def test_connection_refused_becomes_api_connection_error() -> None:
    from tests.alerts.conftest import free_port

    sleeps: list[float] = []
    sink = WebhookSink(
        f"http://127.0.0.1:{free_port()}/hook/{TOKEN_PATH}",
        secret=Secret(SECRET),
        max_retries=1,
        sleep=sleeps.append,
    )
    with pytest.raises(APIConnectionError) as info:
        sink.send(make_alert())
    assert not isinstance(info.value.__cause__, httpx.HTTPError)
    assert info.value.request_sent is False
    assert len(sleeps) == 1
    assert TOKEN_PATH not in str(info.value)


def test_timeout_becomes_api_timeout_error() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    sink = WebhookSink(
        "https://hooks.example.com/x",
        transport=httpx.MockTransport(handler),
        retry_policy=RetryPolicy(max_retries=1, backoff_initial=0.01),
        sleep=lambda s: None,
    )
    with pytest.raises(APITimeoutError) as info:
        sink.send(make_alert())
    assert info.value.request_sent is True
    assert len(calls) == 2


def test_slack_payload_shape(receiver: Receiver) -> None:
    alert = make_alert(message="Lower <MUG> & check", entities={"offer_sku": "A<1>"})
    sink, _ = sink_for(receiver, slack=True)
    sink.send(alert)
    (got,) = receiver.requests
    assert got.verified
    body = json.loads(got.body)
    assert body == slack_payload(alert)
    assert set(body) == {"text", "blocks"}
    assert "<MUG>" not in body["text"]
    assert "Lower &lt;MUG&gt; &amp; check" in body["text"]
    section, fields, context = body["blocks"]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert "*CRITICAL*" in section["text"]["text"]
    assert fields["type"] == "section"
    assert [f["text"].split("\n")[0] for f in fields["fields"]] == [
        "*Owner*",
        "*Severity*",
        "*First seen*",
        "*Key*",
    ]
    assert context["type"] == "context"
    assert "A&lt;1&gt;" in context["elements"][0]["text"]


def test_slack_payload_without_entities_and_long_message() -> None:
    payload = slack_payload(make_alert(entities={}, message="x" * 5000))
    assert [b["type"] for b in payload["blocks"]] == ["section", "section"]
    assert len(payload["blocks"][0]["text"]["text"]) <= 3000
    assert len(payload["text"]) <= 3000


def test_extra_headers_are_sent_and_secret_values_hidden(receiver: Receiver) -> None:
    sink, _ = sink_for(
        receiver, headers={"Authorization": Secret("Bearer tok-canary-1"), "X-Team": "ops"}
    )
    sink.send(make_alert())
    (got,) = receiver.requests
    assert got.headers["authorization"] == "Bearer tok-canary-1"
    assert got.headers["x-team"] == "ops"
    assert "tok-canary-1" not in repr(sink)


def test_secret_never_in_repr_logs_or_errors(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script = [(503, {}), (500, {}), (502, {})]
    sink, _ = sink_for(receiver, secret=Secret(SECRET), max_retries=2)
    text = repr(sink)
    assert SECRET not in text
    assert TOKEN_PATH not in text
    assert "signed=True" in text
    with pytest.raises(ServerError) as info:
        sink.send(make_alert())
    for blob in (caplog.text, str(info.value), repr(info.value), info.value.body_excerpt):
        assert SECRET not in blob
        assert TOKEN_PATH not in blob
    assert "retrying" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "hooks.example.com/x",
        "https://user:pw@hooks.example.com/x",
        "https://token@hooks.example.com/x",
        "https:///nohost",
        "https://hooks.example.com:99999/x",
        "https://hooks.example.com/x#frag",
        "",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        WebhookSink(url)
    assert "pw" not in str(info.value).replace("http", "")


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": ""}, {"timeout": 0}, {"max_retries": -1}, {"headers": {"X": 1}}],
)
def test_bad_options_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        WebhookSink("https://hooks.example.com/x", **kwargs)  # type: ignore[arg-type]


NOW = 1_772_366_400  # 2026-03-01T12:00:00Z
BODY = b'{"version":1}'
GOOD = sign(SECRET, NOW, BODY)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header", "now", "expected"),
    [
        (SECRET, str(NOW), BODY, GOOD, NOW, True),
        (Secret(SECRET), NOW, BODY.decode(), GOOD, NOW + 299, True),
        (SECRET.encode(), str(NOW), BODY, f"sha256=00, {GOOD}", NOW, True),
        ("other", str(NOW), BODY, GOOD, NOW, False),
        (SECRET, str(NOW), BODY + b" ", GOOD, NOW, False),
        (SECRET, str(NOW + 1), BODY, GOOD, NOW, False),
        (SECRET, str(NOW), BODY, GOOD, NOW + 301, False),
        (SECRET, str(NOW), BODY, GOOD, NOW - 301, False),
        (SECRET, "12.5", BODY, GOOD, NOW, False),
        (SECRET, None, BODY, GOOD, NOW, False),
        (SECRET, str(NOW), BODY, None, NOW, False),
        (SECRET, str(NOW), BODY, "", NOW, False),
        (SECRET, str(NOW), BODY, GOOD.removeprefix("sha256="), NOW, False),
        (SECRET, str(NOW), BODY, "garbage", NOW, False),
        (SECRET, "١٢٣", BODY, GOOD, NOW, False),  # non-ASCII digits
        (SECRET, "9" * 5000, BODY, GOOD, NOW, False),
        (SECRET, str(NOW), BODY, "sha256=é", NOW, False),
    ],
)
def test_verify_signature_table(
    secret: str | Secret | bytes,
    timestamp: str | int | None,
    body: str | bytes,
    header: str | None,
    now: float,
    expected: bool,
) -> None:
    assert verify_signature(secret, timestamp, body, header, now=now) is expected


def test_verify_signature_tolerance_and_clock() -> None:
    old = NOW - 10_000
    header = sign(SECRET, old, BODY)
    assert not verify_signature(SECRET, old, BODY, header, now=NOW)
    assert verify_signature(SECRET, old, BODY, header, tolerance_seconds=None)
    when = datetime.fromtimestamp(NOW, UTC)
    assert verify_signature(SECRET, NOW, BODY, GOOD, now=when)
    ancient = 1_000_000_000  # 2001: far from the real clock
    assert not verify_signature(SECRET, ancient, BODY, sign(SECRET, ancient, BODY))
