"""Database URLs, and the SQLite connection settings."""

from __future__ import annotations

import pytest

from minigroups.adapters.db import create_store
from minigroups.adapters.db.engine import async_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///minigroups.db", "sqlite+aiosqlite:///minigroups.db"),
        ("sqlite:////var/lib/minigroups.db", "sqlite+aiosqlite:////var/lib/minigroups.db"),
        ("postgresql://u:p@db:5432/mg", "postgresql+asyncpg://u:p@db:5432/mg"),
        ("postgres://u@db/mg", "postgresql+asyncpg://u@db/mg"),
        ("postgresql+asyncpg://u@db/mg", "postgresql+asyncpg://u@db/mg"),
        ("postgresql://u@db/mg?sslmode=require", "postgresql+asyncpg://u@db/mg?ssl=require"),
    ],
)
def test_urls_select_the_async_drivers(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "given", ["mysql://u@db/mg", "sqlite://", "sqlite:///:memory:", "not a url"]
)
def test_unsupported_urls_are_rejected(given: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the cause
        async_url(given)


async def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_url: str) -> None:
    store = create_store(sqlite_url)
    try:
        async with store.unit_of_work(read_only=True) as uow:
            assert uow._connection is not None
            pragmas = [
                (await uow._connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
    finally:
        await store.close()

    assert pragmas == ["wal", 1, 30_000]
