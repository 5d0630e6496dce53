"""The library's one exception tree.

Everything the library raises derives from :class:`MiraklSyncError`. Raw ``httpx`` exceptions never
escape a client: transport failures become :class:`APIConnectionError` (or
:class:`APITimeoutError`), HTTP error statuses become one :class:`APIStatusError` subclass per
status family, and bodies that cannot be parsed into the typed models become
:class:`ResponseValidationError`.

Each API error carries the Mirakl operation code (``OR21``...), the HTTP method, the URL with any
secret stripped, the status, Mirakl's message, Mirakl's machine error code when one can be found
(``ORDER_INVALID_STATE``...) and a short excerpt of the body.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CallBudgetExceededError",
    "ConfigurationError",
    "ConflictError",
    "InvalidStateError",
    "MiraklSyncError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "StorageError",
    "status_error_class",
]

BODY_EXCERPT_CHARS = 500

# Mirakl error codes that mean "the order is not in the state this write expects". A repeated
# OR21 after a lost 204 returns ORDER_INVALID_STATE: the write was already applied.
STATE_ERROR_CODES = frozenset(
    {
        "ORDER_INVALID_STATE",
        "ORDER_LINE_INVALID_STATE",
        "ORDER_FULFILLED_UNAUTHORIZED",
        "ORDER_LINE_ALREADY_REFUNDED",
        "ORDER_LINE_ALREADY_ADJUSTED",
    }
)


class MiraklSyncError(Exception):
    """Root of every exception raised by ``mirakl_sync``."""


class ConfigurationError(MiraklSyncError):
    """Invalid or missing configuration (a bad base URL, an unknown option...)."""


class StorageError(MiraklSyncError):
    """A storage backend failed or was misconfigured."""


class APIError(MiraklSyncError):
    """A call to a remote API (Mirakl or Inventory Planner) failed.

    Attributes:
        operation: the operation code, e.g. ``"OR21"`` (``None`` when not a named operation).
        method: the HTTP method.
        url: the request URL with credentials and secret query values removed.
        message: a human-readable message (Mirakl's own message when it sent one).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.message = message
        self.operation = operation
        self.method = method
        self.url = url
        super().__init__(self._render())

    def _context(self) -> str:
        parts = [p for p in (self.operation, self.method, self.url) if p]
        return " ".join(parts)

    def _render(self) -> str:
        context = self._context()
        return f"{context}: {self.message}" if context else self.message

    @property
    def retryable(self) -> bool:
        """Whether repeating the same request may succeed (idempotent requests only)."""
        return False


class APIConnectionError(APIError):
    """The request could not be completed at the transport level.

    ``request_sent`` is ``False`` only when the request certainly never left this process (DNS or
    connect failure, pool timeout): only then is it safe to repeat a non-idempotent write.
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool,
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.request_sent = request_sent
        super().__init__(message, operation=operation, method=method, url=url)

    @property
    def retryable(self) -> bool:
        return True


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class APIStatusError(APIError):
    """The server answered with an error status (4xx or 5xx).

    Attributes:
        status_code: the HTTP status.
        error_code: Mirakl's machine error code when the body carries one
            (``ORDER_INVALID_STATE``...), else ``None``.
        body_excerpt: the first characters of the body, secrets removed.
        headers: the response headers (a plain mapping, lower-case names).
        retry_after: seconds the server asked to wait (``Retry-After``), when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
        error_code: str | None = None,
        body_excerpt: str = "",
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        self.error_code = error_code
        self.body_excerpt = body_excerpt[:BODY_EXCERPT_CHARS]
        self.headers: Mapping[str, str] = dict(headers or {})
        super().__init__(message, operation=operation, method=method, url=url)

    def _render(self) -> str:
        code = f" [{self.error_code}]" if self.error_code else ""
        context = self._context()
        prefix = f"{context} -> " if context else ""
        return f"{prefix}HTTP {self.status_code}{code}: {self.message}"


class BadRequestError(APIStatusError):
    """HTTP 400: bad parameters, or (on Mirakl) a write on an entity in the wrong state."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key lacks the role for this operation (or the operator disabled it)."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown entity, or an operation this Mirakl instance does not offer."""


class ConflictError(APIStatusError):
    """HTTP 409/412, or a Mirakl state error: the entity is not in the expected state."""


class InvalidStateError(BadRequestError, ConflictError):
    """Mirakl's 400 with a state error code such as ``ORDER_INVALID_STATE``.

    After an ambiguous failure this usually means the earlier attempt was applied: re-read the
    entity to tell "already done" from "really refused".
    """


class RateLimitError(APIStatusError):
    """HTTP 429 (or a wait longer than allowed). ``retry_after`` is the advised wait in seconds."""

    @property
    def retryable(self) -> bool:
        return True


class CallBudgetExceededError(RateLimitError):
    """The client-side call budget for an operation (Mirakl's published maximum frequency) is
    spent and waiting for it would pass the caller's deadline or the configured maximum wait.
    No request was sent."""

    def __init__(self, message: str, *, retry_after: float, operation: str | None = None) -> None:
        super().__init__(message, status_code=429, retry_after=retry_after, operation=operation)

    def _render(self) -> str:
        return f"{self.operation or ''} call budget: {self.message}".strip()


class ServerError(APIStatusError):
    """HTTP 5xx."""

    @property
    def retryable(self) -> bool:
        return self.status_code in (500, 502, 503, 504)


class ResponseValidationError(APIError):
    """The response body could not be parsed into the expected typed model.

    ``details`` lists the failing paths (from cattrs), ``body_excerpt`` shows the start of the body.
    """

    def __init__(
        self,
        message: str,
        *,
        details: tuple[str, ...] = (),
        body_excerpt: str = "",
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.details = details
        self.body_excerpt = body_excerpt[:BODY_EXCERPT_CHARS]
        super().__init__(message, operation=operation, method=method, url=url)

    def _render(self) -> str:
        base = super()._render()
        if self.details:
            return base + " (" + "; ".join(self.details[:5]) + ")"
        return base


class ResponseTooLargeError(ResponseValidationError):
    """The response body was larger than the client's ``max_response_bytes``.

    Reading stopped at the limit (the body is never fully buffered) and the connection was closed.
    Not retried: the same request would return the same body. Raise the limit for the call
    (``max_response_bytes=`` on the client or per call), or ask for smaller pages or chunks.

    Attributes:
        max_bytes: the limit that was exceeded.
    """

    def __init__(
        self,
        message: str,
        *,
        max_bytes: int,
        operation: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        super().__init__(message, operation=operation, method=method, url=url)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: ConflictError,
    429: RateLimitError,
}


def status_error_class(status_code: int, error_code: str | None = None) -> type[APIStatusError]:
    """The exception class for an HTTP error status (and Mirakl error code, when known)."""
    if error_code in STATE_ERROR_CODES and status_code in (400, 409):
        return InvalidStateError
    if status_code in _STATUS_CLASSES:
        return _STATUS_CLASSES[status_code]
    if status_code >= 500:
        return ServerError
    return APIStatusError
