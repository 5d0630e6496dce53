from __future__ import annotations

import json
import sys
import types
from datetime import timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from mirakl_sync import _display
from mirakl_sync._display import MissingExtraError, html_table, to_scalar
from mirakl_sync.core.discrepancy import DiscrepancyKind, Severity, discrepancy
from mirakl_sync.core.report import ReconciliationReport
from mirakl_sync.core.stock import stock_delta
from mirakl_sync.errors import MiraklSyncError

from .factories import NOW


def make_report(n: int = 3) -> ReconciliationReport:
    items = [
        discrepancy(
            DiscrepancyKind.UNMAPPED_SKU,
            shop="s",
            entity=f"<b>{k}</b>",
            entities=(("offer_sku", f"<b>{k}</b>"),),
            message="x" * 200,
            now=NOW,
            severity=Severity.CRITICAL if k == 0 else None,
            facts={"amount": Decimal("1.50"), "when": NOW, "reason": Severity.ERROR},
        )
        for k in range(n)
    ]
    return ReconciliationReport(
        shop="s",
        generated_at=NOW,
        discrepancies=tuple(items),
        stock_delta=stock_delta({"": {"A": 1}}, {}),  # type: ignore[dict-item]
    )


def test_repr_is_one_line() -> None:
    r = make_report()
    text = repr(r)
    assert "\n" not in text
    assert "discrepancies=3 (critical 1, warning 2)" in text
    assert "delta=1 lines" in text
    empty = ReconciliationReport(shop="", generated_at=NOW, discrepancies=())
    assert "discrepancies=0 (none)" in repr(empty)
    assert empty.ok


def test_records_are_flat_and_json_safe() -> None:
    recs = make_report().to_records()
    assert len(recs) == 3
    json.dumps(recs)
    rec = recs[0]
    assert rec["kind"] == "UNMAPPED_SKU"
    assert rec["fact_amount"] == "1.50"
    assert rec["fact_when"] == NOW.isoformat()
    assert rec["fact_reason"] == "error"
    assert all(not isinstance(v, dict | list | tuple) for v in rec.values())


def test_html_is_escaped_and_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRAKL_SYNC_DISPLAY_MAX_ROWS", "4")
    monkeypatch.setenv("MIRAKL_SYNC_DISPLAY_MAX_CHARS", "20")
    html = make_report(10)._repr_html_()
    assert "<b>" not in html.replace("<tbody>", "")  # user data escaped
    assert "&lt;b&gt;" in html
    assert "(10 rows)" in html
    assert html.count("\u2026</td>") >= 1  # ellipsis row and cut cells
    assert "x" * 25 not in html
    monkeypatch.setenv("MIRAKL_SYNC_DISPLAY_MAX_ROWS", "not-a-number")
    assert _display.max_rows() == 25


def test_html_table_small() -> None:
    out = html_table([{"a": 1, "b": None}], title="T", limit_rows=5)
    assert "<caption>T (1 rows)</caption>" in out
    assert "<td></td>" in out


def test_to_scalar() -> None:
    class E(Enum):
        X = "x"

    assert to_scalar(E.X) == "x"
    assert to_scalar(timedelta(minutes=1)) == 60.0
    assert to_scalar((1, "a")) == "1; a"
    assert to_scalar(frozenset({"b", "a"})) == "a; b"
    assert to_scalar(1.5) == 1.5
    assert to_scalar(object()).startswith("<object")  # type: ignore[union-attr]


def test_to_pandas_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes ``import pandas`` fail
    with pytest.raises(MissingExtraError, match=r"mirakl-sync\[pandas\]") as info:
        make_report().to_pandas()
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, MiraklSyncError)


def test_to_pandas_with_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    class FakeFrame:
        @staticmethod
        def from_records(records: list[dict[str, Any]]) -> str:
            calls.append(records)
            return "frame"

    fake = types.ModuleType("pandas")
    fake.DataFrame = FakeFrame  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", fake)
    report = make_report()
    assert report.to_pandas() == "frame"
    assert calls == [report.to_records()]
