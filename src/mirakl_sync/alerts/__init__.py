"""Alerts: what the engine tells people when the systems drift apart.

An :class:`Alert` is raised for every discrepancy the reconciliation opens (deduplicated by its
stable key); :class:`AlertSink` is the plug point (logging, webhook, e-mail, your own). Sinks are
isolated: one failing sink does not stop the others, and failed deliveries are retried on the
next reconciliation and visible in the health report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

__all__ = ["Alert", "AlertSink", "LoggingSink"]


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

    def send(self, alert: Alert) -> None:
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
