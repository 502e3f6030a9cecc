"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import database_url, postgres_template, postgres_url, sqlite_url
from tests.support.logs import restored_logging

__all__ = ["database_url", "postgres_template", "postgres_url", "sqlite_url"]


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """A test that runs a command in process configures logging: the next test gets it back."""
    with restored_logging():
        yield
