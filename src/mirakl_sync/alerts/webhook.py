"""The webhook sink: each alert as a JSON ``POST``, optionally HMAC-signed or Slack-shaped.

Payload (``Content-Type: application/json``, UTF-8, keys sorted)::

    {
      "version": 1,
      "kind": "OVERSELL_RISK",
      "severity": "critical",
      "owner": "inventory",
      "key": "OVERSELL_RISK:shop-a:MUG-BLUE",
      "shop": "shop-a",
      "message": "Mirakl shows 5 MUG-BLUE but only 2 are safe to sell: ...",
      "entities": {"offer_sku": "MUG-BLUE"},
      "first_seen": "2026-03-01T12:00:00Z"
    }

Headers:

* ``X-Mirakl-Sync-Delivery``: ``<key>@<first_seen>`` (the key percent-encoded): the same for
  every attempt and every re-send of one discrepancy episode. Delivery is at least once (a lost
  response or the engine's next reconciliation may send the same alert again): receivers dedupe
  on this header (or on ``key`` + ``first_seen``).
* with ``secret``: ``X-Mirakl-Sync-Timestamp`` (Unix seconds) and ``X-Mirakl-Sync-Signature:
  sha256=<hex>``, the HMAC-SHA256 with the secret of ``<timestamp>.<raw body bytes>``. Check it
  with :func:`verify_signature` (or the same three lines in any language), and reject old
  timestamps to stop replays.

Retries: connection errors, timeouts, 408, 429, 500, 502, 503 and 504 are retried up to
``max_retries`` times with jittered exponential backoff; a ``Retry-After`` is honoured up to
``retry_policy.retry_after_cap`` (30 s by default), a longer one fails at once (the engine tries
again on its next reconciliation). Redirects are not followed. The final failure is a
:class:`~mirakl_sync.errors.APIError` subclass; the secret and the URL path (Slack-style URLs
carry a token there) never appear in a repr, a log line or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit

import httpx

from mirakl_sync._http import RetryPolicy, Secret, parse_retry_after, redact_text
from mirakl_sync._version import __version__
from mirakl_sync.alerts.base import Alert
from mirakl_sync.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    status_error_class,
)

__all__ = [
    "DELIVERY_HEADER",
    "PAYLOAD_VERSION",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookSink",
    "delivery_id",
    "sign",
    "slack_payload",
    "verify_signature",
    "webhook_payload",
]

logger = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
SIGNATURE_HEADER = "X-Mirakl-Sync-Signature"
TIMESTAMP_HEADER = "X-Mirakl-Sync-Timestamp"
DELIVERY_HEADER = "X-Mirakl-Sync-Delivery"

DEFAULT_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

_SEVERITY_EMOJI = {
    "info": ":information_source:",
    "warning": ":warning:",
    "error": ":x:",
    "critical": ":rotating_light:",
}
# Slack block limits: a section text holds 3000 characters, a field 2000, at most 10 fields.
_SLACK_TEXT_MAX = 3000
_SLACK_FIELD_MAX = 2000


def _iso_utc(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_payload(alert: Alert) -> dict[str, Any]:
    """The JSON document a :class:`WebhookSink` posts for ``alert`` (``version`` 1)."""
    return {
        "version": PAYLOAD_VERSION,
        "kind": alert.kind,
        "severity": alert.severity,
        "owner": alert.owner,
        "key": alert.key,
        "shop": alert.shop,
        "message": alert.message,
        "entities": {str(k): str(v) for k, v in sorted(alert.entities.items())},
        "first_seen": _iso_utc(alert.first_seen),
    }


def _slack_escape(text: str) -> str:
    # Slack mrkdwn control characters; everything else is shown as is.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook body for ``alert``: a plain ``text`` fallback (notifications)
    and Block Kit ``blocks`` (title and message, owner/severity/first seen/key fields, the
    entities as context)."""
    severity = alert.severity.upper()
    emoji = _SEVERITY_EMOJI.get(alert.severity.lower(), ":rotating_light:")
    title = (
        f"{emoji} *{severity}* `{_slack_escape(alert.kind)}` on shop `{_slack_escape(alert.shop)}`"
    )
    fields = [
        ("Owner", alert.owner),
        ("Severity", alert.severity),
        ("First seen", _iso_utc(alert.first_seen)),
        ("Key", alert.key),
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _cut(f"{title}\n{_slack_escape(alert.message)}", _SLACK_TEXT_MAX),
            },
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": _cut(f"*{label}*\n{_slack_escape(value)}", _SLACK_FIELD_MAX),
                }
                for label, value in fields
            ],
        },
    ]
    if alert.entities:
        entities = " · ".join(
            f"{_slack_escape(k)}: `{_slack_escape(v)}`" for k, v in sorted(alert.entities.items())
        )
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _cut(entities, _SLACK_TEXT_MAX)}],
            }
        )
    text = f"[{severity}] {alert.kind} on {alert.shop} ({alert.owner}): {alert.message}"
    return {"text": _cut(_slack_escape(text), _SLACK_TEXT_MAX), "blocks": blocks}


def delivery_id(alert: Alert) -> str:
    """The ``X-Mirakl-Sync-Delivery`` value: ``<key>@<first_seen>``, the key percent-encoded to
    stay a valid header value. Stable across retries and re-sends of one episode."""
    return f"{quote(alert.key, safe=':/-_.~+=,;')}@{_iso_utc(alert.first_seen)}"


def _secret_bytes(secret: str | Secret | bytes) -> bytes:
    if isinstance(secret, Secret):
        return secret.reveal().encode("utf-8")
    if isinstance(secret, str):
        return secret.encode("utf-8")
    return bytes(secret)


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def sign(secret: str | Secret | bytes, timestamp: str | int, body: str | bytes) -> str:
    """The signature header value ``sha256=<hex>`` of ``<timestamp>.<body>``."""
    message = str(timestamp).encode("ascii") + b"." + _as_bytes(body)
    digest = hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str | Secret | bytes,
    timestamp: str | int | None,
    body: str | bytes,
    header: str | None,
    *,
    tolerance_seconds: float | None = 300,
    now: datetime | float | None = None,
) -> bool:
    """Check a webhook delivery on the receiving side.

    Args:
        secret: the shared secret given to :class:`WebhookSink`.
        timestamp: the ``X-Mirakl-Sync-Timestamp`` header value.
        body: the raw request body, exactly as received (not re-serialised JSON).
        header: the ``X-Mirakl-Sync-Signature`` header value; several comma-separated
            ``sha256=`` values are accepted (any one matching is enough).
        tolerance_seconds: the largest accepted distance between the timestamp and ``now``
            (replay protection); ``None`` disables the check.
        now: the current time (a datetime or Unix seconds); defaults to the system clock.

    Returns:
        ``True`` only if the timestamp is fresh and one signature matches (constant-time
        comparison); never raises on malformed input.
    """
    if not header or timestamp is None:
        return False
    ts_text = str(timestamp).strip()
    if not (ts_text.isascii() and ts_text.isdigit()) or len(ts_text) > 20:
        return False
    if tolerance_seconds is not None:
        if now is None:
            current = time.time()
        elif isinstance(now, datetime):
            current = now.timestamp()
        else:
            current = float(now)
        if abs(current - int(ts_text)) > tolerance_seconds:
            return False
    expected = sign(secret, ts_text, body)
    matched = False
    for candidate in header.split(","):
        # compare every candidate (no early exit) with a constant-time comparison
        matched |= hmac.compare_digest(candidate.strip().encode(), expected.encode())
    return matched


def _safe_origin(url: str) -> str:
    """``scheme://host[:port]/…``: the path and query may carry tokens (Slack, Teams)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return origin + ("/…" if parts.path.strip("/") or parts.query else "")


def _validate_url(url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError("the webhook URL must be a non-empty string")
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"invalid webhook URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigurationError(
            f"the webhook URL must use http or https, not {parts.scheme or 'no scheme'!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "the webhook URL must not contain credentials; use secret= for signatures or "
            "headers={'Authorization': Secret(...)} for receiver authentication"
        )
    if not parts.hostname:
        raise ConfigurationError("the webhook URL has no host")
    if parts.fragment:
        raise ConfigurationError("the webhook URL must not contain a #fragment")
    return url


class WebhookSink:
    """Posts each alert as JSON to ``url``.

    Args:
        url: the receiver, ``http://`` or ``https://`` (no credentials in it).
        secret: sign each request (``X-Mirakl-Sync-Signature``); kept as a
            :class:`~mirakl_sync._http.Secret`.
        name: the sink name in delivery records (distinct per sink of a synchronizer).
        slack: send a Slack-compatible body (:func:`slack_payload`) instead of the JSON payload.
        timeout: seconds for connect, read, write and pool waits of one attempt.
        max_retries: retries after the first attempt (ignored when ``retry_policy`` is given).
        transport: an ``httpx.BaseTransport`` (tests, proxies: ``httpx.HTTPTransport(proxy=...)``,
            custom TLS: ``httpx.HTTPTransport(verify=ssl_context)``); environment proxies are
            not used by the default transport.
        headers: extra request headers (e.g. ``{"Authorization": Secret("Bearer ...")}``);
            :class:`Secret` values are sent but never shown.
        retry_policy: the full retry policy (statuses, backoff, ``Retry-After`` cap).
        sleep: the function used to wait between attempts (tests pass a recorder).
        now: the clock used for signature timestamps and ``Retry-After`` dates.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | Secret | None = None,
        name: str = "webhook",
        slack: bool = False,
        timeout: float = 10.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str | Secret] | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._url = _validate_url(url)
        if secret is not None:
            secret = secret if isinstance(secret, Secret) else Secret(secret)
            if not secret.reveal():
                raise ConfigurationError("the webhook secret must not be empty")
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        self.name: str = name
        self.slack = slack
        self._secret: Secret | None = secret
        self._timeout = httpx.Timeout(timeout)
        self._policy = retry_policy or RetryPolicy(
            max_retries=max_retries,
            backoff_initial=0.5,
            backoff_max=8.0,
            retry_after_cap=30.0,
            retry_statuses=DEFAULT_RETRY_STATUSES,
        )
        self._extra_headers: dict[str, str | Secret] = dict(headers or {})
        for header_name, value in self._extra_headers.items():
            if not isinstance(value, str | Secret):
                raise ConfigurationError(f"header {header_name!r} must be a str or a Secret")
        self._owns_transport = transport is None
        self._transport: httpx.BaseTransport = transport or httpx.HTTPTransport(retries=0)
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(UTC))
        self._rand = random.random
        self._safe_url = _safe_origin(self._url)
        hidden = [s for s in self._extra_headers.values() if isinstance(s, Secret)]
        parts = urlsplit(self._url)
        path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
        hidden.append(Secret(self._url))
        if path_and_query.strip("/"):
            hidden.append(Secret(path_and_query))
        if self._secret is not None:
            hidden.append(self._secret)
        self._hidden: tuple[Secret, ...] = tuple(hidden)

    def __repr__(self) -> str:
        return (
            f"WebhookSink(name={self.name!r}, url={self._safe_url!r}, "
            f"signed={self._secret is not None}, slack={self.slack})"
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (only the one this sink created)."""
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------------

    def render(self, alert: Alert) -> bytes:
        """The exact request body for ``alert`` (what the signature covers)."""
        payload = slack_payload(alert) if self.slack else webhook_payload(alert)
        return json.dumps(
            payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")

    def _headers(self, body: bytes, delivery: str) -> dict[str, str]:
        headers = {
            k: v.reveal() if isinstance(v, Secret) else v for k, v in self._extra_headers.items()
        }
        headers.update(
            {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": f"mirakl-sync/{__version__}",
                DELIVERY_HEADER: delivery,
            }
        )
        if self._secret is not None:
            timestamp = str(int(self._now().timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        return headers

    def _redact(self, text: str) -> str:
        return redact_text(text, self._hidden)

    def _post_once(self, body: bytes, delivery: str) -> None:
        request = httpx.Request(
            "POST",
            self._url,
            content=body,
            headers=self._headers(body, delivery),
            extensions={"timeout": self._timeout.as_dict()},
        )
        # The transport is called directly (not through httpx.Client): the client logs every
        # request URL at INFO level, and webhook URLs often carry a token in their path.
        try:
            response = self._transport.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
        except httpx.HTTPError as exc:
            never_left = isinstance(
                exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
            )
            cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
            raise cls(
                f"{type(exc).__name__}: {self._redact(str(exc) or type(exc).__name__)}",
                request_sent=not never_left,
                method="POST",
                url=self._safe_url,
            ) from None
        if 200 <= response.status_code < 300:
            return
        text = self._redact(response.text if response.content else "")
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._now())
        cls_status = status_error_class(response.status_code)
        if 300 <= response.status_code < 400:
            message = "the receiver redirected (redirects are not followed: use the final URL)"
        else:
            message = self._redact(response.reason_phrase or "error")
        raise cls_status(
            f"webhook {self.name!r}: {message}",
            status_code=response.status_code,
            method="POST",
            url=self._safe_url,
            body_excerpt=text,
            headers={
                k.lower(): self._redact(v)
                for k, v in response.headers.items()
                if k.lower() in ("retry-after", "content-type", "x-request-id")
            },
            retry_after=retry_after,
        )

    def send(self, alert: Alert) -> None:
        """Post ``alert``, retrying transient failures; raise an
        :class:`~mirakl_sync.errors.APIError` subclass when it finally fails."""
        body = self.render(alert)
        delivery = delivery_id(alert)
        attempt = 0
        while True:
            attempt += 1
            try:
                self._post_once(body, delivery)
            except APIError as exc:
                wait: float | None = None
                if attempt <= self._policy.max_retries and self._policy.should_retry(
                    "POST", exc, idempotent=True
                ):
                    wait = self._policy.wait_before_retry(attempt, exc, self._rand)
                if wait is None:
                    logger.warning(
                        "webhook %s: delivery of %s failed after %d attempt(s): %s",
                        self.name,
                        alert.key,
                        attempt,
                        exc,
                        extra={"alert_key": alert.key, "sink": self.name, "attempt": attempt},
                    )
                    raise
                status = exc.status_code if isinstance(exc, APIStatusError) else None
                logger.info(
                    "webhook %s: attempt %d for %s failed (%s), retrying in %.2fs",
                    self.name,
                    attempt,
                    alert.key,
                    status or type(exc).__name__,
                    wait,
                    extra={"alert_key": alert.key, "sink": self.name, "attempt": attempt},
                )
                self._sleep(wait)
                continue
            logger.debug(
                "webhook %s: delivered %s (attempt %d)",
                self.name,
                alert.key,
                attempt,
                extra={"alert_key": alert.key, "sink": self.name, "attempt": attempt},
            )
            return
