"""What a run did (:class:`RunReport`) and how healthy the sync is (:class:`HealthReport`).

Both render as one line in a terminal, as an HTML table in Jupyter, and convert with
``to_records()`` / ``to_pandas()``; ``HealthReport.to_text()`` is the table the CLI prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar

if TYPE_CHECKING:
    from mirakl_sync.storage.records import DiscrepancyRecord

__all__ = ["FlowHealth", "HealthReport", "JobResult", "RunReport"]


@attrs.frozen(kw_only=True)
class JobResult:
    """One job run for one shop."""

    shop: str
    job: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    """``success``, ``failed`` or ``skipped`` (another worker holds the job)."""
    counts: Mapping[str, int] = attrs.field(factory=dict)
    error: str | None = None

    def to_record(self) -> dict[str, Scalar]:
        return {
            "shop": self.shop,
            "job": self.job,
            "outcome": self.outcome,
            "started_at": self.started_at.isoformat(),
            "seconds": round((self.finished_at - self.started_at).total_seconds(), 3),
            "counts": ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()) if v),
            "error": self.error,
        }


@attrs.frozen(kw_only=True)
class RunReport(RecordsDisplayMixin):
    """Every job run by one ``run_once()``."""

    results: tuple[JobResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.outcome != "failed" for r in self.results)

    @property
    def failures(self) -> tuple[JobResult, ...]:
        return tuple(r for r in self.results if r.outcome == "failed")

    def __repr__(self) -> str:
        ran = sum(1 for r in self.results if r.outcome != "skipped")
        return f"<RunReport jobs={ran} failed={len(self.failures)}>"

    def to_records(self) -> list[dict[str, Scalar]]:
        return [r.to_record() for r in self.results]

    def _display_title(self) -> str:
        return "RunReport"


@attrs.frozen(kw_only=True)
class FlowHealth:
    """The health of one job of one shop."""

    shop: str
    job: str
    last_success: datetime | None
    last_outcome: str | None
    last_error: str | None = None
    stale: bool = False

    def to_record(self) -> dict[str, Scalar]:
        return {
            "shop": self.shop,
            "job": self.job,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_outcome": self.last_outcome,
            "stale": self.stale,
            "last_error": self.last_error,
        }


@attrs.frozen(kw_only=True)
class HealthReport(RecordsDisplayMixin):
    """Per flow last success, backlog, oldest pending age, parked items, minimum acceptance
    deadline slack, open discrepancies."""

    generated_at: datetime
    flows: tuple[FlowHealth, ...]
    backlog: int
    """Outbox items planned or sent but not confirmed."""
    oldest_pending: timedelta | None
    parked: int
    failed: int
    min_acceptance_slack: timedelta | None
    """Time left before the nearest acceptance deadline of an order still waiting (negative:
    missed)."""
    orders_waiting_acceptance: int
    open_discrepancies: Mapping[str, int] = attrs.field(factory=dict)
    """Open discrepancies per severity."""
    failed_alert_deliveries: int = 0

    @property
    def ok(self) -> bool:
        critical = self.open_discrepancies.get("critical", 0)
        return not any(f.stale for f in self.flows) and not self.parked and not critical

    def __repr__(self) -> str:
        slack = (
            f"{self.min_acceptance_slack.total_seconds() / 3600:.1f}h"
            if self.min_acceptance_slack is not None
            else "-"
        )
        return (
            f"<HealthReport ok={self.ok} backlog={self.backlog} parked={self.parked} "
            f"acceptance_slack={slack} open_discrepancies={sum(self.open_discrepancies.values())}>"
        )

    def to_records(self) -> list[dict[str, Scalar]]:
        return [f.to_record() for f in self.flows]

    def _display_title(self) -> str:
        return "HealthReport"

    def _display_summary(self) -> list[tuple[str, Scalar]]:
        return [
            ("generated at", self.generated_at.isoformat()),
            ("backlog", self.backlog),
            ("parked", self.parked),
            ("failed", self.failed),
            (
                "oldest pending",
                str(self.oldest_pending) if self.oldest_pending is not None else None,
            ),
            (
                "min acceptance slack",
                str(self.min_acceptance_slack) if self.min_acceptance_slack is not None else None,
            ),
            ("orders waiting acceptance", self.orders_waiting_acceptance),
            (
                "open discrepancies",
                ", ".join(f"{k}={v}" for k, v in sorted(self.open_discrepancies.items())) or "0",
            ),
            ("failed alert deliveries", self.failed_alert_deliveries),
        ]

    def to_html(
        self, discrepancies: Sequence[DiscrepancyRecord] = (), *, title: str = "mirakl_sync health"
    ) -> str:
        """A self-contained HTML page (no external assets) for an operations lead: flows,
        backlog, acceptance slack, open discrepancies by owner team and severity, small charts
        (see :mod:`mirakl_sync.engine.html_report`)."""
        from mirakl_sync.engine.html_report import render_health_html

        return render_health_html(self, discrepancies, title=title)

    def to_text(self) -> str:
        """A plain-text table for terminals."""
        verdict = "OK" if self.ok else "ATTENTION"
        lines = [f"Health at {self.generated_at:%Y-%m-%d %H:%M} UTC  ({verdict})"]
        for label, value in self._display_summary()[1:]:
            lines.append(f"  {label:<28} {value}")
        lines.append("")
        lines.append(f"  {'shop':<14} {'job':<12} {'last success':<20} {'outcome':<9} stale")
        for flow in self.flows:
            last = f"{flow.last_success:%Y-%m-%d %H:%M}" if flow.last_success else "never"
            lines.append(
                f"  {flow.shop:<14} {flow.job:<12} {last:<20} {flow.last_outcome or '-':<9} "
                f"{'YES' if flow.stale else 'no'}"
            )
        return "\n".join(lines)
