"""Client-side call budgets: Mirakl's published maximum call frequencies, enforced before sending.

Mirakl publishes a *maximum usage* per operation (OR11 once per minute, STO02 once every 15 s,
TL02 20 per minute and 60 per hour...). Going above it earns 429s and, on some operators,
warnings. The budget keeps a sliding log of recent calls per operation and tells the transport how
long to wait before the next call may go; the transport waits (up to a limit and never past the
caller's deadline) or raises :class:`~mirakl_sync.errors.CallBudgetExceededError` without sending.

Only the calls that Mirakl's limits are about are budgeted: a listing's first page, not its
continuation pages, and not OR11 lookups by order id (the "synchronous" usage Mirakl allows).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

import attrs

from mirakl_sync.errors import CallBudgetExceededError


@attrs.frozen
class Limit:
    """At most ``calls`` calls in any window of ``per_seconds`` seconds."""

    calls: int = attrs.field(validator=attrs.validators.gt(0))
    per_seconds: float = attrs.field(validator=attrs.validators.gt(0))


def _every(seconds: float) -> tuple[Limit, ...]:
    return (Limit(1, seconds),)


MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

#: Mirakl's published maximum frequencies per seller operation (reference section 2.4). Operations
#: documented as "at each new order / each request" (OR21, OR23, OR24, OR28-OR30) have no budget.
MIRAKL_MAX_FREQUENCIES: Mapping[str, tuple[Limit, ...]] = {
    "OR11": _every(MINUTE),
    "OR13": _every(5 * MINUTE),
    "OR14": _every(2.0),
    "OF01": _every(MINUTE),
    "OF02": _every(MINUTE),
    "OF03": _every(MINUTE),
    "OF52": _every(MINUTE),
    "OF53": _every(10.0),
    "STO01": _every(MINUTE),
    "STO02": _every(15.0),
    "STO03": _every(MINUTE),
    "TL02": (Limit(20, MINUTE), Limit(60, HOUR)),
    "PC01": _every(DAY),
    "SH21": _every(DAY),
}


class CallBudget:
    """Sliding-window call budgets per operation key. Thread-safe; shared by sync and async.

    Args:
        limits: the limits per operation key (default: Mirakl's published maxima). Pass a
            modified copy to tighten or relax them, e.g. for an External Partner key
            (``OR11`` every 15 minutes).
        clock: monotonic seconds (injectable for tests).
        margin: seconds added to every window, so that clock skew and rounding between us and
            Mirakl never make a call land a hair inside the previous window.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[Limit, ...]] = MIRAKL_MAX_FREQUENCIES,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 0.25,
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._margin = margin
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @property
    def limits(self) -> Mapping[str, tuple[Limit, ...]]:
        return dict(self._limits)

    def _wait_locked(self, key: str, now: float) -> float:
        limits = self._limits.get(key)
        if not limits:
            return 0.0
        log = self._calls.setdefault(key, deque())
        horizon = max(limit.per_seconds for limit in limits) + self._margin
        while log and log[0] <= now - horizon:
            log.popleft()
        wait = 0.0
        for limit in limits:
            if len(log) >= limit.calls:
                # The call `limit.calls` back must leave the window first.
                oldest_in_window = log[-limit.calls]
                wait = max(wait, oldest_in_window + limit.per_seconds + self._margin - now)
        return max(0.0, wait)

    def wait_time(self, key: str) -> float:
        """Seconds until a call under ``key`` would be within budget (0 if now)."""
        with self._lock:
            return self._wait_locked(key, self._clock())

    def reserve(self, key: str, *, max_wait: float) -> float:
        """Book the next slot for ``key`` and return the seconds to wait before sending.

        Raises:
            CallBudgetExceededError: the next slot is more than ``max_wait`` seconds away;
                nothing is booked and ``retry_after`` says when the budget frees up.
        """
        with self._lock:
            now = self._clock()
            wait = self._wait_locked(key, now)
            if wait > max_wait:
                raise CallBudgetExceededError(
                    f"Mirakl's maximum call frequency for {key} is reached; "
                    f"next call allowed in {wait:.1f}s",
                    retry_after=wait,
                    operation=key,
                )
            if key in self._limits:
                self._calls.setdefault(key, deque()).append(now + wait)
            return wait
