"""The README's main job (the demo), the CLI, run_forever and arun_once."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
from pathlib import Path

import pytest

from mirakl_sync.cli import main
from mirakl_sync.demo import run_demo
from tests.engine.world import make_world, stock


def test_the_demo_runs_and_ends_healthy(tmp_path: Path) -> None:
    out = io.StringIO()
    health = run_demo(hours=1.5, directory=tmp_path, out=out)
    text = out.getvalue()
    assert "seeded" in text
    assert "UNMAPPED_SKU" in text  # the offer nobody mapped is reported
    assert "Orders decided on Mirakl: 9/10" in text  # all but the unmapped one
    assert health.backlog == 0
    assert health.parked == 0
    assert (tmp_path / "sync.db").exists()
    assert (tmp_path / "feeds" / "sandbox-shop" / "sales_orders.csv").exists()


def test_cli_demo_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--hours", "0.5", "--dir", str(tmp_path)]) == 0
    assert "Health at" in capsys.readouterr().out
    assert main(["health", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main([]) == 2


def test_cli_health_reads_the_storage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sync.toml"
    config.write_text(
        f"""
storage = "sqlite:///{tmp_path / "sync.db"}"
[[shops]]
key = "s1"
marketplace = "conrad"
base_url = "https://conrad.mirakl.example"
api_key = "env:MIRAKL_TEST_KEY"
""",
        encoding="utf-8",
    )
    os.environ["MIRAKL_TEST_KEY"] = "k-123456"
    try:
        code = main(["health", "--config", str(config)])
    finally:
        del os.environ["MIRAKL_TEST_KEY"]
    out = capsys.readouterr().out
    assert code == 1  # nothing ever ran: every flow is stale
    assert "pull_orders" in out
    assert "k-123456" not in out


def test_run_forever_stops_on_sigterm(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 3)
    rounds: list[int] = []

    def on_round(report: object) -> None:
        rounds.append(1)
        if len(rounds) == 3:
            signal.raise_signal(signal.SIGTERM)

    def sleep(seconds: float) -> None:
        world.clock.advance(seconds=seconds)

    world.sync.run_forever(sleep=sleep, on_round=on_round)
    assert len(rounds) == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_run_forever_stop_from_another_thread(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 3)
    done = threading.Event()

    def run() -> None:
        world.sync.run_forever(max_rounds=50, sleep=lambda s: world.sync.stop())
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert done.is_set()


def test_arun_once(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    stock(world, "SKU-1", 3)
    report = asyncio.run(world.sync.arun_once())
    assert report.ok
    assert {r.job for r in report.results} >= {"pull_orders", "push_stock"}
