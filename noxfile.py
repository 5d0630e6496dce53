"""Developer sessions: ``nox -s tests typing lint docs``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "typing", "lint"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (cassettes replay only, network blocked)."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on src and tests."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src", "tests")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors."""
    session.install("-e", ".[dev]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark (benchmarks/run_all.py): one table, written to docs/performance.md.

    ``mirakl-lib`` (the OR11 pull baseline) is installed here only, never as a project
    dependency; its own dependency list names the obsolete ``typing`` backport, so it goes in
    with ``--no-deps`` next to the two libraries it really uses. Arguments after ``--`` go to
    run_all.py (e.g. ``nox -s bench -- --quick`` or ``-- --only pull,import``).
    """
    session.install("-e", ".[dev]")
    session.install("pydantic>=2", "requests")
    session.install("--no-deps", "mirakl-lib==0.1.1")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
