"""HTTP plumbing shared by the sandboxes: routing, request parsing, call recording, frequency
limits, fault application, the in-process ``httpx`` transport and the loopback HTTP server.

A sandbox is one request handler ``(httpx.Request) -> httpx.Response``. :class:`SandboxTransport`
plugs it into ``httpx.Client`` and ``httpx.AsyncClient``; :class:`LoopbackServer` serves it from
a stdlib ``ThreadingHTTPServer`` bound to 127.0.0.1 in a background thread.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx

from mirakl_sync.sandbox.clock import SandboxClock
from mirakl_sync.sandbox.faults import FaultKind, FaultRule, Faults

__all__ = [
    "BaseSandbox",
    "CallLog",
    "FrequencyLimit",
    "HTTPProblem",
    "LoopbackServer",
    "RecordedCall",
    "RequestContext",
    "Route",
    "SandboxTransport",
    "json_response",
]

JSON = Any
REDACTED = "***"
_SECRET_HEADERS = frozenset({"authorization", "account", "cookie", "proxy-authorization"})


class HTTPProblem(Exception):
    """Raised by a route handler to answer with an error status (rendered by the sandbox)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


def json_bytes(body: JSON) -> bytes:
    """The compact UTF-8 JSON the sandbox sends."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(
    body: JSON, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A JSON response (compact, UTF-8)."""
    content = json_bytes(body)
    all_headers = {"Content-Type": "application/json;charset=UTF-8"}
    all_headers.update(headers or {})
    return httpx.Response(status, content=content, headers=all_headers)


def text_response(text: str, content_type: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers={"Content-Type": content_type})


@dataclass(frozen=True)
class UploadedFile:
    """A ``multipart/form-data`` part that carried a file."""

    filename: str | None
    content_type: str | None
    content: bytes


class RequestContext:
    """A parsed request as route handlers see it."""

    def __init__(self, request: httpx.Request, path_params: dict[str, str], now: datetime) -> None:
        self.request = request
        self.path_params = path_params
        self.now = now
        self.query: list[tuple[str, str]] = parse_qsl(
            request.url.query.decode("ascii"), keep_blank_values=True
        )
        self.body = request.content
        self.shop_id: int | None = None
        self._form: tuple[dict[str, str], dict[str, UploadedFile]] | None = None

    @property
    def base_url(self) -> str:
        """Scheme, host and port the caller used (to build absolute URLs it can follow)."""
        url = self.request.url
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def q(self, name: str) -> str | None:
        """The last value of a query parameter (``None`` when absent or empty)."""
        values = [v for k, v in self.query if k == name]
        if not values or values[-1] == "":
            return None
        return values[-1]

    def q_all(self, name: str, *, split: bool = False) -> list[str]:
        """Every value of a repeatable parameter (comma-split too when ``split``)."""
        values = [v for k, v in self.query if k == name]
        if split:
            values = [part.strip() for v in values for part in v.split(",")]
        return [v for v in values if v]

    def q_int(self, name: str, default: int | None = None) -> int | None:
        raw = self.q(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise HTTPProblem(400, f"Invalid value '{raw}' for the parameter : {name}") from None

    def q_bool(self, name: str) -> bool | None:
        raw = self.q(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise HTTPProblem(400, f"Invalid value '{raw}' for the parameter : {name}")

    def q_datetime(self, name: str) -> datetime | None:
        raw = self.q(name)
        return None if raw is None else parse_datetime(raw, name)

    def json(self) -> JSON:
        """The JSON body (400 when it is missing or not JSON)."""
        if not self.body:
            raise HTTPProblem(400, "Request body is missing")
        try:
            return json.loads(self.body)
        except ValueError:
            raise HTTPProblem(400, "Request body is not valid JSON") from None

    def form(self) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        """``multipart/form-data`` fields and files (400 when the body is not multipart)."""
        if self._form is None:
            self._form = parse_multipart(self.request.headers.get("content-type", ""), self.body)
        return self._form


def parse_datetime(raw: str, name: str = "date") -> datetime:
    """An ISO-8601 date-time (``Z`` or offset, with or without fraction) as aware UTC."""
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise HTTPProblem(400, f"Invalid date '{raw}' for the parameter : {name}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    if "multipart/form-data" not in content_type.lower():
        raise HTTPProblem(400, "The request must be multipart/form-data")
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    if not message.is_multipart():
        raise HTTPProblem(400, "Malformed multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), data)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files


Handler = Callable[..., httpx.Response]


@dataclass(frozen=True)
class Route:
    """One operation: method, path pattern (``{name}`` segments) and handler."""

    method: str
    pattern: str
    operation: str
    handler: Handler
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        object.__setattr__(self, "regex", re.compile(f"^{regex}/?$"))


@dataclass(frozen=True)
class RecordedCall:
    """One request the sandbox received, and what happened to it.

    ``status`` is ``None`` when the transport raised instead of answering (``fault`` says which).
    ``applied`` tells whether the request reached the simulator's state (a ``response_lost``
    fault applies the request but the caller sees an error).
    """

    seq: int
    at: datetime
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    operation: str | None
    status: int | None
    fault: str | None
    applied: bool
    latency: float = 0.0

    @property
    def params(self) -> dict[str, str]:
        """Query parameters as a dict (last value wins)."""
        return dict(self.query)

    def json(self) -> JSON:
        """The request body parsed as JSON."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        outcome = self.status if self.status is not None else self.fault
        return f"<{self.operation or '?'} {self.method} {self.path} -> {outcome}>"


class CallLog:
    """The exact, ordered history of requests a sandbox received (thread-safe)."""

    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []
        self._lock = threading.Lock()

    def append(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def __iter__(self) -> Iterator[RecordedCall]:
        with self._lock:
            return iter(list(self._calls))

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __getitem__(self, index: int) -> RecordedCall:
        with self._lock:
            return self._calls[index]

    def for_operation(self, operation: str) -> list[RecordedCall]:
        return [c for c in self if c.operation == operation]

    def operations(self) -> list[str | None]:
        """The operation code of every call, in order."""
        return [c.operation for c in self]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass(frozen=True)
class FrequencyLimit:
    """At most ``count`` calls per ``window`` (on the sandbox clock)."""

    count: int
    window: timedelta


class FrequencyLimiter:
    """Sliding-window call counters keyed by (operation, scope)."""

    def __init__(self) -> None:
        self._calls: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(
        self, operation: str, scope: str, limits: Sequence[FrequencyLimit], now: datetime
    ) -> float | None:
        """Record the call and return ``None``, or return seconds to wait when over a limit."""
        if not limits:
            return None
        key = (operation, scope)
        longest = max(limit.window for limit in limits)
        with self._lock:
            history = self._calls.setdefault(key, deque())
            while history and history[0] <= now - longest:
                history.popleft()
            wait = 0.0
            for limit in limits:
                recent = [t for t in history if t > now - limit.window]
                if len(recent) >= limit.count:
                    oldest = recent[-limit.count]
                    wait = max(wait, (oldest + limit.window - now).total_seconds())
            if wait > 0:
                return wait
            history.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()


class BaseSandbox:
    """Request handling common to both sandboxes: routing, auth hook, faults, frequency limits,
    call recording. Subclasses register routes and implement :meth:`authenticate` and
    :meth:`error_body`."""

    #: used in docs/reprs
    name = "sandbox"

    def __init__(self, *, clock: SandboxClock | None, seed: int, faults: Faults | None) -> None:
        self.clock = clock or SandboxClock()
        self.seed = seed
        self.faults = faults if faults is not None else Faults(seed)
        self.calls = CallLog()
        self.enforce_frequencies = True
        self.frequency_limits: dict[str, tuple[FrequencyLimit, ...]] = {}
        self._limiter = FrequencyLimiter()
        self._routes: list[Route] = []
        self._lock = threading.RLock()
        self._seq = 0

    # -- routing ---------------------------------------------------------------------------

    def route(self, method: str, pattern: str, operation: str, handler: Handler) -> None:
        self._routes.append(Route(method, pattern, operation, handler))

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for route in self._routes:
            m = route.regex.match(path)
            if m is None:
                continue
            path_known = True
            if route.method == method:
                return route, m.groupdict(), True
        return None, {}, path_known

    def operation_for(self, request: httpx.Request) -> str | None:
        """The operation code a request maps to (``None`` for unknown paths)."""
        route, _, _ = self._match(request.method, request.url.path)
        return route.operation if route else None

    # -- hooks -----------------------------------------------------------------------------

    def authenticate(self, ctx: RequestContext, route: Route) -> None:
        """Raise :class:`HTTPProblem` (401/403) when the credentials are wrong."""

    def error_body(self, status: int, message: str, code: str | None) -> JSON:
        return {"message": message, "status": status}

    def frequency_scope(self, ctx: RequestContext, route: Route) -> str | None:
        """The counter a call is charged to, or ``None`` when it is exempt."""
        return str(ctx.shop_id)

    def advance_state(self, now: datetime) -> None:
        """Fire due simulated events (called before every request)."""

    # -- handling --------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Serve one request: the sandbox as an ``(httpx.Request) -> httpx.Response`` function.

        Transport faults surface as raised ``httpx`` exceptions (``ReadTimeout``,
        ``ConnectError``, ``RemoteProtocolError``).
        """
        request.read()
        with self._lock:
            now = self.clock.now()
            self.advance_state(now)
            route, params, path_known = self._match(request.method, request.url.path)
            operation = route.operation if route else None
            fault = (
                self.faults.draw(operation)
                if route and not route.operation.startswith("SANDBOX")
                else None
            )
            status: int | None = None
            applied = False
            latency = 0.0
            try:
                if fault is not None and fault.kind in _NOT_APPLIED:
                    response = self._fault_response(fault, request)
                    status = response.status_code
                    return response
                response, applied = self._dispatch(request, route, params, path_known, now)
                status = response.status_code
                if fault is not None:
                    return self._after_apply_fault(fault, request, response)
                return response
            except httpx.TransportError:
                status = None
                raise
            finally:
                if fault is not None and fault.kind is FaultKind.SLOW:
                    latency = fault.delay
                self._record(request, now, operation, status, fault, applied, latency)

    def _dispatch(
        self,
        request: httpx.Request,
        route: Route | None,
        params: dict[str, str],
        path_known: bool,
        now: datetime,
    ) -> tuple[httpx.Response, bool]:
        ctx = RequestContext(request, params, now)
        try:
            if route is None:
                if path_known:
                    raise HTTPProblem(405, f"Request method '{request.method}' not supported")
                raise HTTPProblem(404, f"No resource found for {request.url.path}")
            self.authenticate(ctx, route)
            if self.enforce_frequencies:
                limits = self.frequency_limits.get(route.operation, ())
                scope = self.frequency_scope(ctx, route) if limits else None
                if scope is not None:
                    wait = self._limiter.check(route.operation, scope, limits, now)
                    if wait is not None:
                        seconds = max(1, math.ceil(wait))
                        raise HTTPProblem(
                            429,
                            f"Too Many Requests: {route.operation} is limited, retry in {seconds}s",
                            headers={"Retry-After": str(seconds)},
                        )
            response = route.handler(ctx, **params)
            return response, response.status_code < 400
        except HTTPProblem as problem:
            body = self.error_body(problem.status, problem.message, problem.code)
            return json_response(body, problem.status, problem.headers), False

    def _retry_after(self, fault: FaultRule) -> dict[str, str]:
        if fault.retry_after is None:
            return {}
        if fault.http_date:
            when = self.clock.now() + timedelta(seconds=fault.retry_after)
            return {"Retry-After": format_datetime(when, usegmt=True)}
        return {"Retry-After": str(math.ceil(fault.retry_after))}

    def _fault_response(self, fault: FaultRule, request: httpx.Request) -> httpx.Response:
        if fault.kind is FaultKind.CONNECT_ERROR:
            raise httpx.ConnectError("sandbox fault: connection refused", request=request)
        if fault.kind is FaultKind.TIMEOUT:
            raise httpx.ReadTimeout("sandbox fault: read timed out", request=request)
        if fault.kind is FaultKind.DROPPED_CONNECTION:
            raise httpx.RemoteProtocolError(
                "sandbox fault: server disconnected without sending a response", request=request
            )
        if fault.kind is FaultKind.RATE_LIMIT:
            headers = self._retry_after(fault) or {"Retry-After": "1"}
            body = self.error_body(429, "Too Many Requests", None)
            return json_response(body, 429, headers)
        status = fault.status or 503
        body = self.error_body(
            status, "Service Unavailable" if status == 503 else "Server Error", None
        )
        return json_response(body, status, self._retry_after(fault))

    def _after_apply_fault(
        self, fault: FaultRule, request: httpx.Request, response: httpx.Response
    ) -> httpx.Response:
        if fault.kind is FaultKind.RESPONSE_LOST:
            if fault.status is not None:
                body = self.error_body(fault.status, "Gateway error", None)
                return json_response(body, fault.status)
            raise httpx.ReadTimeout("sandbox fault: response lost", request=request)
        # SLOW
        timeout = request.extensions.get("timeout", {})
        read_timeout = timeout.get("read") if isinstance(timeout, dict) else None
        if isinstance(read_timeout, int | float) and fault.delay >= read_timeout:
            raise httpx.ReadTimeout("sandbox fault: slow response timed out", request=request)
        if self.faults.real_sleep and fault.delay > 0:
            time.sleep(fault.delay)
        return response

    def _record(
        self,
        request: httpx.Request,
        now: datetime,
        operation: str | None,
        status: int | None,
        fault: FaultRule | None,
        applied: bool,
        latency: float,
    ) -> None:
        self._seq += 1
        headers = tuple(
            (k.lower(), REDACTED if k.lower() in _SECRET_HEADERS else v)
            for k, v in request.headers.multi_items()
        )
        self.calls.append(
            RecordedCall(
                seq=self._seq,
                at=now,
                method=request.method,
                path=request.url.path,
                query=tuple(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)),
                headers=headers,
                body=request.content,
                operation=operation,
                status=status,
                fault=fault.kind.value if fault else None,
                applied=applied,
                latency=latency,
            )
        )

    # -- access ----------------------------------------------------------------------------

    def transport(self) -> SandboxTransport:
        """An ``httpx`` transport serving this sandbox in-process (sync and async clients)."""
        return SandboxTransport(self)

    def client(self, base_url: str = "https://sandbox.invalid", **kwargs: Any) -> httpx.Client:
        """A raw ``httpx.Client`` wired to this sandbox (for exploring it by hand)."""
        return httpx.Client(transport=self.transport(), base_url=base_url, **kwargs)

    def serve(self, port: int = 0) -> LoopbackServer:
        """Start a loopback HTTP server on 127.0.0.1 (usable as a context manager)."""
        server = LoopbackServer(self, port=port)
        server.start()
        return server

    def reset_frequency_counters(self) -> None:
        self._limiter.reset()


_NOT_APPLIED = frozenset(
    {
        FaultKind.CONNECT_ERROR,
        FaultKind.TIMEOUT,
        FaultKind.DROPPED_CONNECTION,
        FaultKind.RATE_LIMIT,
        FaultKind.SERVER_ERROR,
    }
)


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves a sandbox to ``httpx.Client`` and ``httpx.AsyncClient`` without sockets."""

    def __init__(self, sandbox: BaseSandbox) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.sandbox.handle(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = self.sandbox.handle(request)
        await asyncio.sleep(0)
        return response


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add tens of milliseconds to every keep-alive response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request logging."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=[("Host", host), *headers],
            content=body,
        )
        try:
            response = self.server.sandbox.handle(request)
        except httpx.TransportError:
            # Every transport fault looks like a dropped connection over real sockets.
            self.close_connection = True
            self.connection.close()
            return
        content = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.multi_items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sandbox: BaseSandbox, port: int) -> None:
        self.sandbox = sandbox
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silence tracebacks of aborted connections."""


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving a sandbox from a background thread.

    Use as a context manager (``with sandbox.serve() as server: ... server.url``).
    """

    def __init__(self, sandbox: BaseSandbox, port: int = 0) -> None:
        self.sandbox = sandbox
        self._server = _Server(sandbox, port)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"{self.sandbox.name}-loopback", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
