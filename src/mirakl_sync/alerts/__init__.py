"""Alerts: what the engine tells people when the systems drift apart.

An :class:`Alert` is raised for every discrepancy the reconciliation opens (deduplicated by its
stable key); :class:`AlertSink` is the plug point (logging, webhook, e-mail, your own). Sinks are
isolated: one failing sink does not stop the others, and failed deliveries are retried on the
next reconciliation and visible in the health report.

Built-in sinks: :class:`LoggingSink`, :class:`~mirakl_sync.alerts.webhook.WebhookSink` (JSON
POST, HMAC signature, Slack-compatible body) and :class:`~mirakl_sync.alerts.email.EmailSink`
(SMTP). :class:`RoutedSink` + :class:`Route` choose which alerts reach which sink;
:func:`load_sink` builds sinks by name, including third-party ones from the
``mirakl_sync.alerts`` entry-point group. The webhook and e-mail modules are imported on first
use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mirakl_sync.alerts.base import SEVERITIES, Alert, AlertSink, LoggingSink, severity_rank
from mirakl_sync.alerts.registry import (
    ENTRY_POINT_GROUP,
    available_sinks,
    load_sink,
    register_sink,
    unregister_sink,
)
from mirakl_sync.alerts.routing import Route, RoutedSink

if TYPE_CHECKING:
    from mirakl_sync.alerts.email import EmailDeliveryError, EmailSink
    from mirakl_sync.alerts.webhook import (
        WebhookSink,
        slack_payload,
        verify_signature,
        webhook_payload,
    )

__all__ = [
    "ENTRY_POINT_GROUP",
    "SEVERITIES",
    "Alert",
    "AlertSink",
    "EmailDeliveryError",
    "EmailSink",
    "LoggingSink",
    "Route",
    "RoutedSink",
    "WebhookSink",
    "available_sinks",
    "load_sink",
    "register_sink",
    "severity_rank",
    "slack_payload",
    "unregister_sink",
    "verify_signature",
    "webhook_payload",
]

_LAZY = {
    "EmailDeliveryError": "mirakl_sync.alerts.email",
    "EmailSink": "mirakl_sync.alerts.email",
    "WebhookSink": "mirakl_sync.alerts.webhook",
    "slack_payload": "mirakl_sync.alerts.webhook",
    "verify_signature": "mirakl_sync.alerts.webhook",
    "webhook_payload": "mirakl_sync.alerts.webhook",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
