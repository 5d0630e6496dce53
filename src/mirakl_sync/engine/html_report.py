"""A self-contained HTML page of the sync's health, for the people who run the shop.

```python
from mirakl_sync.engine.html_report import render_health_html
from mirakl_sync.storage.records import DiscrepancyStatus

health = sync.health()
open_ = [
    record
    for shop in sync.runtimes
    for record in sync.storage.list_discrepancies(shop=shop, status=DiscrepancyStatus.OPEN)
]
Path("health.html").write_text(render_health_html(health, open_), encoding="utf-8")
```

The page is one file with no external asset (inline CSS, charts as inline SVG, no JavaScript)
and a Content-Security-Policy that forbids loading anything, so it can be mailed, attached to a
ticket or opened offline. It shows, top to bottom: the verdict (the same as
:attr:`HealthReport.ok`), the backlog / parked / acceptance-slack summary, two charts (open
discrepancies per owner team by severity; each flow's age since its last success), the health of
every flow (shop, job, last success, stale, last outcome and error) and the open discrepancies
grouped by owner team then severity, each with its human message. Every string taken from data
is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from mirakl_sync.core.discrepancy import KIND_DEFAULTS, DiscrepancyKind, OwnerTeam
from mirakl_sync.storage.records import DiscrepancyRecord, DiscrepancyStatus

if TYPE_CHECKING:
    from mirakl_sync.engine.reports import FlowHealth, HealthReport

__all__ = ["UNASSIGNED_OWNER", "discrepancy_view", "render_health_html"]

#: The owner shown for a discrepancy whose record names no owner and whose kind is unknown.
UNASSIGNED_OWNER: Final = "unassigned"

_SEVERITIES: Final = ("critical", "error", "warning", "info")
_SEVERITY_COLOURS: Final = {
    "critical": "#b3261e",
    "error": "#e8710a",
    "warning": "#f2c12e",
    "info": "#5f8fd6",
}
_OTHER_SEVERITY_COLOUR: Final = "#8c8c8c"
_OWNERS: Final = tuple(team.value for team in OwnerTeam)

_CSS: Final = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial,
  sans-serif; color: #1f2328; background: #f6f7f9; }
header { padding: 18px 28px; color: #fff; background: #24527a; }
header.attention { background: #8f2d1f; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; opacity: .9; }
main { padding: 8px 28px 28px; }
section { margin: 18px 0; padding: 16px 20px; background: #fff; border: 1px solid #d8dee4;
  border-radius: 6px; }
h2 { margin: 0 0 12px; font-size: 17px; }
h3 { margin: 18px 0 8px; font-size: 15px; text-transform: capitalize; }
h4 { margin: 12px 0 6px; font-size: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { min-width: 150px; padding: 10px 14px; border: 1px solid #d8dee4; border-radius: 6px;
  background: #fbfcfd; }
.card .label { color: #57606a; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 20px; font-weight: 600; }
.card.bad { border-color: #e5a19a; background: #fdf1f0; }
.card.bad .value { color: #8f2d1f; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 0; flex: 1 1 440px; }
figcaption { margin-bottom: 6px; font-weight: 600; }
svg text { font: 12px system-ui, Arial, sans-serif; fill: #1f2328; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 5px 8px; border-bottom: 1px solid #e4e8ec; text-align: left;
  vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
td.msg { max-width: 640px; }
td.err { color: #8f2d1f; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  word-break: break-word; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: 600; }
.badge.warning { color: #1f2328; }
.stale { color: #8f2d1f; font-weight: 600; }
.ok { color: #1a7f37; }
.muted { color: #57606a; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  border-radius: 2px; }
footer { padding: 0 28px 24px; color: #57606a; font-size: 12px; }
"""

_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _e(value: object) -> str:
    """Escape any value for HTML text and quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _duration(delta: timedelta | None, *, never: str = "-") -> str:
    """``3 min``, ``2 h 05 min``, ``1 d 4 h``; negative durations keep their sign."""
    if delta is None:
        return never
    seconds = delta.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{sign}{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d {hours} h"


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _severity_colour(severity: str) -> str:
    return _SEVERITY_COLOURS.get(severity, _OTHER_SEVERITY_COLOUR)


def _badge(severity: str) -> str:
    return (
        f'<span class="badge {_e(severity)}" style="background:{_severity_colour(severity)}">'
        f"{_e(severity)}</span>"
    )


def discrepancy_view(record: DiscrepancyRecord) -> dict[str, str]:
    """The fields the page shows for one stored discrepancy.

    The reconcile job stores :meth:`Discrepancy.to_record` as the record's ``details``; the owner,
    impact, message and entities come from there, and the owner and impact fall back to the
    kind's defaults (:data:`KIND_DEFAULTS`) when the details lack them.
    """
    details: Mapping[str, object] = record.details if isinstance(record.details, Mapping) else {}
    try:
        _, impact, owner = KIND_DEFAULTS[DiscrepancyKind(record.kind)]
        default_owner, default_impact = owner.value, impact.value
    except ValueError:
        default_owner, default_impact = UNASSIGNED_OWNER, ""

    def text(name: str, default: str) -> str:
        value = details.get(name)
        return str(value) if value not in (None, "") else default

    return {
        "kind": record.kind,
        "severity": record.severity,
        "shop": record.shop,
        "key": record.key,
        "owner": text("owner", default_owner),
        "impact": text("impact", default_impact),
        "message": text("message", "(no message recorded)"),
        "entities": text("entities", ""),
    }


# ------------------------------------------------------------------------------------- charts


def _bar_chart_owners(groups: Mapping[str, Mapping[str, int]]) -> str:
    """Horizontal stacked bars: open discrepancies per owner team, split by severity."""
    owners = list(groups)
    if not owners:
        return '<p class="muted">No open discrepancy.</p>'
    label_w, bar_w, row_h, top = 110, 360, 26, 8
    width = label_w + bar_w + 50
    height = top + row_h * len(owners) + 8
    peak = max(sum(counts.values()) for counts in groups.values()) or 1
    parts = [
        f'<svg role="img" aria-label="Open discrepancies per owner team" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for row, owner in enumerate(owners):
        y = top + row * row_h
        counts = groups[owner]
        total = sum(counts.values())
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_e(owner)}</text>')
        x = float(label_w)
        for severity in _ordered_severities(counts):
            n = counts[severity]
            w = bar_w * n / peak
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{_severity_colour(severity)}"><title>{_e(owner)}: {n} {_e(severity)}'
                "</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{total}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{_severity_colour(s)}"></i>{_e(s)}</span>' for s in _SEVERITIES
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _bar_chart_ages(flows: Sequence[FlowHealth], now: datetime) -> str:
    """Horizontal bars: each flow's age since its last success (log scale, red when stale)."""
    if not flows:
        return '<p class="muted">No flow.</p>'
    label_w, bar_w, row_h, top = 200, 280, 20, 8
    width = label_w + bar_w + 110
    height = top + row_h * len(flows) + 8
    ages = [
        max((now - f.last_success).total_seconds(), 0.0) if f.last_success else None for f in flows
    ]
    known = [a for a in ages if a is not None]
    peak = math.log1p(max(known) / 60) if known else 1.0
    peak = peak or 1.0
    parts = [
        f'<svg role="img" aria-label="Age of each flow since its last success" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for row, (flow, age) in enumerate(zip(flows, ages, strict=True)):
        y = top + row * row_h
        label = f"{flow.shop} / {flow.job}"
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
        colour = "#b3261e" if flow.stale else "#2e7d4f"
        if age is None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 6}" '
                f'fill="none" stroke="#b3261e" stroke-dasharray="4 3"><title>{_e(label)}: '
                "never succeeded</title></rect>"
                f'<text x="{label_w + bar_w + 6}" y="{y + 13}">never</text>'
            )
            continue
        w = max(bar_w * math.log1p(age / 60) / peak, 2.0)
        text = _duration(timedelta(seconds=age))
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{colour}"><title>{_e(label)}: {_e(text)}'
            f"{' (stale)' if flow.stale else ''}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{_e(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts) + (
        '<div class="legend"><span><i style="background:#2e7d4f"></i>fresh</span>'
        '<span><i style="background:#b3261e"></i>stale</span>'
        '<span class="muted">log scale</span></div>'
    )


def _ordered_severities(counts: Mapping[str, int]) -> list[str]:
    known = [s for s in _SEVERITIES if counts.get(s)]
    return known + sorted(s for s in counts if s not in _SEVERITIES and counts[s])


def _severity_rank(severity: str) -> int:
    """0 for critical ... 3 for info; unknown severities rank with critical (never hidden)."""
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else 0


def _ordered_owners(groups: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Owner teams with the most severe open discrepancy first, then the most open, then the
    :class:`OwnerTeam` order (unknown owners last, by name)."""

    def rank(owner: str) -> tuple[int, int, int, str]:
        counts = groups[owner]
        worst = min((_severity_rank(s) for s, n in counts.items() if n), default=len(_SEVERITIES))
        team = _OWNERS.index(owner) if owner in _OWNERS else len(_OWNERS)
        return (worst, -sum(counts.values()), team, owner)

    return sorted(groups, key=rank)


# ----------------------------------------------------------------------------------- sections


def _summary(health: HealthReport) -> str:
    slack = health.min_acceptance_slack
    if slack is None:
        slack_text = "-"
    elif slack < timedelta(0):
        slack_text = f"missed by {_duration(-slack)}"
    else:
        slack_text = _duration(slack)
    open_total = sum(health.open_discrepancies.values())
    by_severity = ", ".join(
        f"{n} {s}"
        for s, n in sorted(
            health.open_discrepancies.items(),
            key=lambda item: (
                _SEVERITIES.index(item[0]) if item[0] in _SEVERITIES else 99,
                item[0],
            ),
        )
        if n
    )
    critical = health.open_discrepancies.get("critical", 0)
    cards: list[tuple[str, str, bool]] = [
        ("Backlog (outbox)", str(health.backlog), False),
        ("Oldest pending", _duration(health.oldest_pending), False),
        ("Parked (needs a human)", str(health.parked), health.parked > 0),
        ("Failed writes", str(health.failed), health.failed > 0),
        ("Orders waiting acceptance", str(health.orders_waiting_acceptance), False),
        (
            "Min acceptance slack",
            slack_text,
            slack is not None and slack < timedelta(hours=12),
        ),
        ("Open discrepancies", str(open_total), critical > 0),
        (
            "Failed alert deliveries",
            str(health.failed_alert_deliveries),
            health.failed_alert_deliveries > 0,
        ),
        (
            "Stale flows",
            str(sum(1 for f in health.flows if f.stale)),
            any(f.stale for f in health.flows),
        ),
    ]
    html_cards = "".join(
        f'<div class="card{" bad" if bad else ""}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div></div>'
        for label, value, bad in cards
    )
    detail = (
        f'<p class="muted">Open discrepancies by severity: {_e(by_severity)}</p>'
        if by_severity
        else ""
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<div class="cards">{html_cards}</div>{detail}</section>'
    )


def _flows_table(health: HealthReport) -> str:
    rows = []
    for flow in health.flows:
        age = (
            _duration(health.generated_at - flow.last_success)
            if flow.last_success is not None
            else "-"
        )
        stale = '<span class="stale">STALE</span>' if flow.stale else '<span class="ok">ok</span>'
        rows.append(
            "<tr>"
            f"<td>{_e(flow.shop)}</td><td>{_e(flow.job)}</td>"
            f"<td>{_e(_when(flow.last_success))}</td><td>{_e(age)}</td>"
            f"<td>{stale}</td><td>{_e(flow.last_outcome or '-')}</td>"
            f'<td class="err">{_e(flow.last_error or "")}</td>'
            "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="7" class="muted">No flow.</td></tr>'
    return (
        '<section id="flows"><h2>Flows</h2><table><thead><tr>'
        "<th>Shop</th><th>Job</th><th>Last success</th><th>Age</th><th>Stale</th>"
        "<th>Last outcome</th><th>Last error</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )


def _discrepancy_section(views: Sequence[dict[str, str]], first_seen: Sequence[str]) -> str:
    if not views:
        return (
            '<section id="discrepancies"><h2>Open discrepancies</h2>'
            '<p class="ok">Nothing open.</p></section>'
        )
    by_owner: dict[str, dict[str, list[int]]] = {}
    for index, view in enumerate(views):
        by_owner.setdefault(view["owner"], {}).setdefault(view["severity"], []).append(index)
    parts = ['<section id="discrepancies"><h2>Open discrepancies</h2>']
    owner_counts = {o: {s: len(v) for s, v in sev.items()} for o, sev in by_owner.items()}
    for owner in _ordered_owners(owner_counts):
        severities = by_owner[owner]
        total = sum(len(v) for v in severities.values())
        parts.append(
            f'<div class="owner" data-owner="{_e(owner)}"><h3>{_e(owner)} team ({total})</h3>'
        )
        counts = {s: len(v) for s, v in severities.items()}
        for severity in _ordered_severities(counts):
            indexes = sorted(
                severities[severity], key=lambda i: (views[i]["kind"], views[i]["key"])
            )
            parts.append(
                f'<div class="severity" data-severity="{_e(severity)}">'
                f"<h4>{_badge(severity)} {len(indexes)}</h4>"
                "<table><thead><tr><th>Kind</th><th>Shop</th><th>What is wrong and what to do"
                "</th><th>Entities</th><th>Impact</th><th>Since</th></tr></thead><tbody>"
            )
            for i in indexes:
                view = views[i]
                parts.append(
                    f'<tr class="discrepancy" data-key="{_e(view["key"])}">'
                    f"<td>{_e(view['kind'])}</td><td>{_e(view['shop'])}</td>"
                    f'<td class="msg">{_e(view["message"])}</td>'
                    f"<td>{_e(view['entities'])}</td><td>{_e(view['impact'])}</td>"
                    f"<td>{_e(first_seen[i])}</td></tr>"
                )
            parts.append("</tbody></table></div>")
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def render_health_html(
    health: HealthReport,
    discrepancies: Sequence[DiscrepancyRecord],
    *,
    title: str = "mirakl_sync health",
) -> str:
    """A self-contained HTML page of ``health`` and the open ``discrepancies``.

    Only records with status OPEN are shown (resolved ones passed in are ignored). No external
    asset, no JavaScript; every string from data is escaped.
    """
    open_records = sorted(
        (r for r in discrepancies if r.status == DiscrepancyStatus.OPEN),
        key=lambda r: (r.shop, r.key),
    )
    views = [discrepancy_view(r) for r in open_records]
    first_seen = [
        f"{_when(r.first_seen)}, seen {r.occurrences} times"
        if r.occurrences > 1
        else _when(r.first_seen)
        for r in open_records
    ]
    per_owner: dict[str, dict[str, int]] = {}
    for view in views:
        counts = per_owner.setdefault(view["owner"], {})
        counts[view["severity"]] = counts.get(view["severity"], 0) + 1
    per_owner = {o: per_owner[o] for o in _ordered_owners(per_owner)}
    verdict = "OK" if health.ok else "ATTENTION"
    reasons = []
    if any(f.stale for f in health.flows):
        reasons.append("stale flows")
    if health.parked:
        reasons.append("parked writes")
    if health.open_discrepancies.get("critical", 0):
        reasons.append("critical discrepancies")
    because = f" ({', '.join(reasons)})" if reasons else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f'<header class="{"ok" if health.ok else "attention"}">'
        f"<h1>{_e(title)}</h1>"
        f'<p id="verdict">{verdict}{_e(because)} &middot; generated '
        f"{_e(_when(health.generated_at))}</p></header><main>"
        f"{_summary(health)}"
        '<section id="charts"><h2>Charts</h2><div class="charts">'
        "<figure><figcaption>Open discrepancies per owner team</figcaption>"
        f"{_bar_chart_owners(per_owner)}</figure>"
        "<figure><figcaption>Time since each flow's last success</figcaption>"
        f"{_bar_chart_ages(health.flows, health.generated_at)}</figure>"
        "</div></section>"
        f"{_flows_table(health)}"
        f"{_discrepancy_section(views, first_seen)}"
        "</main>"
        '<footer id="report-end">mirakl_sync health report &middot; times in UTC &middot; '
        "a flow is stale when its last success is older than three of its intervals.</footer>"
        "</body></html>\n"
    )
