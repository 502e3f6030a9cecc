"""Schema migrations (Alembic, configured in code): one set of migrations for both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect, text

from minigroups.adapters.db.engine import Pools, create_engines
from minigroups.adapters.db.errors import DRIVER_ERRORS, translate
from minigroups.adapters.db.tables import metadata

MIGRATIONS_DIRECTORY = Path(__file__).parent / "migrations"

# Instances that start together must not migrate together (PostgreSQL advisory lock key).
_MIGRATION_LOCK_KEY = 0x6D696E6967726F75  # "minigrou"

T = TypeVar("T")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without alembic.ini; `env.py` runs on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    config.attributes["connection"] = connection
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision` (blocking; for the CLI and test fixtures)."""
    _run_in_thread(lambda: migrate_async(database_url, revision))


async def migrate_async(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision`, in one transaction."""
    await _on_connection(database_url, lambda connection: _upgrade(connection, revision))


async def schema_differences(database_url: str) -> list[Any]:
    """What autogenerate would change to make the database match `tables.py` (empty when equal)."""
    return await _on_connection(database_url, _compare)


def _run_in_thread(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # A thread of its own, so that this works whether or not the caller's thread runs a loop.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="minigroups-migrate") as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


async def _on_connection(database_url: str, work: Callable[[Connection], T]) -> T:
    # Foreign keys off on SQLite: batch migrations copy tables, which must not cascade.
    engines = create_engines(database_url, pools=Pools(size=1), foreign_keys=False)
    try:
        async with engines.writer.begin() as connection:
            return await connection.run_sync(work)
    except DRIVER_ERRORS as error:
        raise translate(error) from error
    finally:
        await engines.writer.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    command.upgrade(alembic_config(connection), revision)
    if connection.dialect.name == "sqlite":
        violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if violations:
            raise RuntimeError(f"migration broke foreign keys: {violations[:5]}")


def _compare(connection: Connection) -> list[Any]:
    """Autogenerate's differences, and any one-database index of `tables.py` that is missing.

    Those indexes (an expression, a collation) are compared by name only: Alembic cannot compare
    their reflected definitions reliably, and the other database must not miss them.
    """
    special = {
        index.name: index
        for table in metadata.tables.values()
        for index in table.indexes
        if index.name is not None and "only_on" in index.info
    }

    def include(_item: Any, name: str | None, kind: str, _reflected: bool, _other: Any) -> bool:
        return not (kind == "index" and name in special)

    opts = {"compare_type": True, "include_object": include}
    context = MigrationContext.configure(connection, opts=opts)
    differences: list[Any] = list(compare_metadata(context, _metadata_without(set(special))))
    inspector = inspect(connection)
    for index in special.values():
        if index.info["only_on"] != connection.dialect.name or index.table is None:
            continue
        present = {found["name"] for found in inspector.get_indexes(index.table.name)}
        if index.name not in present:
            differences.append(("add_index", index))
    return differences


def _metadata_without(names: set[str]) -> MetaData:
    """A copy of `tables.py` without the named indexes."""
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        copied = table.to_metadata(copy)
        for index in list(copied.indexes):
            if index.name in names:
                copied.indexes.discard(index)
    return copy
