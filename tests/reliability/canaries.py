"""Canary credentials: values that must never appear in logs, exceptions, files or cassettes.

``ALL_CANARIES`` also lists the fake keys other test modules send (tests/mirakl, tests/http,
tests/inventory_planner, tests/alerts), so the session-level log scan in ``conftest.py`` covers
the whole suite.
"""

from __future__ import annotations

MIRAKL_KEY = "canary-mirakl-key-7f3a9c"
IP_KEY = "canary-ip-key-0e8b44"
IP_ACCOUNT = "canary-ip-account-51d2"

#: This package's canaries.
CANARIES: tuple[str, ...] = (MIRAKL_KEY, IP_KEY, IP_ACCOUNT)

#: Every fake credential the test suite sends over its mock transports.
ALL_CANARIES: tuple[str, ...] = (
    *CANARIES,
    "canary-4f1e2d3c-api-key",  # tests/mirakl/mock_mirakl.py
    "canary-5e6f7a8b-9c0d-key",  # tests/http/test_redaction.py
    "canary-ip-key-7c1d9e",  # tests/inventory_planner/helpers.py
    "canary-account-42a7",  # tests/inventory_planner/helpers.py
    "whsec-canary-5f3a9c1e",  # tests/alerts/conftest.py
    "smtp-canary-pw-77",  # tests/alerts/test_email.py
)


def hits(text: str | bytes, canaries: tuple[str, ...] = CANARIES) -> list[str]:
    """The canaries found in ``text`` (bytes are searched as UTF-8, UTF-16 and UTF-32 too)."""
    if isinstance(text, str):
        return [c for c in canaries if c in text]
    found = []
    for canary in canaries:
        encodings = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
        if any(canary.encode(e) in text for e in encodings):
            found.append(canary)
    return found
