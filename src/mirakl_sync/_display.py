"""Notebook helpers shared by result objects (reports, plans, deltas, pages).

Pure functions: flat JSON-safe records, an escaped and truncated HTML table, and a lazy
``to_pandas()`` behind the optional ``pandas`` extra. Nothing here prints or installs display hooks;
objects render themselves when they are the last expression of a notebook cell.

Note: our ``to_records()`` returns a *list of dicts*, unlike pandas' ``DataFrame.to_records``.

The HTML table shows at most ``MIRAKL_SYNC_DISPLAY_MAX_ROWS`` rows (default 25: the first and the
last ones with an ellipsis row between) and cuts cells at ``MIRAKL_SYNC_DISPLAY_MAX_CHARS``
characters (default 80).
"""

from __future__ import annotations

import enum
import html
import importlib
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias

from mirakl_sync.errors import MiraklSyncError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MissingExtraError",
    "RecordsDisplayMixin",
    "Scalar",
    "html_table",
    "max_chars",
    "max_rows",
    "records_to_pandas",
    "to_scalar",
]

Scalar: TypeAlias = str | int | float | bool | None
Record: TypeAlias = dict[str, Scalar]

DEFAULT_MAX_ROWS = 25
DEFAULT_MAX_CHARS = 80


class MissingExtraError(MiraklSyncError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return value if value > 0 else default


def max_rows() -> int:
    """Rows shown by ``_repr_html_`` (env ``MIRAKL_SYNC_DISPLAY_MAX_ROWS``, default 25)."""
    return _env_int("MIRAKL_SYNC_DISPLAY_MAX_ROWS", DEFAULT_MAX_ROWS)


def max_chars() -> int:
    """Characters per HTML cell (env ``MIRAKL_SYNC_DISPLAY_MAX_CHARS``, default 80)."""
    return _env_int("MIRAKL_SYNC_DISPLAY_MAX_CHARS", DEFAULT_MAX_CHARS)


def to_scalar(value: object) -> Scalar:
    """A JSON-safe scalar: ISO datetimes, ``Decimal`` as ``str``, enums as their value,
    sequences joined with ``"; "``, anything else via ``str``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return to_scalar(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, frozenset | set):
        return "; ".join(sorted(str(to_scalar(v)) for v in value))
    if isinstance(value, tuple | list):
        return "; ".join(str(to_scalar(v)) for v in value)
    return str(value)


def flat_record(fields: Mapping[str, object]) -> Record:
    """Convert every value of ``fields`` with :func:`to_scalar`."""
    return {k: to_scalar(v) for k, v in fields.items()}


def _cell(value: Scalar, limit: int) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + "\u2026"
    return html.escape(text)


def html_table(
    records: Sequence[Mapping[str, Scalar]],
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    limit_rows: int | None = None,
    limit_chars: int | None = None,
) -> str:
    """An escaped HTML table of ``records`` with a caption, the head and tail rows and an
    ellipsis row when there are more than ``limit_rows``."""
    nrows = limit_rows if limit_rows is not None else max_rows()
    nchars = limit_chars if limit_chars is not None else max_chars()
    total = len(records)
    if total > nrows:
        head_n = (nrows + 1) // 2
        tail_n = nrows - head_n
        shown: list[Mapping[str, Scalar] | None] = [
            *records[:head_n],
            None,
            *(records[total - tail_n :] if tail_n else []),
        ]
    else:
        shown = list(records)
    if columns is None:
        seen: dict[str, None] = {}
        for rec in shown:
            if rec is not None:
                seen.update(dict.fromkeys(rec))
        columns = list(seen)
    parts = ["<table>"]
    caption = f"{title} " if title else ""
    parts.append(f"<caption>{html.escape(caption)}({total} rows)</caption>")
    parts.append(
        "<thead><tr>" + "".join(f"<th>{_cell(c, nchars)}</th>" for c in columns) + "</tr></thead>"
    )
    parts.append("<tbody>")
    for rec in shown:
        if rec is None:
            parts.append("<tr>" + "".join("<td>\u2026</td>" for _ in columns) + "</tr>")
        else:
            parts.append(
                "<tr>" + "".join(f"<td>{_cell(rec.get(c), nchars)}</td>" for c in columns) + "</tr>"
            )
    parts.append("</tbody></table>")
    return "".join(parts)


def summary_html(title: str, pairs: Iterable[tuple[str, Scalar]]) -> str:
    """A small two-column key/value table."""
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{_cell(v, max_chars())}</td></tr>" for k, v in pairs
    )
    return f"<table><caption>{html.escape(title)}</caption><tbody>{rows}</tbody></table>"


def records_to_pandas(records: Sequence[Mapping[str, Scalar]]) -> pd.DataFrame:
    """``pandas.DataFrame.from_records(records)``; pandas is imported only here."""
    try:
        pandas = importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingExtraError(
            "to_pandas() needs pandas, which is optional: pip install 'mirakl-sync[pandas]'"
        ) from exc
    return pandas.DataFrame.from_records(list(records))


class RecordsDisplayMixin:
    """Adds ``_repr_html_`` and ``to_pandas`` to a class that defines ``to_records`` and
    ``_display_title`` (and optionally ``_display_summary``)."""

    __slots__ = ()

    def to_records(self) -> list[Record]:  # pragma: no cover - always overridden
        raise NotImplementedError

    def _display_title(self) -> str:  # pragma: no cover - always overridden
        return type(self).__name__

    def _display_summary(self) -> list[tuple[str, Scalar]]:
        return []

    def _repr_html_(self) -> str:
        summary = self._display_summary()
        head = summary_html(self._display_title(), summary) if summary else ""
        return head + html_table(self.to_records(), title=self._display_title())

    def to_pandas(self) -> pd.DataFrame:
        """A DataFrame with one row per record (needs the ``pandas`` extra)."""
        return records_to_pandas(self.to_records())
