"""Fixtures for transport tests: a fake clock whose sleeps advance time, and a driver that runs
the same test body through the sync and the async transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mirakl_sync._http import (
    AsyncTransport,
    CallBudget,
    RequestOptions,
    RequestSpec,
    RetryPolicy,
    SyncTransport,
    TransportConfig,
)

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Wall and monotonic time that move only when something sleeps."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return START + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.elapsed += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Script:
    """A MockTransport handler that plays a list of responses/exceptions in order."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.steps:
            raise AssertionError("more requests than scripted")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)


class Driver:
    """Runs requests through a sync or an async transport built on the same config."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.clock = FakeClock()

    def config(self, **overrides: Any) -> TransportConfig:
        values: dict[str, Any] = {
            "base_url": "https://sandbox-instance.mirakl.net",
            "auth_headers": lambda: {"Authorization": "canary-key-0000"},
            "retry": RetryPolicy(max_retries=4, backoff_initial=0.5, backoff_max=8.0),
            "budget": None,
            "now": self.clock.now,
            "sleep": self.clock.sleep,
            "async_sleep": self.clock.async_sleep,
            "rand": lambda: 0.5,
        }
        values.update(overrides)
        return TransportConfig(**values)

    def budget(self, limits: Any = None) -> CallBudget:
        # No safety margin here: the tables state Mirakl's windows exactly.
        if limits is None:
            return CallBudget(clock=self.clock.monotonic, margin=0.0)
        return CallBudget(limits, clock=self.clock.monotonic, margin=0.0)

    def send(
        self,
        script: Script,
        spec: RequestSpec,
        options: RequestOptions | None = None,
        config: TransportConfig | None = None,
    ) -> httpx.Response:
        cfg = config or self.config()
        if self.kind == "sync":
            with SyncTransport(cfg, transport=httpx.MockTransport(script)) as transport:
                return transport.request(spec, options)

        async def run() -> httpx.Response:
            async with AsyncTransport(cfg, transport=httpx.MockTransport(script)) as transport:
                return await transport.request(spec, options)

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)
