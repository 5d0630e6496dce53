"""Routing by severity, owner team and kind."""

from __future__ import annotations

import pytest

from mirakl_sync.alerts import Alert, Route, RoutedSink, severity_rank
from mirakl_sync.errors import ConfigurationError
from tests.alerts.conftest import make_alert


class Recorder:
    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


@pytest.mark.parametrize(
    ("route", "severity", "owner", "kind", "expected"),
    [
        (Route(), "info", "inventory", "STOCK_DRIFT", False),
        (Route(), "warning", "inventory", "STOCK_DRIFT", True),
        (Route(), "critical", "inventory", "STOCK_DRIFT", True),
        (Route(min_severity="info"), "info", "finance", "X", True),
        (Route(min_severity="error"), "warning", "finance", "X", False),
        (Route(min_severity="error"), "error", "finance", "X", True),
        (Route(min_severity="critical"), "error", "ops", "X", False),
        (Route(min_severity="critical"), "critical", "ops", "X", True),
        (Route(min_severity="CRITICAL"), "Critical", "ops", "X", True),
        (Route(min_severity="critical"), "page-me", "ops", "X", True),  # unknown = critical
        (Route(min_severity="info", owners={"finance"}), "info", "finance", "X", True),
        (Route(min_severity="info", owners={"Finance"}), "info", "FINANCE", "X", True),
        (Route(min_severity="info", owners={"finance"}), "critical", "inventory", "X", False),
        (Route(min_severity="info", owners="finance"), "warning", "finance", "X", True),
        (Route(owners={"finance", "operations"}), "error", "operations", "X", True),
        (Route(kinds={"oversell_risk"}), "critical", "inventory", "OVERSELL_RISK", True),
        (Route(kinds={"OVERSELL_RISK"}), "critical", "inventory", "STOCK_DRIFT", False),
        (
            Route(min_severity="warning", owners={"finance"}, kinds={"COMMISSION_MISMATCH"}),
            "warning",
            "finance",
            "COMMISSION_MISMATCH",
            True,
        ),
        (
            Route(min_severity="error", owners={"finance"}, kinds={"COMMISSION_MISMATCH"}),
            "warning",
            "finance",
            "COMMISSION_MISMATCH",
            False,
        ),
    ],
)
def test_route_matches(route: Route, severity: str, owner: str, kind: str, expected: bool) -> None:
    alert = make_alert(severity=severity, owner=owner, kind=kind)
    assert route.matches(alert) is expected


def test_severity_order() -> None:
    ranks = [severity_rank(s) for s in ("info", "warning", "error", "critical")]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 4
    assert severity_rank("unheard-of") == severity_rank("critical")


@pytest.mark.parametrize(
    "kwargs",
    [{"min_severity": "fatal"}, {"min_severity": ""}, {"owners": []}, {"kinds": set()}],
)
def test_bad_routes_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Route(**kwargs)  # type: ignore[arg-type]


def test_critical_to_webhook_finance_to_email() -> None:
    webhook, mail = Recorder("webhook"), Recorder("email")
    sinks = [
        RoutedSink(webhook, Route(min_severity="critical")),
        RoutedSink(mail, Route(min_severity="info", owners={"finance"})),
    ]
    alerts = [
        make_alert(key="a", severity="critical", owner="inventory"),
        make_alert(key="b", severity="warning", owner="finance"),
        make_alert(key="c", severity="critical", owner="finance"),
        make_alert(key="d", severity="error", owner="operations"),
    ]
    for alert in alerts:
        for sink in sinks:
            sink.send(alert)
    assert [a.key for a in webhook.alerts] == ["a", "c"]
    assert [a.key for a in mail.alerts] == ["b", "c"]


def test_routed_sink_any_route_and_naming() -> None:
    inner = Recorder("pager")
    routed = RoutedSink(inner, [Route(min_severity="critical"), Route(kinds={"SYNC_STALE"})])
    assert routed.name == "pager"
    assert RoutedSink(inner, Route(), name="pager-critical").name == "pager-critical"
    routed.send(make_alert(severity="warning", kind="SYNC_STALE"))
    routed.send(make_alert(severity="warning", kind="STOCK_DRIFT"))
    routed.send(make_alert(severity="critical", kind="OVERSELL_RISK"))
    assert [a.kind for a in inner.alerts] == ["SYNC_STALE", "OVERSELL_RISK"]
    assert "RoutedSink(" in repr(routed)


def test_routed_sink_propagates_failures_of_the_wrapped_sink() -> None:
    class Broken:
        name = "broken"

        def send(self, alert: Alert) -> None:
            raise RuntimeError("down")

    with pytest.raises(RuntimeError, match="down"):
        RoutedSink(Broken(), Route()).send(make_alert())


def test_routed_sink_needs_routes() -> None:
    with pytest.raises(ConfigurationError):
        RoutedSink(Recorder(), [])
    with pytest.raises(ConfigurationError):
        RoutedSink(Recorder(), ["critical"])  # type: ignore[list-item]
