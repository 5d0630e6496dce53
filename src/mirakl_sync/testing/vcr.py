"""VCR (vcrpy / pytest-recording) configuration that keeps secrets and personal data out of
cassettes, and a checker that proves it.

Use it from a ``conftest.py``::

    import pytest
    from mirakl_sync.testing.vcr import vcr_config as _vcr_config

    @pytest.fixture(scope="module")
    def vcr_config():
        return _vcr_config()

Recorded interactions lose their ``Authorization`` and ``Account`` headers (Mirakl and Inventory
Planner credentials), secret query values, and every customer name, address, phone and e-mail in
Mirakl order bodies (``customer``, ``billing_address``, ``shipping_address``...), which are
replaced by ``"REDACTED"``. :func:`cassette_leaks` scans a cassette file for anything that
slipped through; run it over every committed cassette in CI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mirakl_sync._http._redact import SECRET_QUERY_NAMES

REDACTED = "REDACTED"

#: Headers that carry credentials (request side; response headers are scrubbed too).
SECRET_HEADERS = ("authorization", "account", "x-api-key", "cookie", "set-cookie")

#: JSON keys whose values are personal data in Mirakl payloads.
PERSONAL_KEYS = frozenset(
    {
        "firstname",
        "lastname",
        "company",
        "company_2",
        "street_1",
        "street_2",
        "zip_code",
        "city",
        "state",
        "phone",
        "phone_secondary",
        "email",
        "customer_notification_email",
        "additional_info",
        "civility",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def scrub_personal_data(value: Any) -> Any:
    """A copy of a JSON value with every personal field's value replaced by ``REDACTED``."""
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if key in PERSONAL_KEYS and item is not None and not isinstance(item, dict | list)
                else scrub_personal_data(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_personal_data(item) for item in value]
    if isinstance(value, str):
        return _EMAIL.sub(REDACTED, value)
    return value


def _scrub_body(body: bytes | str | None) -> bytes | str | None:
    if not body:
        return body
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(raw)
    except ValueError:
        scrubbed = _EMAIL.sub(REDACTED, raw)
    else:
        scrubbed = json.dumps(scrub_personal_data(data), ensure_ascii=False)
    return scrubbed.encode("utf-8") if isinstance(body, bytes) else scrubbed


def _before_record_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = REDACTED
    return request


def _before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [REDACTED]
    body = response.get("body", {})
    if "string" in body:
        body["string"] = _scrub_body(body["string"])
    return response


def vcr_config(**overrides: Any) -> dict[str, Any]:
    """The ``vcr_config`` for pytest-recording (the record mode comes from ``--record-mode``,
    ``none`` by default: replay only), with secrets and personal data filtered.

    Requests are matched on method, URL and :func:`wire_body_matcher` (register it in
    ``pytest_recording_configure`` with :func:`register_matchers`), so a replayed test fails if
    the client's request body changes.
    """
    config: dict[str, Any] = {
        "filter_headers": [(name, REDACTED) for name in SECRET_HEADERS],
        "filter_query_parameters": [(name, REDACTED) for name in sorted(SECRET_QUERY_NAMES)],
        "before_record_request": _before_record_request,
        "before_record_response": _before_record_response,
        "decode_compressed_response": True,
        "match_on": ["method", "scheme", "host", "port", "path", "query", "wire_body"],
    }
    config.update(overrides)
    return config


def _body_bytes(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    from email.parser import BytesParser
    from email.policy import HTTP

    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    message = BytesParser(policy=HTTP).parsebytes(raw)
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        parts.append((str(name), filename, payload if isinstance(payload, bytes) else b""))
    return parts


def _normalised_body(request: Any) -> object:
    body = _body_bytes(request)
    content_type = ""
    for name, value in request.headers.items():
        if name.lower() == "content-type":
            content_type = value if isinstance(value, str) else value[0]
    if content_type.startswith("multipart/form-data"):
        return _multipart_parts(content_type, body)
    if content_type.startswith("application/json") and body:
        return json.loads(body)
    return body


def wire_body_matcher(recorded: Any, sent: Any) -> None:
    """A vcrpy matcher: JSON bodies compared as JSON, multipart bodies part by part (the random
    boundary ignored), anything else byte for byte. Register it as ``"wire_body"``."""
    if _normalised_body(recorded) != _normalised_body(sent):
        raise AssertionError("request body differs from the recorded one")


def cassette_leaks(path: Path, known_secrets: Iterable[str] = ()) -> list[str]:
    """Everything in a cassette that looks like a leaked secret or personal data.

    Checks: credential headers whose value is not ``REDACTED``; any of ``known_secrets``
    anywhere in the file; e-mail addresses; personal fields of JSON bodies with real values.
    """
    import yaml  # vcrpy depends on PyYAML

    text = path.read_text(encoding="utf-8")
    problems = [f"{path.name}: contains a known secret" for s in known_secrets if s and s in text]
    problems += [f"{path.name}: e-mail address {m}" for m in set(_EMAIL.findall(text))]
    data = yaml.safe_load(text) or {}
    for index, interaction in enumerate(data.get("interactions", [])):
        for side in ("request", "response"):
            part = interaction.get(side, {})
            for name, values in (part.get("headers") or {}).items():
                if name.lower() in SECRET_HEADERS:
                    leaked = [v for v in values if v != REDACTED]
                    if leaked:
                        problems.append(f"{path.name}#{index} {side} header {name} not redacted")
            body = part.get("body")
            raw = body.get("string") if isinstance(body, dict) else body
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            if raw:
                problems += [f"{path.name}#{index} {side}: {p}" for p in _personal_values(raw)]
    return problems


def _personal_values(raw: str) -> list[str]:
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if (
                    key in PERSONAL_KEYS
                    and isinstance(item, str | int | float)
                    and item != REDACTED
                ):
                    found.append(f"{where}.{key} = {item!r}")
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    walk(data, "$")
    return found


def register_matchers(vcr: Any) -> None:
    """Register :func:`wire_body_matcher` as ``"wire_body"`` on a ``vcr.VCR`` instance
    (call it from the ``pytest_recording_configure(config, vcr)`` hook)."""
    vcr.register_matcher("wire_body", wire_body_matcher)
