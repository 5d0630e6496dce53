"""Storage-specific exceptions; all derive from :class:`mirakl_sync.errors.StorageError`."""

from __future__ import annotations

from mirakl_sync.errors import StorageError

__all__ = [
    "InvalidTransitionError",
    "InvalidValueError",
    "LeaseLostError",
    "RecordNotFoundError",
    "StorageError",
]


class InvalidValueError(StorageError, ValueError):
    """A value cannot be stored: wrong type, naive datetime, NUL in an identifier, too long..."""


class RecordNotFoundError(StorageError, LookupError):
    """The record an update refers to does not exist."""


class InvalidTransitionError(StorageError):
    """An outbox status change the lifecycle does not allow (e.g. CONFIRMED -> SENT)."""


class LeaseLostError(StorageError):
    """The caller does not hold the lease on the item (it expired and another worker took it,
    or it was never claimed by this worker)."""
