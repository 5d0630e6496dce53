"""Session-level secret check (reliability.md §7 target 13).

Whenever ``tests/reliability`` is part of the run (the full suite in CI), a handler on the
``mirakl_sync``, ``httpx`` and ``httpcore`` loggers sees every record any test emits, from the
end of collection to the end of the session, and the session fails if one contains a known
canary credential (:data:`tests.reliability.canaries.ALL_CANARIES`), naming the test. It does
not change logger levels: it sees what each test enables (``test_secrets.py`` runs at DEBUG).
"""

from __future__ import annotations

import logging
import os

import pytest

from tests.reliability.canaries import ALL_CANARIES, hits

WATCHED_LOGGERS = ("mirakl_sync", "httpx", "httpcore")


class CanaryLogScanner(logging.Handler):
    """Records (test, logger, excerpt) for every log record that contains a canary."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.leaks: list[tuple[str, str, str]] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.seen += 1
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is another test's business
            text = f"{record.msg!r} {record.args!r}"
        text = " ".join([text, record.exc_text or "", repr(getattr(record, "__dict__", {}))])
        found = hits(text, ALL_CANARIES)
        if found:
            test = os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)")
            self.leaks.append((test, record.name, ", ".join(found)))


_SCANNER = CanaryLogScanner()


def pytest_collection_finish(session: pytest.Session) -> None:
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).addHandler(_SCANNER)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).removeHandler(_SCANNER)
    if not _SCANNER.leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"canary secret in a log record: {test} [{logger}] {which}"
        for test, logger, which in _SCANNER.leaks
    ]
    if reporter is not None:
        reporter.write_sep("=", "secret leak check (tests/reliability/conftest.py)", red=True)
        for line in lines[:50]:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
