"""Many worker processes claim the same outbox: 4 on SQLite, 8 on Postgres, 10,000 items.

Checked from the workers' event logs and the final database state:

* none lost: every item is CONFIRMED and was completed exactly once;
* no item held by two workers at once: each claim of an item has its own lease epoch
  (``attempts``), and a later claim starts no earlier than the previous lease expired;
* a worker killed with SIGKILL while holding leases has its items taken over by other workers
  once the lease expires (SENT items are re-claimed as SENT, to be re-checked remotely).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mirakl_sync.storage import OutboxStatus, Storage, open_storage

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 10_000
LEASE_SECONDS = 3.0
SHOPS = ("shop-a", "shop-b", "shop-c")

pytestmark = pytest.mark.slow


def _enqueue_all(storage: Storage) -> None:
    now = datetime.now(UTC)
    with storage.transaction():
        for i in range(TOTAL):
            storage.enqueue(
                SHOPS[i % len(SHOPS)], f"item-{i:05d}", kind="test", payload={"i": i}, now=now
            )


def _spawn(
    url: str, name: str, log: Path, *, schema: str | None, stall_after: int = -1
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "tests.storage.outbox_worker",
        url,
        "--name",
        name,
        "--log",
        str(log),
        "--total",
        str(TOTAL),
        "--lease",
        str(LEASE_SECONDS),
        "--batch",
        "10",
        "--stall-after",
        str(stall_after),
    ]
    if schema:
        cmd += ["--schema", schema]
    return subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)


def _wait_for_stall(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists():
            for line in log.read_text().splitlines():
                event = json.loads(line)
                if event["e"] == "stall":
                    keys: list[str] = event["keys"]
                    return keys
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"victim exited early ({proc.returncode}): {err.decode()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("the victim worker never stalled")


def _run(url: str, tmp_path: Path, workers: int, *, schema: str | None = None) -> None:
    options: dict[str, Any] = {"schema": schema} if schema else {}
    storage = open_storage(url, **options)
    try:
        _enqueue_all(storage)
        logs = [tmp_path / f"w{n}.log" for n in range(workers)]
        victim = _spawn(url, "w0", logs[0], schema=schema, stall_after=3)
        others = [_spawn(url, f"w{n}", logs[n], schema=schema) for n in range(1, workers)]
        try:
            stalled = _wait_for_stall(logs[0], victim, timeout=60)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            assert victim.returncode == -signal.SIGKILL
            for proc in others:
                _, err = proc.communicate(timeout=150)
                assert proc.returncode == 0, err.decode()[-2000:]
        finally:
            for proc in [victim, *others]:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        _verify(storage, logs, stalled)
    finally:
        storage.close()


def _verify(storage: Storage, logs: list[Path], stalled: list[str]) -> None:
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    done: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for log in logs:
        for line in log.read_text().splitlines():
            event = json.loads(line)
            if event["e"] == "claim":
                claims[event["key"]].append(event)
            elif event["e"] == "done":
                done[event["key"]].append(event)

    # none lost, none completed twice
    assert storage.count_items() == {
        OutboxStatus.PLANNED: 0,
        OutboxStatus.SENT: 0,
        OutboxStatus.CONFIRMED: TOTAL,
        OutboxStatus.FAILED: 0,
        OutboxStatus.PARKED: 0,
    }
    assert len(done) == TOTAL
    twice = {key: events for key, events in done.items() if len(events) != 1}
    assert not twice

    # one lease epoch per claim, and no overlapping leases
    for key, events in claims.items():
        epochs = [e["attempts"] for e in events]
        assert len(set(epochs)) == len(epochs), (key, events)
        ordered = sorted(events, key=lambda e: e["attempts"])
        for before, after in itertools.pairwise(ordered):
            assert datetime.fromisoformat(after["at"]) >= datetime.fromisoformat(
                before["expires"]
            ), (key, before, after)
        # the completion came from the last lease holder
        assert done[key][0]["worker"] == ordered[-1]["worker"]
        assert done[key][0]["attempts"] == ordered[-1]["attempts"]

    # the killed worker's leased items were resumed by others after the lease expired
    assert stalled
    for index, key in enumerate(stalled):
        first, *later = sorted(claims[key], key=lambda e: e["attempts"])
        assert first["worker"] == "w0"
        assert later, key
        assert later[0]["worker"] != "w0"
        expected = "SENT" if index < len(stalled) // 2 else "PLANNED"
        assert later[0]["status"] == expected
        assert done[key][0]["worker"] != "w0"
        item = storage.get_item(SHOPS[int(key[5:]) % len(SHOPS)], key)
        assert item is not None
        assert item.attempts == 2


def test_four_sqlite_processes_share_the_outbox(tmp_path: Path) -> None:
    _run(f"sqlite:///{tmp_path / 'state.db'}", tmp_path, workers=4)


@pytest.mark.postgres
def test_eight_postgres_processes_share_the_outbox(
    tmp_path: Path, pg_dsn: str, pg_schema: str
) -> None:
    _run(pg_dsn, tmp_path, workers=8, schema=pg_schema)
