"""The HTML health report: content, grouping, escaping, self-containment, and a real browser.

The browser tests render the page with Debian's ``chromium`` in headless mode and check:

* the screenshot is a real PNG of the requested size that is not blank (decoded with the standard
  library: more than one colour, and many pixel rows that are not a single colour);
* the browser logged no console message at all (``--enable-logging=stderr --v=0`` prints every
  console message, including uncaught errors and Content-Security-Policy violations, as
  ``INFO:CONSOLE`` lines): the page runs no script and loads nothing;
* the DOM chromium built (``--dump-dom``) is complete: it ends with the footer and holds one row per
  open discrepancy and per flow.

They skip when chromium is missing, except when ``MIRAKL_SYNC_REQUIRE_BROWSER`` is set (CI), where a
missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from mirakl_sync.engine.html_report import UNASSIGNED_OWNER, discrepancy_view, render_health_html
from mirakl_sync.engine.reports import FlowHealth, HealthReport
from mirakl_sync.storage.records import DiscrepancyRecord, DiscrepancyStatus
from tests.engine.world import SHOP, make_world, stock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------------- builders


def _health(flows: Sequence[FlowHealth] = (), **overrides: object) -> HealthReport:
    fields: dict[str, object] = {
        "generated_at": NOW,
        "flows": tuple(flows),
        "backlog": 3,
        "oldest_pending": timedelta(minutes=7),
        "parked": 0,
        "failed": 0,
        "min_acceptance_slack": timedelta(hours=30),
        "orders_waiting_acceptance": 1,
        "open_discrepancies": {},
    }
    fields.update(overrides)
    return HealthReport(**fields)  # type: ignore[arg-type]


def _flow(shop: str = "shop-a", job: str = "pull_orders", **overrides: object) -> FlowHealth:
    fields: dict[str, object] = {
        "shop": shop,
        "job": job,
        "last_success": NOW - timedelta(minutes=4),
        "last_outcome": "success",
    }
    fields.update(overrides)
    return FlowHealth(**fields)  # type: ignore[arg-type]


def _record(
    kind: str,
    severity: str,
    entity: str,
    *,
    shop: str = "shop-a",
    message: str | None = None,
    owner: str | None = None,
    status: DiscrepancyStatus = DiscrepancyStatus.OPEN,
    details: object = "default",
) -> DiscrepancyRecord:
    key = f"{kind}:{shop}:{entity}"
    if details == "default":
        details = {
            "kind": kind,
            "severity": severity,
            "key": key,
            "shop": shop,
            "entities": f"offer_sku={entity}",
            "message": message or f"{kind} on {entity}: do something.",
        }
        if owner is not None:
            details["owner"] = owner
    return DiscrepancyRecord(
        shop=shop,
        key=key,
        kind=kind,
        severity=severity,
        status=status,
        details=details,  # type: ignore[arg-type]
        first_seen=NOW - timedelta(hours=1),
        last_seen=NOW,
    )


class _Structure(HTMLParser):
    """Collects tags and the data-owner / data-severity / data-key nesting of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []
        self.order: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.append((tag, name, value))
            if name in ("data-owner", "data-severity", "data-key") and value is not None:
                self.order.append((name, value))


def _parse(page: str) -> _Structure:
    parser = _Structure()
    parser.feed(page)
    parser.close()
    return parser


# --------------------------------------------------------------------------- a sandbox run


@attrs.frozen
class SandboxRun:
    health: HealthReport
    records: list[DiscrepancyRecord]


@pytest.fixture(scope="module")
def sandbox_run(tmp_path_factory: pytest.TempPathFactory) -> SandboxRun:
    """A real synchronizer run on the sandboxes: an unmapped offer (UNMAPPED_SKU), an order close
    to its acceptance deadline (ACCEPTANCE_AT_RISK), then an hour with no run (stale flows)."""
    world = make_world(tmp_path_factory.mktemp("html-report"))
    for i in range(4):
        stock(world, f"SKU-{i}", 10)
    world.mirakl.add_offer("GHOST-1", quantity=4, price="5.00")  # no inventory item
    world.mirakl.place_order([("SKU-0", 1), ("GHOST-1", 1)])  # manual: waits for a human
    world.mirakl.place_order([("SKU-1", 2)])
    world.run_for(minutes=20)
    world.advance(days=2, hours=14)
    world.run_for(minutes=10)
    world.advance(hours=1)
    records = world.sync.storage.list_discrepancies(shop=SHOP, status=DiscrepancyStatus.OPEN)
    return SandboxRun(health=world.sync.health(), records=records)


def test_sandbox_run_page_shows_flows_summary_and_discrepancies(sandbox_run: SandboxRun) -> None:
    page = render_health_html(sandbox_run.health, sandbox_run.records)
    kinds = {r.kind for r in sandbox_run.records}
    assert {"UNMAPPED_SKU", "ACCEPTANCE_AT_RISK"} <= kinds
    structure = _parse(page)
    assert {"svg", "rect", "table", "header", "footer"} <= structure.tags
    for flow in sandbox_run.health.flows:
        assert f"<td>{flow.shop}</td><td>{flow.job}</td>" in page
    assert page.count('class="discrepancy"') == len(sandbox_run.records)
    assert "GHOST-1" in page
    assert "ATTENTION" in page  # flows went stale during the hour without a run
    assert "stale flows" in page
    # The unmapped offer is the ecommerce team's, the order at risk operations'.
    owners = [v for n, v in structure.order if n == "data-owner"]
    assert owners == ["operations", "ecommerce"]
    assert "Orders waiting acceptance" in page
    assert f">{sandbox_run.health.orders_waiting_acceptance}<" in page


def test_verdict_ok_when_healthy() -> None:
    page = render_health_html(_health([_flow()]), [])
    assert '<p id="verdict">OK ' in page
    assert "Nothing open." in page
    assert "No open discrepancy." in page


def test_summary_fields() -> None:
    health = _health(
        [_flow(), _flow(job="push_stock", last_success=None, last_outcome=None, stale=True)],
        backlog=12,
        oldest_pending=timedelta(hours=2, minutes=5),
        parked=2,
        failed=1,
        min_acceptance_slack=timedelta(hours=-3),
        orders_waiting_acceptance=4,
        open_discrepancies={"critical": 1, "warning": 2},
        failed_alert_deliveries=5,
    )
    page = render_health_html(health, [])
    for label, value in [
        ("Backlog (outbox)", "12"),
        ("Oldest pending", "2 h 05 min"),
        ("Parked (needs a human)", "2"),
        ("Failed writes", "1"),
        ("Orders waiting acceptance", "4"),
        ("Min acceptance slack", "missed by 3 h 00 min"),
        ("Open discrepancies", "3"),
        ("Failed alert deliveries", "5"),
        ("Stale flows", "1"),
    ]:
        assert re.search(
            rf'<div class="label">{re.escape(label)}</div><div class="value">{re.escape(value)}<',
            page,
        ), label
    assert "1 critical, 2 warning" in page
    assert "ATTENTION (stale flows, parked writes, critical discrepancies)" in page
    assert "never" in page  # the push_stock flow never succeeded


def test_discrepancies_are_grouped_by_owner_team_then_severity() -> None:
    """Teams with the most severe open discrepancy first (then the most open), severities from
    critical down, rows by kind and key."""
    records = [
        _record("STOCK_DRIFT", "warning", "B"),  # inventory
        _record("OVERSELL_RISK", "critical", "A"),  # inventory
        _record("OVERSELL_RISK", "error", "C"),  # inventory
        _record("UNMAPPED_SKU", "warning", "D"),  # ecommerce
        _record("COMMISSION_MISMATCH", "warning", "O-1"),  # finance
        _record("SYNC_STALE", "error", "orders"),  # operations
        _record("ACCEPTANCE_FAILED", "critical", "O-2"),  # operations
        _record("STOCK_DRIFT", "warning", "Z", status=DiscrepancyStatus.RESOLVED),
    ]
    page = render_health_html(_health(), records)
    order = _parse(page).order
    assert order == [
        ("data-owner", "inventory"),
        ("data-severity", "critical"),
        ("data-key", "OVERSELL_RISK:shop-a:A"),
        ("data-severity", "error"),
        ("data-key", "OVERSELL_RISK:shop-a:C"),
        ("data-severity", "warning"),
        ("data-key", "STOCK_DRIFT:shop-a:B"),
        ("data-owner", "operations"),
        ("data-severity", "critical"),
        ("data-key", "ACCEPTANCE_FAILED:shop-a:O-2"),
        ("data-severity", "error"),
        ("data-key", "SYNC_STALE:shop-a:orders"),
        ("data-owner", "ecommerce"),
        ("data-severity", "warning"),
        ("data-key", "UNMAPPED_SKU:shop-a:D"),
        ("data-owner", "finance"),
        ("data-severity", "warning"),
        ("data-key", "COMMISSION_MISMATCH:shop-a:O-1"),
    ]
    assert "STOCK_DRIFT:shop-a:Z" not in page  # resolved: not shown
    assert "inventory team (3)" in page
    assert "STOCK_DRIFT on B: do something." in page  # the human message
    # The chart has one bar per owner team and severity, with its count.
    assert "inventory: 1 critical</title>" in page
    assert "operations: 1 error</title>" in page


def test_owner_falls_back_to_the_kind_default_then_unassigned() -> None:
    no_details = _record("REFUND_NOT_PROPAGATED", "error", "X", details=None)
    assert discrepancy_view(no_details)["owner"] == "finance"
    assert discrepancy_view(no_details)["message"] == "(no message recorded)"
    unknown = _record("SOMETHING_NEW", "error", "Y")
    assert discrepancy_view(unknown)["owner"] == UNASSIGNED_OWNER
    recorded = _record("UNMAPPED_SKU", "warning", "Z", owner="operations")
    assert discrepancy_view(recorded)["owner"] == "operations"  # what was recorded wins
    page = render_health_html(_health(), [no_details, unknown])
    assert [v for n, v in _parse(page).order if n == "data-owner"] == ["finance", "unassigned"]


HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;"


def test_every_string_from_data_is_escaped() -> None:
    health = _health(
        [_flow(shop=HOSTILE, job=HOSTILE, last_outcome=HOSTILE, last_error=HOSTILE)],
        open_discrepancies={HOSTILE: 1},
    )
    records = [
        _record(HOSTILE, HOSTILE, HOSTILE, shop=HOSTILE, message=HOSTILE, owner=HOSTILE),
        _record("UNMAPPED_SKU", "warning", "A", message=HOSTILE),
    ]
    page = render_health_html(health, records, title=HOSTILE)
    assert "<script" not in page
    assert "<img" not in page
    assert "onerror=alert" not in page.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&gt;&lt;img src=x" in page
    assert "&amp;amp;" in page  # an entity in data is shown literally, not interpreted
    structure = _parse(page)
    allowed = {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p",
        "main", "section", "div", "span", "figure", "figcaption", "svg", "rect", "text", "i",
        "table", "thead", "tbody", "tr", "th", "td", "footer",
    }  # fmt: skip
    assert structure.tags <= allowed
    assert not [a for a in structure.attributes if a[1].startswith("on")]
    # The hostile values survive as text for the reader.
    assert page.count("&lt;script&gt;alert(1)") >= 8


def test_page_is_self_contained() -> None:
    page = render_health_html(
        _health([_flow()]),
        [_record("UNMAPPED_SKU", "warning", "A", message="see https://example.com/help")],
    )
    structure = _parse(page)
    urls = [v or "" for _, name, v in structure.attributes if name in ("src", "href")]
    assert not [u for u in urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page
    assert "<script" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert "Content-Security-Policy" in page
    assert "default-src &#x27;none&#x27;" in page or "default-src 'none'" in page
    assert page.startswith("<!DOCTYPE html>")


# ------------------------------------------------------------------------------------ browser


def _chromium() -> str:
    """The chromium binary; skip (or fail under ``MIRAKL_SYNC_REQUIRE_BROWSER``) without it."""
    found = os.environ.get("MIRAKL_SYNC_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None
    )
    if found and Path(found).exists():
        return found
    reason = (
        "chromium is not installed (apt-get install -y chromium); set MIRAKL_SYNC_CHROMIUM "
        "to another binary"
    )
    if os.environ.get("MIRAKL_SYNC_REQUIRE_BROWSER"):
        pytest.fail(f"MIRAKL_SYNC_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--enable-logging=stderr",
    "--v=0",
)


def _run_chromium(
    binary: str, tmp: Path, page: Path, *mode: str
) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    env = dict(os.environ, HOME=str(tmp), XDG_CONFIG_HOME=str(tmp), XDG_CACHE_HOME=str(tmp))
    return subprocess.run(
        [binary, *_FLAGS, f"--user-data-dir={profile}", *mode, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def _console_lines(stderr: str) -> list[str]:
    """Console messages (any level: errors, uncaught exceptions, CSP violations)."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def _screenshot(binary: str, tmp: Path, page: Path) -> tuple[Path, str]:
    png = tmp / f"{page.stem}.png"
    done = _run_chromium(binary, tmp, page, f"--screenshot={png}", "--window-size=1280,1600")
    assert done.returncode == 0, done.stderr[-3000:]
    assert png.exists(), done.stderr[-3000:]
    return png, done.stderr


def _png_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG into rows of pixels (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8, depth
            assert interlace == 0, interlace
            bpp = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    low = int.from_bytes(b"\x7f" * stride, "big")
    high = int.from_bytes(b"\x80" * stride, "big")
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind_byte = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind_byte == 2:  # Up: bytewise add without carries, on big integers
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray((((a & low) + (b & low)) ^ ((a ^ b) & high)).to_bytes(stride, "big"))
        elif kind_byte == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind_byte == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind_byte == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        else:
            assert kind_byte == 0, f"unknown PNG filter {kind_byte}"
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def _write(tmp: Path, name: str, page: str) -> Path:
    path = tmp / name
    path.write_text(page, encoding="utf-8")
    return path


@pytest.mark.slow
def test_chromium_renders_the_page_without_errors(sandbox_run: SandboxRun, tmp_path: Path) -> None:
    binary = _chromium()
    page = _write(
        tmp_path, "health.html", render_health_html(sandbox_run.health, sandbox_run.records)
    )

    png, stderr = _screenshot(binary, tmp_path, page)
    width, height, rows = _png_rows(png.read_bytes())
    assert (width, height) == (1280, 1600)
    bpp = len(rows[0]) // width
    colours = {row[i : i + bpp] for row in rows[::4] for i in range(0, len(row), bpp)}
    assert len(colours) > 1, "the screenshot is blank"
    busy_rows = sum(1 for row in rows if row != row[:bpp] * width)
    assert busy_rows > 200, f"only {busy_rows} pixel rows show anything"
    assert _console_lines(stderr) == []

    dom = _run_chromium(binary, tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert _console_lines(dom.stderr) == []
    assert 'id="report-end"' in dom.stdout
    assert dom.stdout.rstrip().endswith("</html>")
    assert dom.stdout.count('class="discrepancy"') == len(sandbox_run.records)
    assert dom.stdout.count("<svg") == 2
    for flow in sandbox_run.health.flows:
        assert f"<td>{flow.job}</td>" in dom.stdout


@pytest.mark.slow
def test_the_console_check_catches_errors_and_external_loads(tmp_path: Path) -> None:
    """The same check on a broken page does find its errors (the check is not vacuous)."""
    binary = _chromium()
    good = render_health_html(_health([_flow()]), [])
    broken = good.replace(
        "</main>",
        '<img src="https://example.invalid/logo.png"><script>undefinedFunction()</script></main>',
    )
    page = _write(tmp_path, "broken.html", broken)
    _, stderr = _screenshot(binary, tmp_path, page)
    lines = _console_lines(stderr)
    assert any("https://example.invalid/logo.png" in ln for ln in lines), stderr[-3000:]
    assert any("inline script" in ln for ln in lines), stderr[-3000:]
    without_csp = _write(
        tmp_path,
        "no-csp.html",
        "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction()</script></body></html>",
    )
    _, stderr = _screenshot(binary, tmp_path, without_csp)
    assert any("Uncaught" in ln for ln in _console_lines(stderr)), stderr[-3000:]
