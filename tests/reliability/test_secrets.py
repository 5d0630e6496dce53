"""Secrets (reliability.md §6, §7 target 13): canary credentials never leak.

A representative run with canary credentials: the Mirakl and Inventory Planner clients and the
Synchronizer against both sandboxes (SQLite storage, feeds, the HTML health report, a recorded
cassette), with DEBUG logging captured and errors provoked (401s, a 500 that echoes the key,
timeouts, connection errors, garbled bodies that echo the key). Then every captured log record,
every exception raised (``str``, ``repr`` and the formatted traceback with its chain), every file
written under the test's tmp dir (raw bytes: the SQLite database, its WAL, feeds, report,
cassette) and every committed cassette under ``tests/cassettes/`` is scanned: 0 hits.

Also: TLS verification is on by default, and turning it off takes an explicit ``verify=False``
that warns with ``RuntimeWarning``, for all four clients.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import ssl
import traceback
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr

from mirakl_sync._http import Secret
from mirakl_sync.engine.config import FeedConfig, JobIntervals, ShopConfig, SyncConfig
from mirakl_sync.engine.synchronizer import Synchronizer
from mirakl_sync.errors import (
    APIConnectionError,
    AuthenticationError,
    MiraklSyncError,
    ServerError,
)
from mirakl_sync.inventory_planner import AsyncInventoryPlannerClient, InventoryPlannerClient
from mirakl_sync.mirakl import AsyncMiraklClient, MiraklClient
from mirakl_sync.sandbox import InventoryPlannerSandbox, MiraklSandbox, SandboxClock
from mirakl_sync.testing.vcr import cassette_leaks, register_matchers
from mirakl_sync.testing.vcr import vcr_config as _vcr_config
from tests.reliability.canaries import (
    ALL_CANARIES,
    CANARIES,
    IP_ACCOUNT,
    IP_KEY,
    MIRAKL_KEY,
    hits,
)

MIRAKL_URL = "https://mirakl.canary.sandbox"
IP_URL = "https://ip.canary.sandbox"
SHOP_ID = 2001
COMMITTED_CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"


class Exceptions:
    """Collects every exception the run provokes."""

    def __init__(self) -> None:
        self.caught: list[BaseException] = []

    def expect(self, kind: type[BaseException], action: Callable[[], Any]) -> BaseException:
        with pytest.raises(kind) as info:
            action()
        self.caught.append(info.value)
        return info.value

    def texts(self) -> Iterator[tuple[str, str]]:
        """``str``, ``repr`` and the formatted traceback (with ``__cause__``/``__context__``)."""
        for exc in self.caught:
            yield f"str({type(exc).__name__})", str(exc)
            yield f"repr({type(exc).__name__})", repr(exc)
            yield f"traceback({type(exc).__name__})", "".join(traceback.format_exception(exc))

    def attributes(self) -> Iterator[tuple[str, str]]:
        for exc in self.caught:
            for name, value in vars(exc).items():
                yield f"{type(exc).__name__}.{name}", repr(value)


def _echo_key_500(request: httpx.Request) -> httpx.Response:
    """A broken proxy that echoes the credentials it saw, in the body and a header."""
    seen = f"{request.headers.get('authorization')} {request.headers.get('account', '')}"
    return httpx.Response(
        500,
        json={"message": f"internal error for key {seen}", "status": 500},
        headers={"X-Debug-Auth": seen},
    )


def _echo_key_in_garbage(request: httpx.Request) -> httpx.Response:
    """A 200 whose body is not JSON and contains the key."""
    return httpx.Response(200, content=f"<html>key={request.headers['authorization']}".encode())


def _timeout_with_key(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout(
        f"read timed out (auth {request.headers['authorization']})", request=request
    )


def _connect_error_with_url(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)


def _log_texts(records: list[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    formatter = logging.Formatter()
    for record in records:
        yield f"log {record.name}", formatter.format(record)
        yield f"log {record.name} fields", repr(vars(record))


def _representative_run(tmp_path: Path, errors: Exceptions) -> None:
    clock = SandboxClock()
    mirakl = MiraklSandbox(clock=clock, seed=11, default_shop=False)
    mirakl.add_shop(SHOP_ID, api_key=MIRAKL_KEY)
    ip = InventoryPlannerSandbox(clock=clock, seed=11, api_key=IP_KEY, account=IP_ACCOUNT)
    ip.add_warehouse("main")

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    mirakl_client = MiraklClient(
        MIRAKL_URL,
        MIRAKL_KEY,
        shop_id=SHOP_ID,
        transport=mirakl.transport(),
        now=clock.now,
        sleep=sleep,
    )
    ip_client = InventoryPlannerClient(
        IP_KEY, IP_ACCOUNT, base_url=IP_URL, transport=ip.transport(), now=clock.now, sleep=sleep
    )
    config = SyncConfig(
        shops=(
            ShopConfig(
                key="shop-a",
                marketplace="sandbox",
                base_url=MIRAKL_URL,
                api_key=Secret(MIRAKL_KEY),
                shop_id=SHOP_ID,
                acceptance_window=timedelta(days=3),
            ),
        ),
        feeds=FeedConfig(kind="starter", directory=str(tmp_path / "feeds")),
        jobs=JobIntervals.from_mapping({"sales_feed": "5m", "reconcile": "5m"}),
        storage=f"sqlite:///{tmp_path / 'sync.db'}",
    )
    assert not hits(repr(config))
    sync = Synchronizer(config, mirakl=mirakl_client, inventory_planner=ip_client, clock=clock.now)
    assert not hits(repr(sync))

    for i in range(5):
        ip.add_variant(f"SKU-{i}", stock={"main": 10 + i}, price="12.00")
        mirakl.add_offer(f"SKU-{i}", quantity=0, price="12.00")
    mirakl.place_order([("SKU-0", 1), ("SKU-1", 2)])
    mirakl.place_order([("SKU-2", 1)])
    # Faults on the way: 500s, 429s, timeouts, an ambiguous write.
    mirakl.faults.add("server_error", "OR11", times=2, status=500)
    mirakl.faults.add("rate_limit", "OF21", times=1, retry_after=1)
    mirakl.faults.add("timeout", "OR21", times=1)
    mirakl.faults.add("response_lost", "STO01", times=1)
    ip.faults.add("timeout", "variants.list", times=1)
    ip.faults.add("server_error", "*", times=1, status=502)
    for _ in range(12):
        sync.run_once()
        clock.advance(minutes=5)

    (tmp_path / "health.html").write_text(sync.health_html(), encoding="utf-8")
    db_files = sorted(p.name for p in tmp_path.glob("sync.db*"))
    assert "sync.db" in db_files

    # The same clients, straight: listing calls, then provoked errors.
    assert list(mirakl_client.orders.list())
    assert list(ip_client.variants.list())
    wrong_mirakl = MiraklClient(
        MIRAKL_URL, MIRAKL_KEY, transport=MiraklSandbox(clock=clock).transport(), now=clock.now
    )
    errors.expect(AuthenticationError, lambda: wrong_mirakl.platform.configuration())
    other_ip = InventoryPlannerSandbox(clock=clock, api_key="someone-else", account="other")
    wrong_ip = InventoryPlannerClient(
        IP_KEY, IP_ACCOUNT, base_url=IP_URL, transport=other_ip.transport(), now=clock.now
    )
    errors.expect(AuthenticationError, lambda: list(wrong_ip.variants.list()))

    def mirakl_on(handler: Callable[[httpx.Request], httpx.Response]) -> MiraklClient:
        return MiraklClient(
            MIRAKL_URL,
            MIRAKL_KEY,
            shop_id=SHOP_ID,
            transport=httpx.MockTransport(handler),
            call_budget=None,
            max_retries=1,
            sleep=lambda s: None,
        )

    def ip_on(handler: Callable[[httpx.Request], httpx.Response]) -> InventoryPlannerClient:
        return InventoryPlannerClient(
            IP_KEY,
            IP_ACCOUNT,
            base_url=IP_URL,
            transport=httpx.MockTransport(handler),
            max_retries=1,
            sleep=lambda s: None,
        )

    errors.expect(ServerError, lambda: mirakl_on(_echo_key_500).platform.configuration())
    errors.expect(ServerError, lambda: list(ip_on(_echo_key_500).variants.list()))
    errors.expect(MiraklSyncError, lambda: mirakl_on(_echo_key_in_garbage).orders.list().to_list())
    errors.expect(MiraklSyncError, lambda: list(ip_on(_echo_key_in_garbage).variants.list()))
    errors.expect(APIConnectionError, lambda: mirakl_on(_timeout_with_key).platform.configuration())
    errors.expect(APIConnectionError, lambda: list(ip_on(_timeout_with_key).variants.list()))
    errors.expect(
        APIConnectionError, lambda: mirakl_on(_connect_error_with_url).platform.configuration()
    )

    async def async_errors() -> None:
        async with AsyncMiraklClient(
            MIRAKL_URL,
            MIRAKL_KEY,
            transport=httpx.MockTransport(_echo_key_500),
            call_budget=None,
            max_retries=0,
        ) as client:
            await client.platform.configuration()

    errors.expect(ServerError, lambda: asyncio.run(async_errors()))

    # A cassette recorded with the project's VCR configuration.
    recorder = vcr.VCR(
        **_vcr_config(), cassette_library_dir=str(tmp_path / "cassettes"), record_mode="all"
    )
    register_matchers(recorder)
    # vcrpy hooks httpx.MockTransport (not the sandboxes' own transport class): wrap them.
    mirakl_wire, ip_wire = mirakl.transport(), ip.transport()
    with recorder.use_cassette("canary_run.yaml"):
        fresh = MiraklClient(
            MIRAKL_URL,
            MIRAKL_KEY,
            shop_id=SHOP_ID,
            transport=httpx.MockTransport(mirakl_wire.handle_request),
            now=clock.now,
            sleep=sleep,
        )
        fresh.orders.list().to_list()
        InventoryPlannerClient(
            IP_KEY,
            IP_ACCOUNT,
            base_url=IP_URL,
            transport=httpx.MockTransport(ip_wire.handle_request),
            now=clock.now,
        ).warehouses.list()
    assert (tmp_path / "cassettes" / "canary_run.yaml").is_file()

    # Reprs of everything that held a credential.
    for holder in (mirakl_client, ip_client, sync, mirakl_client._transport, config.shops[0]):
        errors.caught.append(RuntimeError(f"repr check: {holder!r}"))
    sync.close()


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run once per module; yields (tmp dir, log records, exceptions)."""
    tmp_path = tmp_path_factory.mktemp("canary_run")
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("mirakl_sync", "httpx", "httpcore", "vcr")]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    errors = Exceptions()
    try:
        _representative_run(tmp_path, errors)
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    return tmp_path, records, errors


def test_the_run_logged_at_debug_and_provoked_errors(canary_run: Any) -> None:
    tmp_path, records, errors = canary_run
    assert any(r.levelno == logging.DEBUG and r.name.startswith("mirakl_sync") for r in records)
    assert len(errors.caught) >= 10
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {"sync.db", "health.html", "cassettes/canary_run.yaml"} <= written
    assert any(name.startswith("feeds/") for name in written)


def test_no_canary_in_debug_logs(canary_run: Any) -> None:
    _, records, _ = canary_run
    leaks = [(where, text[:200]) for where, text in _log_texts(records) if hits(text)]
    assert not leaks


def test_no_canary_in_exceptions(canary_run: Any) -> None:
    _, _, errors = canary_run
    leaks = [(where, text[:300]) for where, text in errors.texts() if hits(text)]
    assert not leaks


def test_no_canary_in_exception_attributes(canary_run: Any) -> None:
    """Body excerpts and kept response headers too: the transport masks secrets echoed in a
    body before anything parses it, and drops or masks credential headers."""
    _, _, errors = canary_run
    leaks = [(where, text[:300]) for where, text in errors.attributes() if hits(text)]
    assert not leaks


def test_no_canary_in_any_written_file(canary_run: Any) -> None:
    """Raw bytes of every file: SQLite database and WAL included (the engine stores no
    credentials), feeds, the HTML report, the recorded cassette."""
    tmp_path, _, _ = canary_run
    leaks = [
        (path.relative_to(tmp_path).as_posix(), hits(path.read_bytes()))
        for path in sorted(tmp_path.rglob("*"))
        if path.is_file() and hits(path.read_bytes())
    ]
    assert not leaks


def test_recorded_cassette_passes_the_project_leak_check(canary_run: Any) -> None:
    tmp_path, _, _ = canary_run
    assert cassette_leaks(tmp_path / "cassettes" / "canary_run.yaml", CANARIES) == []


def test_no_canary_in_committed_cassettes() -> None:
    cassettes = sorted(COMMITTED_CASSETTES.rglob("*.y*ml"))
    assert cassettes, "no committed cassettes found"
    for path in cassettes:
        assert hits(path.read_bytes(), ALL_CANARIES) == [], path.name
        assert cassette_leaks(path, ALL_CANARIES) == [], path.name


def test_session_log_scanner_catches_a_leak() -> None:
    from tests.reliability.conftest import CanaryLogScanner

    scanner = CanaryLogScanner()
    logger = logging.getLogger("mirakl_sync.reliability-selftest")
    logger.addHandler(scanner)
    logger.propagate = False  # keep the planted leak away from the session-wide scanner
    try:
        logger.warning("clean %s", "message")
        logger.warning("leaky %s", Secret(MIRAKL_KEY))  # masked: no leak
        logger.warning("leaky %s", MIRAKL_KEY[:-1] + "?")  # not the canary
        assert scanner.leaks == []
        logger.warning("leaky %s", MIRAKL_KEY)
        assert [leak[1:] for leak in scanner.leaks] == [(logger.name, MIRAKL_KEY)]
        assert "test_session_log_scanner_catches_a_leak" in scanner.leaks[0][0]
    finally:
        logger.removeHandler(scanner)
        logger.propagate = True


# --------------------------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------------------------


def _ssl_context(client: Any) -> ssl.SSLContext:
    pool = client._transport._client._transport._pool
    context = pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def _make(kind: str, **kwargs: Any) -> Any:
    if kind == "mirakl":
        return MiraklClient("https://x.mirakl.net", MIRAKL_KEY, **kwargs)
    if kind == "async-mirakl":
        return AsyncMiraklClient("https://x.mirakl.net", MIRAKL_KEY, **kwargs)
    if kind == "ip":
        return InventoryPlannerClient(IP_KEY, IP_ACCOUNT, **kwargs)
    return AsyncInventoryPlannerClient(IP_KEY, IP_ACCOUNT, **kwargs)


CLIENTS = ["mirakl", "async-mirakl", "ip", "async-ip"]
CLASSES = [MiraklClient, AsyncMiraklClient, InventoryPlannerClient, AsyncInventoryPlannerClient]


@pytest.mark.parametrize("cls", CLASSES, ids=CLIENTS)
def test_verify_is_an_explicit_keyword_defaulting_to_true(cls: type) -> None:
    parameter = inspect.signature(cls).parameters["verify"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is True


@pytest.mark.parametrize("kind", CLIENTS)
def test_tls_verification_is_on_by_default(kind: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the default path
        client = _make(kind)
    context = _ssl_context(client)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.mark.parametrize("kind", CLIENTS)
def test_turning_verification_off_warns_at_the_callers_line(kind: str) -> None:
    with pytest.warns(RuntimeWarning, match="verification is disabled") as caught:
        client = _make(kind, verify=False)
    assert _ssl_context(client).verify_mode is ssl.CERT_NONE
    # stacklevel points at the code that constructed the client, not at the library
    assert [Path(w.filename).name for w in caught] == ["test_secrets.py"]
