"""EmailSink against a local aiosmtpd server started by the test."""

from __future__ import annotations

import email
import email.policy
import logging
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mirakl_sync._http import Secret
from mirakl_sync.alerts import EmailDeliveryError, EmailSink
from mirakl_sync.errors import APIError, ConfigurationError
from tests.alerts.conftest import RecordingHandler, SMTPServer, free_port, make_alert

PASSWORD = "smtp-canary-pw-77"


def parse(envelope: Any) -> EmailMessage:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def plain_sink(server: SMTPServer, **kwargs: Any) -> EmailSink:
    options: dict[str, Any] = {
        "sender": "alerts@shop.example",
        "recipients": ["ops@shop.example", "lead@shop.example"],
        "starttls": False,
        "timeout": 5.0,
    }
    options.update(kwargs)
    return EmailSink(server.host, server.port, **options)


def test_message_is_received_with_text_and_html(smtp_server: SMTPServer) -> None:
    alert = make_alert(message="Mirakl shows 5 <MUG> & only 2 are safe.")
    plain_sink(smtp_server).send(alert)
    (envelope,) = smtp_server.handler.envelopes
    assert envelope.mail_from == "alerts@shop.example"
    assert envelope.rcpt_tos == ["ops@shop.example", "lead@shop.example"]
    message = parse(envelope)
    assert message["From"] == "alerts@shop.example"
    assert message["To"] == "ops@shop.example, lead@shop.example"
    assert message["Subject"].startswith("[mirakl-sync] CRITICAL OVERSELL_RISK on shop-a: Mirakl")
    assert message["X-Mirakl-Sync-Alert-Key"] == "OVERSELL_RISK:shop-a:MUG-BLUE"
    assert message["X-Mirakl-Sync-Severity"] == "critical"
    assert message["X-Mirakl-Sync-Owner"] == "inventory"
    assert message["Message-ID"]
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    text = text_part.get_content()
    for expected in (
        "CRITICAL alert: OVERSELL_RISK on shop shop-a",
        "What happened",
        "Mirakl shows 5 <MUG> & only 2 are safe.",
        "The inventory team",
        "What to do",
        "lower the Mirakl quantity",
        "offer_sku: MUG-BLUE",
        "First seen: 2026-03-01 12:00 UTC",
    ):
        assert expected in text
    html = html_part.get_content()
    assert "Mirakl shows 5 &lt;MUG&gt; &amp; only 2 are safe." in html
    assert "<MUG>" not in html
    assert "<code>MUG-BLUE</code>" in html


def test_unknown_kind_and_no_entities(smtp_server: SMTPServer) -> None:
    alert = make_alert(kind="NEW_KIND", entities={}, severity="info")
    plain_sink(smtp_server, recipients="one@shop.example", subject_prefix="").send(alert)
    message = parse(smtp_server.handler.envelopes[0])
    assert message["Subject"].startswith("INFO NEW_KIND on shop-a")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "(none)" in body.get_content()
    assert "operations guide" in body.get_content()


def test_header_injection_in_alert_fields_stays_on_one_line(smtp_server: SMTPServer) -> None:
    alert = make_alert(message="line one\r\nBcc: victim@example.com", key="K\nX-Evil: 1")
    plain_sink(smtp_server).send(alert)
    (envelope,) = smtp_server.handler.envelopes
    assert "victim@example.com" not in envelope.rcpt_tos
    message = parse(envelope)
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert "\n" not in message["Subject"]


def test_rejected_data_raises_email_delivery_error(smtp_server: SMTPServer) -> None:
    smtp_server.handler.reject = "554 5.7.1 Message rejected"
    with pytest.raises(EmailDeliveryError) as info:
        plain_sink(smtp_server).send(make_alert())
    assert isinstance(info.value, APIError)
    assert info.value.smtp_code == 554
    assert info.value.retryable is False
    assert "smtp://127.0.0.1" in str(info.value)


def test_transient_rejection_is_retryable(smtp_server: SMTPServer) -> None:
    smtp_server.handler.reject = "451 4.3.0 Try again later"
    with pytest.raises(EmailDeliveryError) as info:
        plain_sink(smtp_server).send(make_alert())
    assert info.value.smtp_code == 451
    assert info.value.retryable is True


def test_server_down_raises_email_delivery_error() -> None:
    sink = EmailSink(
        "127.0.0.1",
        free_port(),
        sender="alerts@shop.example",
        recipients="ops@shop.example",
        starttls=False,
        timeout=2.0,
    )
    with pytest.raises(EmailDeliveryError) as info:
        sink.send(make_alert())
    assert info.value.smtp_code is None
    assert info.value.retryable is True


def test_starttls_required_but_not_offered(smtp_server: SMTPServer) -> None:
    sink = plain_sink(smtp_server, starttls=True)
    with pytest.raises(EmailDeliveryError) as info:
        sink.send(make_alert())
    assert "STARTTLS" in str(info.value) or "starttls" in str(info.value).lower()
    assert smtp_server.handler.envelopes == []


def test_login_and_password_redaction(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[tuple[str, str]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        seen.append((login, password))
        return AuthResult(success=password == PASSWORD, handled=False)

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        good = EmailSink(
            "127.0.0.1",
            port,
            sender="alerts@shop.example",
            recipients="ops@shop.example",
            username="bot",
            password=PASSWORD,
            starttls=False,
        )
        good.send(make_alert())
        assert len(handler.envelopes) == 1
        bad = EmailSink(
            "127.0.0.1",
            port,
            sender="alerts@shop.example",
            recipients="ops@shop.example",
            username="bot",
            password=Secret("wrong-canary-pw"),
            starttls=False,
        )
        with pytest.raises(EmailDeliveryError) as info:
            bad.send(make_alert())
    finally:
        controller.stop()
    assert set(seen) == {("bot", PASSWORD), ("bot", "wrong-canary-pw")}  # smtplib tries 2 mechs
    assert info.value.smtp_code == 535
    for blob in (repr(good), repr(bad), str(info.value), caplog.text):
        assert PASSWORD not in blob
        assert "wrong-canary-pw" not in blob
    assert "username='bot'" in repr(good)


def test_password_over_plain_connection_refused_for_remote_hosts() -> None:
    with pytest.raises(ConfigurationError, match="unencrypted"):
        EmailSink(
            "smtp.example.com",
            sender="a@shop.example",
            recipients="b@shop.example",
            username="bot",
            password=PASSWORD,
            starttls=False,
        )
    ok = EmailSink(
        "smtp.example.com",
        sender="a@shop.example",
        recipients="b@shop.example",
        username="bot",
        password=PASSWORD,
    )
    assert ok.port == 587
    assert PASSWORD not in repr(ok)
    smtps = EmailSink("smtp.example.com", sender="a@x.example", recipients="b@x.example", ssl=True)
    assert smtps.port == 465
    assert smtps.starttls is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recipients": []},
        {"recipients": [""]},
        {"recipients": "not-an-address"},
        {"recipients": "a@x.example\r\nBcc: c@x.example"},
        {"sender": "nobody"},
        {"username": "bot"},
        {"timeout": 0},
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any]) -> None:
    options: dict[str, Any] = {"sender": "a@x.example", "recipients": "b@x.example"}
    options.update(kwargs)
    with pytest.raises(ConfigurationError):
        EmailSink("smtp.example.com", **options)
