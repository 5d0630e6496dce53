"""Call budgets: Mirakl's published maximum frequencies enforced before sending (sync and async)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from mirakl_sync._http import MIRAKL_MAX_FREQUENCIES, CallBudget, Limit, RequestSpec
from mirakl_sync.errors import CallBudgetExceededError, RateLimitError
from tests.http.conftest import START, Driver, Script

OR11 = RequestSpec(operation="OR11", method="GET", url="/api/orders", budget_key="OR11")
TL02 = RequestSpec(
    operation="TL02", method="GET", url="/api/sellerpayment/transactions_logs", budget_key="TL02"
)
UNBUDGETED = RequestSpec(operation="OR11", method="GET", url="/api/orders", budget_key=None)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


def test_published_maxima_are_the_defaults() -> None:
    assert MIRAKL_MAX_FREQUENCIES["OR11"] == (Limit(1, 60.0),)
    assert MIRAKL_MAX_FREQUENCIES["STO01"] == (Limit(1, 60.0),)
    assert MIRAKL_MAX_FREQUENCIES["STO02"] == (Limit(1, 15.0),)
    assert MIRAKL_MAX_FREQUENCIES["TL02"] == (Limit(20, 60.0), Limit(60, 3600.0))
    for code in ("OR21", "OR23", "OR24", "OR28", "OR29", "OR30"):
        assert code not in MIRAKL_MAX_FREQUENCIES


def test_second_call_waits_for_the_window(driver: Driver) -> None:
    config = driver.config(budget=driver.budget())
    script = Script([ok, ok])
    driver.send(script, OR11, config=config)
    driver.send(script, OR11, config=config)
    assert driver.clock.sleeps == [60.0]
    assert len(script.requests) == 2


def test_unbudgeted_calls_do_not_wait(driver: Driver) -> None:
    config = driver.config(budget=driver.budget())
    script = Script([ok, ok, ok])
    for _ in range(3):
        driver.send(script, UNBUDGETED, config=config)
    assert driver.clock.sleeps == []


def test_budget_wait_beyond_the_maximum_raises_without_sending(driver: Driver) -> None:
    config = driver.config(budget=driver.budget(), max_budget_wait=10.0)
    script = Script([ok])
    driver.send(script, OR11, config=config)
    with pytest.raises(CallBudgetExceededError) as info:
        driver.send(script, OR11, config=config)
    assert isinstance(info.value, RateLimitError)
    assert info.value.retry_after == pytest.approx(60.0)
    assert info.value.operation == "OR11"
    assert len(script.requests) == 1
    assert driver.clock.sleeps == []


def test_budget_never_waits_past_the_deadline(driver: Driver) -> None:
    config = driver.config(budget=driver.budget())
    script = Script([ok])
    driver.send(script, OR11, config=config)
    with pytest.raises(CallBudgetExceededError):
        driver.send(script, OR11, {"deadline": START + timedelta(seconds=30)}, config=config)
    assert driver.clock.sleeps == []


def test_tl02_twenty_per_minute_then_sixty_per_hour(driver: Driver) -> None:
    budget = driver.budget()
    config = driver.config(budget=budget, max_budget_wait=3600.0)
    script = Script([ok] * 61)
    for _ in range(20):
        driver.send(script, TL02, config=config)
    assert driver.clock.sleeps == []
    driver.send(script, TL02, config=config)  # the 21st waits for the minute to roll
    assert driver.clock.sleeps == [60.0]
    for _ in range(39):
        driver.send(script, TL02, config=config)
    # 60 calls done within the hour; the 61st waits until the first leaves the hour window.
    before = driver.clock.elapsed
    driver.send(script, TL02, config=config)
    assert driver.clock.elapsed - before == pytest.approx(3600.0 - before, abs=1e-6)


def test_custom_limits_for_partner_keys(driver: Driver) -> None:
    limits = dict(MIRAKL_MAX_FREQUENCIES)
    limits["OR11"] = (Limit(1, 900.0),)
    config = driver.config(budget=driver.budget(limits), max_budget_wait=1000.0)
    script = Script([ok, ok])
    driver.send(script, OR11, config=config)
    driver.send(script, OR11, config=config)
    assert driver.clock.sleeps == [900.0]


def test_wait_time_does_not_book() -> None:
    now = [0.0]
    budget = CallBudget(clock=lambda: now[0], margin=0.0)
    assert budget.wait_time("STO02") == 0.0
    assert budget.reserve("STO02", max_wait=0.0) == 0.0
    assert budget.wait_time("STO02") == 15.0
    now[0] = 15.0
    assert budget.wait_time("STO02") == 0.0
    assert budget.reserve("UNKNOWN-OP", max_wait=0.0) == 0.0


def test_the_default_margin_keeps_calls_clear_of_the_window_edge() -> None:
    now = [0.0]
    budget = CallBudget(clock=lambda: now[0])
    assert budget.reserve("OR11", max_wait=0.0) == 0.0
    now[0] = 60.0  # exactly one window later: Mirakl could still count the first call
    assert budget.wait_time("OR11") == pytest.approx(0.25)
    now[0] = 60.25
    assert budget.wait_time("OR11") == 0.0
