"""Routing: which alerts go to which sink, by severity, owner team and kind.

Wrap any sink in a :class:`RoutedSink` with one or more :class:`Route` s::

    sinks = [
        LoggingSink(),  # everything
        RoutedSink(webhook, Route(min_severity="critical")),  # pages on-call
        RoutedSink(email, Route(min_severity="info", owners={"finance"})),  # finance mailbox
    ]

A :class:`RoutedSink` whose routes reject an alert does not call the wrapped sink and returns
normally; the engine records that as a successful delivery (a no-op), so a rejected alert is not
retried. Changing the routes later does not re-send alerts already judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from mirakl_sync.alerts.base import SEVERITIES, Alert, AlertSink, severity_rank
from mirakl_sync.errors import ConfigurationError

__all__ = ["Route", "RoutedSink"]


def _check_severity(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in SEVERITIES:
        raise ConfigurationError(
            f"unknown severity {value!r} for {attribute.name} (expected one of "
            f"{', '.join(SEVERITIES)})"
        )


def _lower_str(value: str) -> str:
    return str(value).strip().lower()


def _lower_set(values: Iterable[str] | str | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    out = frozenset(v.strip().lower() for v in values)
    if not out:
        raise ConfigurationError("an empty filter matches nothing: pass None to match everything")
    return out


def _upper_set(values: Iterable[str] | str | None) -> frozenset[str] | None:
    lowered = _lower_set(values)
    return None if lowered is None else frozenset(v.upper() for v in lowered)


@attrs.frozen(kw_only=True)
class Route:
    """Which alerts a sink receives. All given conditions must hold.

    Attributes:
        min_severity: the least severe level delivered (``info < warning < error <
            critical``); an alert with an unknown severity counts as ``critical``.
        owners: owner teams delivered (``{"finance"}``), case-insensitive; ``None`` = any.
        kinds: discrepancy kinds delivered (``{"OVERSELL_RISK"}``), case-insensitive;
            ``None`` = any.
    """

    min_severity: str = attrs.field(
        default="warning", converter=_lower_str, validator=_check_severity
    )
    owners: frozenset[str] | None = attrs.field(default=None, converter=_lower_set)
    kinds: frozenset[str] | None = attrs.field(default=None, converter=_upper_set)

    def matches(self, alert: Alert) -> bool:
        """Whether ``alert`` passes this route."""
        if severity_rank(alert.severity) < severity_rank(self.min_severity):
            return False
        if self.owners is not None and alert.owner.strip().lower() not in self.owners:
            return False
        return self.kinds is None or alert.kind.strip().upper() in self.kinds


class RoutedSink:
    """A sink that only forwards the alerts its routes accept (any route matching is enough).

    ``name`` defaults to the wrapped sink's name, so delivery records keep their meaning when a
    route is added to an existing sink. Give each sink in a synchronizer a distinct name: the
    engine tracks deliveries per (alert, sink name).
    """

    def __init__(
        self, sink: AlertSink, route: Route | Sequence[Route], *, name: str | None = None
    ) -> None:
        routes = (route,) if isinstance(route, Route) else tuple(route)
        if not routes:
            raise ConfigurationError("RoutedSink needs at least one Route")
        if not all(isinstance(r, Route) for r in routes):
            raise ConfigurationError("RoutedSink routes must be Route instances")
        self.sink = sink
        self.routes: tuple[Route, ...] = routes
        self.name: str = name if name is not None else sink.name

    def __repr__(self) -> str:
        return f"RoutedSink({self.sink!r}, routes={list(self.routes)!r}, name={self.name!r})"

    def accepts(self, alert: Alert) -> bool:
        """Whether any route lets ``alert`` through."""
        return any(r.matches(alert) for r in self.routes)

    def send(self, alert: Alert) -> None:
        """Forward ``alert`` to the wrapped sink if a route accepts it; otherwise do nothing."""
        if self.accepts(alert):
            self.sink.send(alert)
