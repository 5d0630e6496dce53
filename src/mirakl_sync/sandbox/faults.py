"""Seedable fault injection for the sandboxes.

A :class:`Faults` object holds an ordered list of :class:`FaultRule` and one ``random.Random``
seeded by the user. For every request, the rules matching the operation are drawn in order; the
first one that fires decides what the network does to that request. With the same seed, the same
rules and the same request sequence, the same faults fire: runs are reproducible.

Fault kinds (:class:`FaultKind`):

* ``rate_limit``: HTTP 429 with ``Retry-After`` (seconds, or an HTTP-date with ``http_date``);
  nothing is applied.
* ``server_error``: HTTP 5xx (default 503, with ``Retry-After`` when ``retry_after`` is set);
  nothing is applied.
* ``timeout``: the transport raises ``httpx.ReadTimeout``; nothing is applied.
* ``connect_error``: the transport raises ``httpx.ConnectError``; the request never arrived.
* ``dropped_connection``: the transport raises ``httpx.RemoteProtocolError``; nothing is applied.
* ``response_lost``: the write **is applied**, then the caller sees ``httpx.ReadTimeout`` (or the
  status given in ``status``, e.g. 502 or 504): the ambiguous failure that causes duplicates.
* ``slow``: the response is delayed by ``delay`` seconds; when that exceeds the request's read
  timeout the request is applied and the caller sees ``httpx.ReadTimeout``. The delay is only
  really slept when ``Faults(real_sleep=True)``; otherwise it is recorded on the call.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["FaultKind", "FaultRule", "Faults"]


class FaultKind(StrEnum):
    """What the simulated network does to a request."""

    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECT_ERROR = "connect_error"
    DROPPED_CONNECTION = "dropped_connection"
    RESPONSE_LOST = "response_lost"
    SLOW = "slow"


@dataclass
class FaultRule:
    """One fault source.

    Attributes:
        kind: the fault.
        operation: the operation code it applies to (``"OR21"``, ``"STO01"``, an Inventory
            Planner operation such as ``"purchase-orders.create"``) or ``"*"`` for all.
        probability: chance (0..1) that a matching request gets the fault.
        times: fire at most this many times (``None``: unlimited).
        skip: let the first ``skip`` matching requests through untouched.
        status: HTTP status for ``server_error`` (default 503) and ``response_lost`` (default:
            raise ``ReadTimeout`` instead of answering).
        retry_after: seconds for the ``Retry-After`` header (429, and 503 when set).
        http_date: send ``Retry-After`` as an HTTP-date instead of seconds.
        delay: seconds of latency for ``slow``.
    """

    kind: FaultKind
    operation: str = "*"
    probability: float = 1.0
    times: int | None = None
    skip: int = 0
    status: int | None = None
    retry_after: float | None = None
    http_date: bool = False
    delay: float = 0.0
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def matches(self, operation: str | None) -> bool:
        return self.operation == "*" or (operation is not None and self.operation == operation)


class Faults:
    """An ordered, seeded set of fault rules (see the module docstring)."""

    def __init__(self, seed: int = 0, *, real_sleep: bool = False) -> None:
        self.seed = seed
        self.real_sleep = real_sleep
        self.enabled = True
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Faults(seed={self.seed}, rules={len(self.rules)}, enabled={self.enabled})"

    def add(
        self,
        kind: FaultKind | str,
        operation: str = "*",
        *,
        probability: float = 1.0,
        times: int | None = None,
        skip: int = 0,
        status: int | None = None,
        retry_after: float | None = None,
        http_date: bool = False,
        delay: float = 0.0,
    ) -> FaultRule:
        """Append a rule and return it (its ``fired`` counter tells how often it fired)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        rule = FaultRule(
            kind=FaultKind(kind),
            operation=operation,
            probability=probability,
            times=times,
            skip=skip,
            status=status,
            retry_after=retry_after,
            http_date=http_date,
            delay=delay,
        )
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (the random sequence is kept)."""
        with self._lock:
            self.rules.clear()

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from ``seed`` and reset every rule's counters."""
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)
            for rule in self.rules:
                rule.seen = 0
                rule.fired = 0

    def draw(self, operation: str | None) -> FaultRule | None:
        """The rule that fires for this request, if any (advances the seeded sequence)."""
        if not self.enabled:
            return None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(operation):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                roll = self._rng.random()
                if roll < rule.probability:
                    rule.fired += 1
                    return rule
            return None
