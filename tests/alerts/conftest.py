"""Fixtures for the alert sink tests: sample alerts, a loopback HTTP receiver, an SMTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller

from mirakl_sync.alerts import Alert
from mirakl_sync.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

SECRET = "whsec-canary-5f3a9c1e"


def make_alert(**overrides: Any) -> Alert:
    """A realistic alert; any field can be overridden."""
    fields: dict[str, Any] = {
        "kind": "OVERSELL_RISK",
        "severity": "critical",
        "owner": "inventory",
        "key": "OVERSELL_RISK:shop-a:MUG-BLUE",
        "shop": "shop-a",
        "message": "Mirakl shows 5 MUG-BLUE but only 2 are safe to sell: lower the quantity.",
        "entities": {"offer_sku": "MUG-BLUE", "item": "MUG-BLUE"},
        "first_seen": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return Alert(**fields)


@pytest.fixture
def alert() -> Alert:
    return make_alert()


@attrs.define
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@attrs.define
class Receiver:
    """A real HTTP server on 127.0.0.1 that checks signatures and answers from a script."""

    url: str
    secret: str | None
    requests: list[Received] = attrs.field(factory=list)
    # answers popped per request: (status, headers); empty -> 204
    script: list[tuple[int, dict[str, str]]] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def answer(self) -> tuple[int, dict[str, str]]:
        with self.lock:
            return self.script.pop(0) if self.script else (204, {})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="", secret=SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            verified = state.secret is not None and verify_signature(
                state.secret,
                self.headers.get(TIMESTAMP_HEADER),
                body,
                self.headers.get(SIGNATURE_HEADER),
            )
            with state.lock:
                state.requests.append(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        verified=verified,
                    )
                )
            status, headers = state.answer()
            if state.secret is not None and not verified and status < 300:
                status, headers = 401, {}
            payload = b'{"ok": true}' if status < 300 else b'{"error": "nope"}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(0 if status == 204 else len(payload)))
            self.end_headers()
            if status != 204:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/tokenpath9876"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.define
class SMTPServer:
    host: str
    port: int
    handler: Any


class RecordingHandler:
    """An aiosmtpd handler keeping every envelope; ``reject`` makes DATA fail with 554."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.reject: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject is not None:
            return self.reject
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer(host="127.0.0.1", port=port, handler=handler)
    finally:
        controller.stop()
