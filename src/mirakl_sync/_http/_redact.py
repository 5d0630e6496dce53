"""Keeping secrets out of reprs, logs, exceptions and files."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "********"

# Query parameter names whose values are never shown (lower-case).
SECRET_QUERY_NAMES = frozenset(
    {"api_key", "apikey", "key", "token", "access_token", "password", "secret", "signature"}
)


class Secret:
    """A string that never shows itself: ``repr``/``str`` print a mask, ``reveal()`` the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a secret must be a string")
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it (an HTTP header)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:  # refuse pickling the raw value
        raise TypeError("Secret values cannot be pickled")


def redact_url(url: str) -> str:
    """The URL without user info and with secret query values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if k.lower() in SECRET_QUERY_NAMES else v) for k, v in pairs],
            safe=",:*",
        )
    else:
        query = ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, secrets: Iterable[Secret]) -> str:
    """``text`` with every secret value (of 4+ characters) replaced by a mask."""
    for secret in secrets:
        value = secret.reveal()
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text
