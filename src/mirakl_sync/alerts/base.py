"""The alert contract: the :class:`Alert` record, the :class:`AlertSink` protocol and the
always-available :class:`LoggingSink`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

import attrs

__all__ = ["SEVERITIES", "Alert", "AlertSink", "LoggingSink", "severity_rank"]

SEVERITIES: Final = ("info", "warning", "error", "critical")
"""Alert severities, least severe first."""

_RANK: Final = {name: rank for rank, name in enumerate(SEVERITIES)}


def severity_rank(severity: str) -> int:
    """The position of ``severity`` in ``info < warning < error < critical``.

    An unknown severity (a newer release, a plugin's own level) ranks as ``critical``: an alert
    is never silently dropped because its level is not understood.
    """
    return _RANK.get(severity.strip().lower(), len(SEVERITIES) - 1)


@attrs.frozen(kw_only=True)
class Alert:
    """One discrepancy, as told to people.

    Attributes:
        kind: the discrepancy kind (``OVERSELL_RISK``...).
        severity: ``info``/``warning``/``error``/``critical``.
        owner: the team that owns the fix (inventory, ecommerce, finance, operations).
        key: the stable dedupe key.
        shop: the shop key.
        message: a sentence saying what is wrong and what to do.
        entities: the entities involved (``{"order": "...", "offer": "..."}``).
        first_seen: when the discrepancy was first detected.
    """

    kind: str
    severity: str
    owner: str
    key: str
    shop: str
    message: str
    entities: Mapping[str, str] = attrs.field(factory=dict)
    first_seen: datetime


@runtime_checkable
class AlertSink(Protocol):
    """Delivers alerts somewhere. ``name`` identifies the sink in delivery records."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise on failure (the engine records it and retries later)."""
        ...


_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class LoggingSink:
    """Writes alerts to the ``mirakl_sync.alerts`` logger with structured ``extra`` fields."""

    name = "logging"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("mirakl_sync.alerts")

    def __repr__(self) -> str:
        return f"LoggingSink(logger={self._logger.name!r})"

    def send(self, alert: Alert) -> None:
        """Log the alert at the level matching its severity (unknown severities: CRITICAL)."""
        level = _LEVELS.get(alert.severity, logging.CRITICAL)
        self._logger.log(
            level,
            "[%s] %s %s: %s",
            alert.shop,
            alert.severity.upper(),
            alert.kind,
            alert.message,
            extra={
                "alert_kind": alert.kind,
                "alert_key": alert.key,
                "alert_owner": alert.owner,
                "alert_shop": alert.shop,
            },
        )
