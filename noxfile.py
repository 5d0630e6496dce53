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
    """Run every benchmark in benchmarks/ and print its ratios."""
    session.install("-e", ".[dev]")
    for script in sorted(__import__("pathlib").Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
