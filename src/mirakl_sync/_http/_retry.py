"""The retry policy: a pure, table-driven object, adapted to tenacity by the transports.

* Idempotent requests (GET) are retried on connection errors and timeouts, on 429 and on
  502/503/504.
* Non-idempotent writes (PUT/POST: OR21 accept, OR28 refund, STO01 import...) are retried
  automatically only when the request certainly never left (a connect error) or on 429, which
  Mirakl answers before processing. Anything ambiguous (read timeout, 5xx) is raised to the caller,
  who must re-read the remote state before sending again: Mirakl has no idempotency keys.
* ``Retry-After`` is honoured in both its forms (delay-seconds and HTTP-date) and capped; a value
  above the cap means "do not retry" and the caller gets a ``RateLimitError`` with the wait.
* Otherwise the wait is exponential with full jitter, capped.
* No wait ever crosses the caller's deadline: the last error is raised instead.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable
from datetime import UTC, datetime

import attrs

from mirakl_sync.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    CallBudgetExceededError,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or ``None`` if absent/unreadable.

    Accepts delay-seconds (``"120"``, also ``"1.5"``) and HTTP-dates
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How failed requests are retried. All durations are in seconds.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        backoff_initial: first exponential backoff step.
        backoff_max: cap of one exponential backoff wait.
        retry_after_cap: longest ``Retry-After`` honoured; above it the error is raised.
        retry_statuses: statuses retried for idempotent requests (429 is retried for all).
    """

    max_retries: int = attrs.field(default=4, validator=attrs.validators.ge(0))
    backoff_initial: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    backoff_max: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    retry_after_cap: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def should_retry(
        self, method: str, error: BaseException, *, idempotent: bool | None = None
    ) -> bool:
        """Whether ``error`` from a ``method`` request may be retried (ignoring waits/limits).
        ``idempotent`` overrides the method's default (GET/HEAD/OPTIONS are idempotent)."""
        if not isinstance(error, APIError) or isinstance(error, CallBudgetExceededError):
            return False  # a spent budget was already judged too long to wait for
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        if isinstance(error, APIConnectionError):
            return idempotent or not error.request_sent
        if isinstance(error, APIStatusError):
            if error.status_code == 429:
                return True
            return idempotent and error.status_code in self.retry_statuses
        return False

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter exponential wait before retry ``retry_number`` (1-based)."""
        exponent = max(0, min(retry_number - 1, 62))
        ceiling = min(self.backoff_max, self.backoff_initial * float(2**exponent))
        return ceiling * rand()

    def wait_before_retry(
        self, retry_number: int, error: BaseException, rand: Callable[[], float] = random.random
    ) -> float | None:
        """Seconds to wait before retry ``retry_number``; ``None`` means "do not retry".

        A ``Retry-After`` (already parsed into ``RateLimitError.retry_after`` or present on a
        503) wins over backoff; one above ``retry_after_cap`` stops retrying.
        """
        retry_after = retry_after_of(error)
        if retry_after is not None:
            if retry_after > self.retry_after_cap:
                return None
            return retry_after
        return self.backoff(retry_number, rand)


def retry_after_of(error: BaseException) -> float | None:
    """The server-advised wait carried by an error, if any."""
    if isinstance(error, APIStatusError):
        return error.retry_after
    return None
