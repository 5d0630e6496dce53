"""SyncConfig: TOML + environment, validated on load with clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mirakl_sync.engine.config import SyncConfig, parse_duration
from mirakl_sync.errors import ConfigurationError

TOML = """
storage = "sqlite:///sync.db"

[inventory_planner]
api_key = "env:IP_KEY"
account = "a1234"

[feeds]
kind = "advanced"
directory = "out"

[jobs]
push_stock = "2m"

[[shops]]
key = "conrad-de"
marketplace = "conrad"
base_url = "https://conrad.mirakl.net"
api_key = "env:CONRAD_KEY"
shop_id = 2001
safety_buffer = 2

[[shops]]
key = "other"
marketplace = "custom"
acceptance_window = "4d12h"
base_url = "https://other.mirakl.net"
api_key = "plain-key-in-file"
warehouse_codes = { paris = "PAR" }
"""

ENV = {"IP_KEY": "ip-secret-1", "CONRAD_KEY": "conrad-secret-1"}


def shop(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": "s1",
        "marketplace": "conrad",
        "base_url": "https://x.mirakl.net",
        "api_key": "k",
    }
    data.update(overrides)
    return data


def test_loads_a_full_file(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text(TOML, encoding="utf-8")
    config = SyncConfig.from_toml(path, env=ENV)
    conrad, other = config.shops
    assert conrad.acceptance_window == timedelta(days=5)
    assert conrad.api_key.reveal() == "conrad-secret-1"
    assert conrad.shop_id == 2001
    assert conrad.safety_buffer == 2
    assert other.acceptance_window == timedelta(days=4, hours=12)
    assert other.warehouse_codes == {"paris": "PAR"}
    assert config.inventory_planner is not None
    assert config.inventory_planner.api_key.reveal() == "ip-secret-1"
    assert config.feeds.kind == "advanced"
    assert config.jobs.interval("push_stock") == timedelta(minutes=2)
    assert config.jobs.interval("pull_orders") == timedelta(minutes=5)
    assert "conrad-secret-1" not in repr(config)
    assert "plain-key-in-file" not in repr(config)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sync.toml"
    path.write_text(TOML, encoding="utf-8")
    env = {**ENV, "MIRAKL_SYNC_STORAGE": "memory://", "MIRAKL_SYNC_JOBS_PULL_ORDERS": "10m"}
    config = SyncConfig.from_toml(path, env=env)
    assert config.storage == "memory://"
    assert config.jobs.interval("pull_orders") == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"shops": []}, "at least one"),
        ({"shops": [shop(api_key="env:NOPE")]}, "NOPE is not set"),
        ({"shops": [shop(api_key=None)]}, "api_key is missing"),
        ({"shops": [shop(marketplace="amazon")]}, "unknown marketplace 'amazon'"),
        ({"shops": [shop(marketplace="custom")]}, "needs acceptance_window"),
        ({"shops": [shop(acceptance_window="soon")]}, "invalid duration"),
        ({"shops": [shop(acceptance_window="-3d")]}, "invalid duration"),
        ({"shops": [shop(acceptance_window="60d")]}, "longer than 30 days"),
        ({"shops": [shop(base_url="ftp://x")]}, "must start with https://"),
        ({"shops": [shop(shop_id="abc")]}, "shop_id must be a number"),
        ({"shops": [shop(), shop()]}, "duplicate shop key"),
        ({"shops": [shop(colour="red")]}, "unknown setting(s) colour"),
        ({"shops": [shop(key="")]}, "key is missing"),
        ({"shops": [shop(safety_buffer=-1)]}, "safety_buffer"),
        ({"shops": [shop()], "jobs": {"pull_orders": "30s"}}, "maximum frequency"),
        ({"shops": [shop()], "jobs": {"dance": "1h"}}, "unknown setting(s) dance"),
        ({"shops": [shop()], "storage": "nowhere"}, "storage must be a URL"),
        ({"shops": [shop()], "feeds": {"kind": "fax"}}, "feeds.kind"),
        ({"shops": [shop()], "inventory_planner": {"api_key": "k"}}, "account is missing"),
    ],
)
def test_invalid_configurations_say_what_to_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SyncConfig.from_mapping(data, env={})
    assert message in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        SyncConfig.from_toml(tmp_path / "absent.toml", env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("shops = [", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="invalid TOML"):
        SyncConfig.from_toml(broken, env={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        (120, timedelta(minutes=2)),
        ("1.5h", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: object, expected: timedelta) -> None:
    assert parse_duration(text, "x") == expected


def test_daily_windows() -> None:
    from datetime import UTC, datetime

    from mirakl_sync.engine.config import JobIntervals

    jobs = JobIntervals.from_mapping({"reconcile": "daily@03:30"})
    at = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert jobs.is_due("reconcile", None, at)
    assert not jobs.is_due("reconcile", datetime(2026, 2, 28, 4, 0, tzinfo=UTC), at)
    later = datetime(2026, 3, 1, 3, 31, tzinfo=UTC)
    assert jobs.is_due("reconcile", datetime(2026, 2, 28, 4, 0, tzinfo=UTC), later)
    assert not jobs.is_due("reconcile", datetime(2026, 3, 1, 3, 30, 30, tzinfo=UTC), later)
    assert jobs.is_due("stock_full", None, at)  # nightly by default
    with pytest.raises(ConfigurationError, match="window"):
        JobIntervals.from_mapping({"reconcile": "daily@25:00"})
    with pytest.raises(ConfigurationError, match="needs an interval"):
        JobIntervals.from_mapping({"push_stock": "daily@02:00"})


def test_alert_sinks_from_the_configuration(tmp_path: Path) -> None:
    from mirakl_sync.engine import StaticStockSource, Synchronizer

    path = tmp_path / "sync.toml"
    path.write_text(
        TOML
        + """
[[alerts]]
sink = "logging"
min_severity = "warning"

[[alerts]]
sink = "webhook"
url = "https://hooks.example/alerts"
secret = "env:HOOK_SECRET"
owners = ["finance"]
""",
        encoding="utf-8",
    )
    config = SyncConfig.from_toml(path, env={**ENV, "HOOK_SECRET": "s3cret-value"})
    assert [a.sink for a in config.alerts] == ["logging", "webhook"]
    assert "s3cret-value" not in repr(config)
    sync = Synchronizer(config, storage="memory://", stock_source=StaticStockSource())
    try:
        assert [s.name for s in sync.alerts] == ["logging", "webhook"]
        assert "s3cret-value" not in repr(sync.alerts)
    finally:
        sync.close()
    with pytest.raises(ConfigurationError, match="min_severity"):
        SyncConfig.from_mapping(
            {"shops": [shop()], "alerts": [{"sink": "logging", "min_severity": "loud"}]}, env={}
        )
