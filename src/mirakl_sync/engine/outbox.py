"""The outbox executor: every side effect is recorded before it is attempted, and its outcome
after, so a crash or an ambiguous failure never loses nor duplicates it.

For each due item (claimed under a lease, so several workers can share one database):

1. a PLANNED item is marked SENT and committed *before* the remote call;
2. the handler sends it; success is recorded (CONFIRMED) in the same transaction as the
   handler's ledger updates;
3. after an ambiguous failure (timeout, dropped connection, 5xx) or Mirakl's
   ``ORDER_INVALID_STATE``, the handler *re-reads the remote state* (Mirakl has no idempotency
   keys): already applied means CONFIRMED, not applied means retry later, a definite refusal
   means FAILED;
4. an item found SENT when claimed (its worker crashed or lost the answer) is verified first and
   sent again only if the remote state shows it was not applied;
5. 429 and connection errors before sending are retried later; other 4xx fail the item; after
   ``max_attempts`` an item is PARKED for a human.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from mirakl_sync.engine.failpoints import crash_point
from mirakl_sync.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    InvalidStateError,
    RateLimitError,
    ServerError,
)
from mirakl_sync.storage import Storage
from mirakl_sync.storage.errors import LeaseLostError
from mirakl_sync.storage.records import OutboxItem, OutboxStatus

logger = logging.getLogger("mirakl_sync.engine.outbox")

__all__ = ["DependencyPending", "Handler", "OutboxExecutor", "Verdict"]


class DependencyPending(Exception):
    """Raised by a handler's ``send`` when the item must wait for another one (OR24 for its
    OR23): the item is released and tried again shortly, nothing was sent."""


class Verdict(enum.StrEnum):
    """What a re-read of the remote state says about an item."""

    APPLIED = "APPLIED"
    NOT_APPLIED = "NOT_APPLIED"
    REFUSED = "REFUSED"
    """The remote system will never apply it (e.g. the order was refused meanwhile)."""
    UNKNOWN = "UNKNOWN"


class Handler(Protocol):
    """How one kind of outbox item is sent and verified.

    Two methods are optional (looked up on the handler, not part of the protocol):
    ``ready(item) -> bool`` (``False``: the item waits for another one) and
    ``compact(item) -> JSONValue``, the payload kept once the item is confirmed, written with
    the confirmation (for payloads that are large and not needed afterwards).
    """

    def send(self, item: OutboxItem) -> Any:
        """Perform the remote call; return a JSON-safe result or raise APIError."""
        ...

    def verify(self, item: OutboxItem) -> Verdict:
        """Re-read the remote state: was the item applied?"""
        ...

    def confirmed(self, item: OutboxItem, result: Any) -> None:
        """Ledger updates once the item is confirmed (runs inside the confirming transaction)."""
        ...

    def failed(self, item: OutboxItem, reason: str) -> None:
        """Ledger updates once the item failed for good (inside the failing transaction)."""
        ...


def _ambiguous(error: APIError) -> bool:
    """The request may have been applied: timeouts after sending, dropped responses, 5xx."""
    if isinstance(error, APIConnectionError):
        return error.request_sent
    return isinstance(error, ServerError)


@attrs.define(kw_only=True)
class OutboxExecutor:
    """Runs the due outbox items of one shop."""

    storage: Storage
    shop: str
    worker: str
    now: Callable[[], datetime]
    handlers: Mapping[str, Handler]
    lease_seconds: float = 300.0
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    dependency_wait: timedelta = timedelta(seconds=10)

    def _retry_at(self, item: OutboxItem, retry_after: float | None = None) -> datetime:
        if retry_after is not None:
            return self.now() + timedelta(seconds=retry_after)
        exponent = min(max(0, item.attempts - 1), 20)
        backoff: timedelta = self.retry_base * float(2**exponent)
        return self.now() + min(backoff, self.retry_max)

    def run(self, *, kinds: set[str] | None = None, limit: int = 1000) -> Counter[str]:
        """Process due items (all kinds, or only ``kinds``); returns counts per outcome."""
        counts: Counter[str] = Counter()
        claimed = self.storage.claim(
            worker=self.worker,
            now=self.now(),
            lease_seconds=self.lease_seconds,
            limit=limit,
            shop=self.shop,
        )
        for item in claimed:
            if kinds is not None and item.kind not in kinds:
                self.storage.release(
                    self.shop, item.key, worker=self.worker, now=self.now(), retry_at=self.now()
                )
                continue
            try:
                counts[self._process(item)] += 1
            except LeaseLostError:
                logger.warning(
                    "lease lost on %s (another worker took over)",
                    item.key,
                    extra={"shop": self.shop, "outbox_key": item.key},
                )
                counts["lease_lost"] += 1
        return counts

    def run_one(self, key: str) -> str | None:
        """Process one item now if it is due and free (used right after planning it)."""
        item = self.storage.get_item(self.shop, key)
        if item is None or item.status not in (OutboxStatus.PLANNED, OutboxStatus.SENT):
            return None
        claimed_items = self.storage.claim(
            worker=self.worker,
            now=self.now(),
            lease_seconds=self.lease_seconds,
            limit=50,
            shop=self.shop,
        )
        target = None
        for claimed in claimed_items:
            if claimed.key == key:
                target = claimed
            else:  # claimed along the way: give them back untouched
                self.storage.release(
                    self.shop, claimed.key, worker=self.worker, now=self.now(), retry_at=self.now()
                )
        return self._process(target) if target is not None else None

    # -- one item -------------------------------------------------------------------------

    def _process(self, item: OutboxItem) -> str:
        handler = self.handlers.get(item.kind)
        if handler is None:
            self._park(item, f"no handler for outbox kind {item.kind!r}")
            return "parked"
        ready = getattr(handler, "ready", None)
        if ready is not None and not ready(item):
            return self._wait(item, "waiting for another item")
        if item.status == OutboxStatus.SENT:
            # Sent before, outcome never recorded: look before sending again.
            verdict = self._verify(handler, item)
            if verdict is Verdict.APPLIED:
                self._confirm(handler, item, None)
                return "confirmed"
            if verdict is Verdict.REFUSED:
                self._fail(handler, item, "remote state refuses it")
                return "failed"
            if verdict is Verdict.UNKNOWN:
                return self._retry_later(item, "outcome unknown; will re-check")
        else:
            self.storage.mark_sent(self.shop, item.key, worker=self.worker, now=self.now())
            crash_point("outbox.after_mark_sent", item.kind)
        return self._send(handler, item)

    def _send(self, handler: Handler, item: OutboxItem) -> str:
        try:
            result = handler.send(item)
        except DependencyPending as pending:
            return self._wait(item, str(pending))
        except InvalidStateError as error:
            verdict = self._verify(handler, item)
            if verdict is Verdict.APPLIED:
                self._confirm(handler, item, None)
                return "confirmed"
            self._fail(handler, item, f"{error.error_code}: {error.message}")
            return "failed"
        except RateLimitError as error:
            return self._retry_later(item, str(error), error.retry_after)
        except APIError as error:
            if isinstance(error, APIConnectionError) and not error.request_sent:
                return self._retry_later(item, str(error))
            if _ambiguous(error):
                verdict = self._verify(handler, item)
                if verdict is Verdict.APPLIED:
                    self._confirm(handler, item, None)
                    return "confirmed"
                if verdict is Verdict.REFUSED:
                    self._fail(handler, item, str(error))
                    return "failed"
                return self._retry_later(item, str(error))
            if isinstance(error, APIStatusError):
                self._fail(handler, item, str(error))
                return "failed"
            return self._retry_later(item, str(error))
        crash_point("outbox.after_call", item.kind)
        self._confirm(handler, item, result)
        return "confirmed"

    def _verify(self, handler: Handler, item: OutboxItem) -> Verdict:
        try:
            return handler.verify(item)
        except APIError as error:
            logger.info(
                "could not verify %s: %s",
                item.key,
                error,
                extra={"shop": self.shop, "outbox_key": item.key},
            )
            return Verdict.UNKNOWN

    def _confirm(self, handler: Handler, item: OutboxItem, result: Any) -> None:
        compact = getattr(handler, "compact", None)
        kept = compact(item) if compact is not None else None
        with self.storage.transaction():
            self.storage.complete(
                self.shop, item.key, worker=self.worker, now=self.now(), payload=kept
            )
            handler.confirmed(item, result)
        crash_point("outbox.after_complete", item.kind)

    def _fail(self, handler: Handler, item: OutboxItem, reason: str) -> None:
        with self.storage.transaction():
            self.storage.fail(self.shop, item.key, worker=self.worker, now=self.now(), error=reason)
            handler.failed(item, reason)

    def _park(self, item: OutboxItem, reason: str) -> None:
        self.storage.park(self.shop, item.key, worker=self.worker, now=self.now(), reason=reason)

    def _wait(self, item: OutboxItem, reason: str) -> str:
        self.storage.release(
            self.shop,
            item.key,
            worker=self.worker,
            now=self.now(),
            retry_at=self.now() + self.dependency_wait,
            error=reason,
        )
        return "waiting"

    def _retry_later(self, item: OutboxItem, error: str, retry_after: float | None = None) -> str:
        if item.attempts >= self.max_attempts:
            self._park(item, f"gave up after {item.attempts} attempts: {error}")
            return "parked"
        self.storage.release(
            self.shop,
            item.key,
            worker=self.worker,
            now=self.now(),
            retry_at=self._retry_at(item, retry_after),
            error=error[:2000],
        )
        return "retry"
