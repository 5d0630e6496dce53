"""The :class:`ReconciliationReport`: every discrepancy of a run, plus the stock delta."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import attrs

from mirakl_sync._display import RecordsDisplayMixin, Scalar
from mirakl_sync.core.discrepancy import Discrepancy, DiscrepancyKind, Severity
from mirakl_sync.core.stock import StockDelta

__all__ = ["ReconciliationReport"]


@attrs.frozen(kw_only=True)
class ReconciliationReport(RecordsDisplayMixin):
    """The findings of one reconciliation run (most severe first).

    Notebook-friendly: one-line ``repr``, an HTML table in Jupyter, ``to_records()`` (one flat
    dict per discrepancy) and ``to_pandas()`` (needs the ``pandas`` extra).
    """

    shop: str
    generated_at: datetime
    discrepancies: tuple[Discrepancy, ...]
    stock_delta: StockDelta | None = None
    checked: tuple[DiscrepancyKind, ...] = ()
    """The kinds that were checked (a kind absent here was not looked at)."""

    def __len__(self) -> int:
        return len(self.discrepancies)

    @property
    def ok(self) -> bool:
        """No discrepancy at all."""
        return not self.discrepancies

    def by_kind(self) -> dict[DiscrepancyKind, list[Discrepancy]]:
        out: dict[DiscrepancyKind, list[Discrepancy]] = {}
        for d in self.discrepancies:
            out.setdefault(d.kind, []).append(d)
        return out

    def of_kind(self, kind: DiscrepancyKind) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.kind is kind]

    def counts(self) -> dict[str, int]:
        """Number of discrepancies per severity (most severe first)."""
        c = Counter(d.severity for d in self.discrepancies)
        return {s.value: c[s] for s in sorted(Severity, key=lambda s: -s.rank) if c[s]}

    def __repr__(self) -> str:
        sev = ", ".join(f"{k} {v}" for k, v in self.counts().items()) or "none"
        delta = "" if self.stock_delta is None else f" delta={len(self.stock_delta)} lines"
        shop = f" shop={self.shop!r}" if self.shop else ""
        return (
            f"<ReconciliationReport{shop} at {self.generated_at.isoformat()}"
            f" discrepancies={len(self.discrepancies)} ({sev}){delta}>"
        )

    def to_records(self) -> list[dict[str, Scalar]]:
        """One flat JSON-safe dict per discrepancy (a list of dicts, not pandas' recarray)."""
        return [d.to_record() for d in self.discrepancies]

    def _display_title(self) -> str:
        return "ReconciliationReport"

    def _display_summary(self) -> list[tuple[str, Scalar]]:
        kinds = Counter(d.kind.value for d in self.discrepancies)
        rows: list[tuple[str, Scalar]] = [
            ("shop", self.shop),
            ("generated at", self.generated_at.isoformat()),
            ("discrepancies", len(self.discrepancies)),
            *((f"severity {k}", v) for k, v in self.counts().items()),
            *((f"kind {k}", v) for k, v in sorted(kinds.items())),
        ]
        if self.stock_delta is not None:
            rows.append(("stock lines to push", len(self.stock_delta)))
        return rows
