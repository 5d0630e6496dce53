"""Sinks used as entry-point plugin targets by the registry tests."""

from __future__ import annotations

from mirakl_sync.alerts import Alert


class CollectingSink:
    """A third-party style sink: keeps what it is sent."""

    def __init__(self, name: str = "collect", prefix: str = "") -> None:
        self.name = name
        self.prefix = prefix
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


def make_not_a_sink() -> object:
    """A factory returning something that is not a sink."""
    return object()


def exploding_factory() -> CollectingSink:
    """A factory that fails while building."""
    raise RuntimeError("no configuration file")
