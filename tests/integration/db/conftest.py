"""A store on a migrated database of each kind (`database_url` comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minigroups.adapters.db import SqlStore, create_store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    store = create_store(database_url)
    yield store
    await store.close()
