"""Helpers for testing code built on ``mirakl_sync``.

* :mod:`mirakl_sync.testing.storage_conformance`: the pytest suite every storage backend (built-in
  or plugin) must pass. Importing it needs ``pytest``.
"""

from __future__ import annotations

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed to run the suites
    pass
else:
    # Detailed assertion messages in the shipped suites, as in the user's own test files.
    pytest.register_assert_rewrite("mirakl_sync.testing.storage_conformance")
