"""A clock the test controls: sandbox time moves only when :meth:`SandboxClock.advance` is called.

Every deadline in the sandbox (Mirakl's acceptance window, import and export completion, payment
confirmation, call-frequency windows) is measured on this clock, never on the wall clock, so a
test can jump three days ahead in microseconds and get the same result on every run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["DEFAULT_START", "SandboxClock"]

DEFAULT_START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


class SandboxClock:
    """A manually advanced, timezone-aware UTC clock shared by one or more sandboxes.

    Listeners registered with :meth:`subscribe` run after each move, with the new time; the
    sandboxes use them to fire due events (auto-refusals, import completion) deterministically.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or DEFAULT_START
        if start.tzinfo is None:
            raise ValueError("SandboxClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.RLock()
        self._listeners: list[Callable[[datetime], None]] = []

    def __repr__(self) -> str:
        return f"SandboxClock({self._now.isoformat()})"

    def now(self) -> datetime:
        """The current sandbox time (aware, UTC)."""
        with self._lock:
            return self._now

    def timestamp(self) -> float:
        """The current sandbox time as POSIX seconds."""
        return self.now().timestamp()

    def advance(
        self,
        delta: timedelta | float | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> datetime:
        """Move time forward (``delta`` as a timedelta or seconds, plus keyword units).

        Returns the new time. Moving backwards is refused: sandbox time is monotonic.
        """
        step = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if isinstance(delta, timedelta):
            step += delta
        elif delta is not None:
            step += timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("the sandbox clock cannot go backwards")
        with self._lock:
            self._now += step
            now = self._now
            listeners = list(self._listeners)
        for listener in listeners:
            listener(now)
        return now

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (no-op when it is already past)."""
        current = self.now()
        return self.advance(max(when - current, timedelta(0)))

    def subscribe(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(now)`` after every move of the clock."""
        with self._lock:
            self._listeners.append(listener)
