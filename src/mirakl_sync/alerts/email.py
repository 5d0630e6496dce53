"""The e-mail sink: one message per alert through SMTP (stdlib ``smtplib``).

Each message has a plain-text body written for an operations lead (what happened, who owns it,
what to do, the entities involved) and an escaped HTML alternative. Connections use STARTTLS by
default (port 587) or implicit TLS with ``ssl=True`` (port 465); logging in over an unencrypted
connection is refused unless the server is on the loopback interface.

Failures raise :class:`EmailDeliveryError` (an :class:`~mirakl_sync.errors.APIError`); the
password never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import smtplib
import ssl as ssl_module
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mirakl_sync._http import Secret, redact_text
from mirakl_sync.alerts.base import Alert
from mirakl_sync.errors import APIError, ConfigurationError

__all__ = ["WHAT_TO_DO", "EmailDeliveryError", "EmailSink"]

logger = logging.getLogger(__name__)

WHAT_TO_DO: dict[str, str] = {
    "OVERSELL_RISK": "Check the item's stock in the inventory system and the offer quantity on "
    "Mirakl; lower the Mirakl quantity now if the next stock push is not imminent.",
    "UNMAPPED_SKU": "Map the offer SKU to an inventory item (or fix the conflicting mapping "
    "rules); its stock is not published until then.",
    "MISSING_OFFER": "Create the offer on Mirakl or remove the mapping; its stock is not pushed.",
    "STOCK_DRIFT": "Find who changed the quantity on Mirakl (back office, another tool); the "
    "engine pushes the correct quantity again.",
    "STOCK_IMPORT_ERROR": "Open the stock import's error report on Mirakl and fix the rejected "
    "lines.",
    "ACCEPTANCE_AT_RISK": "Accept or refuse the order on Mirakl before its deadline, or fix what "
    "holds it (unmapped SKU, missing stock).",
    "ACCEPTANCE_FAILED": "Check the order on Mirakl: it was refused, auto-cancelled or our "
    "acceptance call failed.",
    "ORPHANED_ORDER": "Check the order exists once in the inventory system with the right state.",
    "SALES_NOT_IN_FORECAST": "Check the Inventory Planner sales feed imports (connector status).",
    "SHIPMENT_NOT_CONFIRMED": "Confirm the shipment on Mirakl (tracking and ship) so funds are "
    "released.",
    "TRACKING_MISSING": "Add the carrier and tracking number to the order.",
    "REFUND_NOT_PROPAGATED": "Refund the returned lines on Mirakl.",
    "COMMISSION_MISMATCH": "Compare the order with its transaction log lines (TL02) and raise it "
    "with the operator if the commission is wrong.",
    "SYNC_STALE": "Check the worker is running and the job's last error in the health report.",
}
_DEFAULT_ACTION = "Follow the message above; the operations guide describes this alert kind."

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class EmailDeliveryError(APIError):
    """An alert e-mail could not be sent.

    Attributes:
        smtp_code: the SMTP reply code when the server answered (``None`` for connection and
            TLS failures).
    """

    def __init__(self, message: str, *, smtp_code: int | None = None, url: str | None = None):
        self.smtp_code = smtp_code
        super().__init__(message, method="SMTP", url=url)

    @property
    def retryable(self) -> bool:
        """Connection failures and 4xx (transient) replies may succeed later; 5xx will not."""
        return self.smtp_code is None or 400 <= self.smtp_code < 500


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _normalise_recipients(recipients: str | Sequence[str]) -> tuple[str, ...]:
    items = [recipients] if isinstance(recipients, str) else list(recipients)
    out = tuple(r.strip() for r in items if isinstance(r, str) and r.strip())
    if not out or len(out) != len(items):
        raise ConfigurationError("recipients must be one or more non-empty e-mail addresses")
    for address in out:
        if any(ch in address for ch in "\r\n") or "@" not in address:
            raise ConfigurationError(f"invalid recipient address {address!r}")
    return out


def _when(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class EmailSink:
    """Sends each alert as an e-mail through an SMTP server.

    Args:
        host: the SMTP server.
        port: defaults to 465 with ``ssl=True``, else 587.
        sender: the ``From`` address (also the envelope sender).
        recipients: one address or several.
        username: log in with this user (needs ``password``).
        password: the SMTP password, a ``str`` or a :class:`~mirakl_sync._http.Secret`.
        starttls: upgrade the connection with STARTTLS (ignored with ``ssl=True``).
        ssl: connect with implicit TLS (SMTPS).
        timeout: socket timeout in seconds.
        name: the sink name in delivery records.
        subject_prefix: put before every subject.
        ssl_context: the TLS context (default: ``ssl.create_default_context()``, verifying).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        sender: str,
        recipients: str | Sequence[str],
        username: str | None = None,
        password: str | Secret | None = None,
        starttls: bool = True,
        ssl: bool = False,
        timeout: float = 10.0,
        name: str = "email",
        subject_prefix: str = "[mirakl-sync]",
        ssl_context: ssl_module.SSLContext | None = None,
    ) -> None:
        if not host or not host.strip():
            raise ConfigurationError("the SMTP host must not be empty")
        if not sender or "@" not in sender or any(ch in sender for ch in "\r\n"):
            raise ConfigurationError(f"invalid sender address {sender!r}")
        if (username is None) != (password is None):
            raise ConfigurationError("username and password go together")
        if timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        self.host = host.strip()
        self.port = port if port is not None else (465 if ssl else 587)
        self.sender = sender.strip()
        self.recipients = _normalise_recipients(recipients)
        self.username = username
        self._password: Secret | None = (
            password if isinstance(password, Secret) or password is None else Secret(password)
        )
        self.ssl = ssl
        self.starttls = starttls and not ssl
        if (
            self._password is not None
            and not (self.ssl or self.starttls)
            and not _is_loopback(self.host)
        ):
            raise ConfigurationError(
                "refusing to send the SMTP password over an unencrypted connection: use "
                "starttls=True or ssl=True"
            )
        self.timeout = timeout
        self.name: str = name
        self.subject_prefix = _one_line(subject_prefix)
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        auth = f", username={self.username!r}" if self.username else ""
        tls = "ssl" if self.ssl else "starttls" if self.starttls else "plain"
        return (
            f"EmailSink(name={self.name!r}, server='{self.host}:{self.port}', tls={tls}, "
            f"recipients={len(self.recipients)}{auth})"
        )

    # -- message ------------------------------------------------------------------------------

    def subject(self, alert: Alert) -> str:
        """``[mirakl-sync] CRITICAL OVERSELL_RISK on shop-a: <message start>`` (one line)."""
        text = f"{alert.severity.upper()} {alert.kind} on {alert.shop}: {alert.message}"
        subject = _one_line(f"{self.subject_prefix} {text}" if self.subject_prefix else text)
        return subject if len(subject) <= 150 else subject[:149] + "…"

    def text_body(self, alert: Alert) -> str:
        """The plain-text body: what happened, impact and owner, what to do, entities."""
        action = WHAT_TO_DO.get(alert.kind.upper(), _DEFAULT_ACTION)
        lines = [
            f"{alert.severity.upper()} alert: {alert.kind} on shop {alert.shop}",
            "",
            "What happened",
            f"  {alert.message}",
            "",
            "Who owns it",
            f"  The {alert.owner} team (severity: {alert.severity}).",
            "",
            "What to do",
            f"  {action}",
            "",
            "Entities",
        ]
        if alert.entities:
            lines += [f"  {k}: {v}" for k, v in sorted(alert.entities.items())]
        else:
            lines.append("  (none)")
        lines += [
            "",
            f"First seen: {_when(alert.first_seen)}",
            f"Alert key: {alert.key}",
            "",
            "-- ",
            "Sent by mirakl-sync. You receive one message per new or escalated discrepancy.",
        ]
        return "\n".join(lines) + "\n"

    def html_body(self, alert: Alert) -> str:
        """A small HTML alternative of :meth:`text_body` (every value escaped)."""
        e = html.escape
        action = WHAT_TO_DO.get(alert.kind.upper(), _DEFAULT_ACTION)
        rows = "".join(
            f"<tr><th align='left'>{e(k)}</th><td><code>{e(v)}</code></td></tr>"
            for k, v in sorted(alert.entities.items())
        )
        entities = f"<table>{rows}</table>" if rows else "<p>(none)</p>"
        return (
            "<!DOCTYPE html><html><body>"
            f"<h2>{e(alert.severity.upper())} alert: {e(alert.kind)} on shop {e(alert.shop)}</h2>"
            f"<h3>What happened</h3><p>{e(alert.message)}</p>"
            f"<h3>Who owns it</h3><p>The {e(alert.owner)} team "
            f"(severity: {e(alert.severity)}).</p>"
            f"<h3>What to do</h3><p>{e(action)}</p>"
            f"<h3>Entities</h3>{entities}"
            f"<p><small>First seen: {e(_when(alert.first_seen))} &middot; "
            f"alert key: <code>{e(alert.key)}</code></small></p>"
            "</body></html>"
        )

    def build_message(self, alert: Alert) -> EmailMessage:
        """The full message for ``alert`` (text part first, then HTML)."""
        message = EmailMessage()
        message["Subject"] = self.subject(alert)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["X-Mirakl-Sync-Alert-Key"] = _one_line(alert.key)
        message["X-Mirakl-Sync-Severity"] = _one_line(alert.severity)
        message["X-Mirakl-Sync-Owner"] = _one_line(alert.owner)
        message.set_content(self.text_body(alert))
        message.add_alternative(self.html_body(alert), subtype="html")
        return message

    # -- sending ------------------------------------------------------------------------------

    def _url(self) -> str:
        return f"{'smtps' if self.ssl else 'smtp'}://{self.host}:{self.port}"

    def _error(self, what: str, exc: BaseException, code: int | None = None) -> EmailDeliveryError:
        secrets = [self._password] if self._password is not None else []
        detail = redact_text(str(exc) or type(exc).__name__, secrets)
        return EmailDeliveryError(
            f"email {self.name!r}: {what}: {type(exc).__name__}: {detail}",
            smtp_code=code,
            url=self._url(),
        )

    def _context(self) -> ssl_module.SSLContext:
        return self._ssl_context or ssl_module.create_default_context()

    def send(self, alert: Alert) -> None:
        """Send ``alert`` to every recipient; raise :class:`EmailDeliveryError` on failure.

        If the server refuses some recipients but accepts others, the refusals are logged and
        the delivery counts as done (re-sending would duplicate it for the others).
        """
        message = self.build_message(alert)
        smtp: smtplib.SMTP
        try:
            if self.ssl:
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            code = getattr(exc, "smtp_code", None)
            raise self._error("could not connect", exc, code) from None
        try:
            with smtp:
                if self.starttls:
                    smtp.starttls(context=self._context())
                if self.username is not None and self._password is not None:
                    smtp.login(self.username, self._password.reveal())
                refused = smtp.send_message(
                    message, from_addr=self.sender, to_addrs=list(self.recipients)
                )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise self._error(
                f"all {len(codes)} recipient(s) refused", exc, max(codes) if codes else None
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error("the server does not support a required extension", exc) from None
        except smtplib.SMTPException as exc:
            code = getattr(exc, "smtp_code", None)
            raise self._error("sending failed", exc, code) from None
        except (OSError, ValueError) as exc:
            raise self._error("sending failed", exc) from None
        if refused:
            logger.warning(
                "email %s: %d recipient(s) refused for %s: %s",
                self.name,
                len(refused),
                alert.key,
                ", ".join(sorted(refused)),
                extra={"alert_key": alert.key, "sink": self.name},
            )
