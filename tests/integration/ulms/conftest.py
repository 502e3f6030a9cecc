"""Fixtures of the ULMS integration tests: a throwaway Mosquitto per test and a ULMS service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.ulms.service import UlmsApi, ulms_api
from tests.support.mosquitto import Mosquitto, mosquitto

__all__ = ["mosquitto", "service"]


@pytest.fixture
async def service(sqlite_url: str, tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[UlmsApi]:
    """A ULMS service on SQLite, its broker and simulated peers, started."""
    async with ulms_api(sqlite_url, tmp_path, mosquitto) as started:
        yield started
