"""Finding sinks by name: built-ins, run-time registrations and entry-point plugins."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from mirakl_sync.alerts import (
    ENTRY_POINT_GROUP,
    EmailSink,
    LoggingSink,
    Route,
    RoutedSink,
    WebhookSink,
    available_sinks,
    load_sink,
    register_sink,
    unregister_sink,
)
from mirakl_sync.errors import ConfigurationError
from tests.alerts.plugin_sinks import CollectingSink


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, *points: tuple[str, str]) -> None:
    eps = [metadata.EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in points]

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        return eps if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(metadata, "entry_points", entry_points)


@pytest.fixture(autouse=True)
def _clean_registrations() -> Iterator[None]:
    yield
    for name in ("mine", "lazy-mine"):
        unregister_sink(name)


def test_builtins() -> None:
    assert {"logging", "webhook", "email"} <= set(available_sinks())
    assert isinstance(load_sink("logging"), LoggingSink)
    hook = load_sink("webhook", url="https://hooks.example.com/x", secret="s3cret-value")
    assert isinstance(hook, WebhookSink)
    assert "s3cret-value" not in repr(hook)
    mail = load_sink("Email", host="smtp.example.com", sender="a@x.example", recipients="b@x.io")
    assert isinstance(mail, EmailSink)


def test_instances_pass_through_and_route_wraps() -> None:
    sink = CollectingSink()
    assert load_sink(sink) is sink
    routed = load_sink("logging", route=Route(min_severity="error"))
    assert isinstance(routed, RoutedSink)
    assert routed.name == "logging"
    with pytest.raises(ConfigurationError, match="not an AlertSink"):
        load_sink(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="options"):
        load_sink(sink, name="x")


def test_builtin_option_errors_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="http or https"):
        load_sink("webhook", url="ftp://x")
    with pytest.raises(ConfigurationError, match="could not be created"):
        load_sink("webhook")  # missing url


def test_entry_point_plugin_is_loaded_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        ("collect", "tests.alerts.plugin_sinks:CollectingSink"),
        ("broken", "tests.alerts.no_such_module:Sink"),
    )
    names = available_sinks()  # listing never imports
    assert {"collect", "broken", "logging"} <= set(names)
    sink = load_sink("collect", prefix="p")
    assert isinstance(sink, CollectingSink)
    assert sink.prefix == "p"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tests.alerts.no_such_module:Sink", "failed to load: ModuleNotFoundError"),
        ("tests.alerts.plugin_sinks:Missing", "failed to load: AttributeError"),
        ("tests.alerts.plugin_sinks:make_not_a_sink", "not an AlertSink"),
        ("tests.alerts.plugin_sinks:exploding_factory", "no configuration file"),
    ],
)
def test_broken_plugins_raise_configuration_errors_naming_them(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    fake_entry_points(monkeypatch, ("acme-pager", value))
    with pytest.raises(ConfigurationError) as info:
        load_sink("acme-pager")
    assert "acme-pager" in str(info.value)
    assert message in str(info.value)


def test_unknown_name_lists_known_sinks(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(monkeypatch)
    with pytest.raises(ConfigurationError, match="known sinks: email, logging, webhook"):
        load_sink("pagerduty")
    with pytest.raises(ConfigurationError, match="invalid alert sink name"):
        load_sink("no spaces please")


def test_unreadable_entry_points_do_not_break_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*, group: str) -> list[metadata.EntryPoint]:
        raise RuntimeError("corrupt metadata")

    monkeypatch.setattr(metadata, "entry_points", boom)
    assert "logging" in available_sinks()
    assert isinstance(load_sink("logging"), LoggingSink)  # built-ins never read entry points
    with pytest.raises(ConfigurationError, match="corrupt metadata"):
        load_sink("some-plugin")


def test_real_distribution_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin installed as a distribution (dist-info on sys.path), found via importlib."""
    (tmp_path / "acme_alerts.py").write_text(
        "class AcmeSink:\n"
        "    name = 'acme'\n"
        "    def __init__(self, channel='ops'):\n"
        "        self.channel = channel\n"
        "    def send(self, alert):\n"
        "        pass\n"
    )
    (tmp_path / "broken_alerts.py").write_text("raise ImportError('needs acme-sdk')\n")
    dist = tmp_path / "acme_alerts-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-alerts\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nacme = acme_alerts:AcmeSink\nacme-broken = broken_alerts:X\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert {"acme", "acme-broken"} <= set(available_sinks())
    sink = load_sink("acme", channel="finance")
    assert sink.name == "acme"
    with pytest.raises(ConfigurationError) as info:
        load_sink("acme-broken")
    assert "'acme-broken'" in str(info.value)
    assert "distribution 'acme-alerts'" in str(info.value)
    assert "needs acme-sdk" in str(info.value)


def test_register_sink() -> None:
    register_sink("mine", CollectingSink)
    assert "mine" in available_sinks()
    assert isinstance(load_sink("mine", name="m"), CollectingSink)
    with pytest.raises(ConfigurationError, match="already registered"):
        register_sink("mine", CollectingSink)
    with pytest.raises(ConfigurationError, match="already registered"):
        register_sink("webhook", CollectingSink)
    register_sink("mine", lambda **kw: CollectingSink(name="other"), clobber=True)
    assert load_sink("mine").name == "other"
    register_sink("lazy-mine", "tests.alerts.plugin_sinks:CollectingSink")
    assert isinstance(load_sink("lazy-mine"), CollectingSink)


def test_dotted_spec() -> None:
    assert isinstance(load_sink("tests.alerts.plugin_sinks:CollectingSink"), CollectingSink)
    with pytest.raises(ConfigurationError, match="could not be imported"):
        load_sink("tests.alerts.nope:CollectingSink")


def test_importing_alerts_does_not_import_the_email_or_webhook_modules() -> None:
    code = (
        "import sys, mirakl_sync.alerts as a; "
        "assert 'mirakl_sync.alerts.webhook' not in sys.modules; "
        "assert 'mirakl_sync.alerts.email' not in sys.modules; "
        "a.WebhookSink; assert 'mirakl_sync.alerts.webhook' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
