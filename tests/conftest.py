"""Shared test configuration: VCR cassettes replay only, with secret and personal-data filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mirakl_sync.testing.vcr import register_matchers
from mirakl_sync.testing.vcr import vcr_config as _vcr_config

CASSETTES = Path(__file__).parent / "cassettes"


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    register_matchers(vcr)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return _vcr_config()


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)
