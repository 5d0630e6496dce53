"""API keys never appear in a repr, a log line or an exception."""

from __future__ import annotations

import logging
import pickle

import httpx
import pytest

from mirakl_sync._http import Secret, redact_url
from mirakl_sync.errors import APIError
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient

KEY = "canary-5e6f7a8b-9c0d-key"


def echoing_server(request: httpx.Request) -> httpx.Response:
    # A hostile or buggy server that echoes the key back in its error body and headers.
    key = request.headers["authorization"]
    return httpx.Response(
        500,
        json={"message": f"invalid key {key}", "status": 500},
        headers={"X-Debug": key},
    )


def test_secret_never_shows_itself() -> None:
    secret = Secret(KEY)
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert KEY not in f"{secret}"
    assert secret.reveal() == KEY
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_client_repr_hides_the_key() -> None:
    client = MiraklClient("https://x.mirakl.net", KEY, shop_id=3)
    assert KEY not in repr(client)
    assert KEY not in repr(client.orders)
    assert KEY not in repr(client._transport.config)
    client.close()
    aclient = AsyncMiraklClient("https://x.mirakl.net", KEY)
    assert KEY not in repr(aclient)


def test_errors_and_logs_hide_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = MiraklClient(
        "https://x.mirakl.net",
        KEY,
        transport=httpx.MockTransport(echoing_server),
        call_budget=None,
        max_retries=0,
    )
    with pytest.raises(APIError) as info:
        client.orders.ship("O-1")
    error = info.value
    rendered = " ".join(
        [str(error), repr(error), error.message, getattr(error, "body_excerpt", ""), str(error.url)]
    )
    assert KEY not in rendered
    assert "********" in error.message
    assert KEY not in caplog.text
    assert "O-1" in caplog.text  # the log line is there, only the key is masked


def test_redact_url_masks_credentials_and_secret_params() -> None:
    url = "https://user:pass@x.mirakl.net/api/orders?api_key=abc&order_ids=A,B&token=t"
    redacted = redact_url(url)
    assert "user" not in redacted
    assert "pass" not in redacted
    assert "abc" not in redacted
    assert "order_ids=A,B" in redacted
    assert redacted.startswith("https://x.mirakl.net/api/orders?")


def test_tls_verification_off_warns() -> None:
    with pytest.warns(RuntimeWarning, match="verification is disabled"):
        MiraklClient("https://x.mirakl.net", KEY, verify=False).close()
