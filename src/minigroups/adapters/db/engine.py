"""Engines for a database URL: asyncpg for PostgreSQL, aiosqlite for SQLite.

Write units of work run in a transaction (on SQLite it starts with `BEGIN IMMEDIATE`, so writers
serialise and a read-modify-write is atomic); read-only ones run without BEGIN/COMMIT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy import URL, Connection, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# An execution option of ours: a SQLite connection carrying it emits no BEGIN (autocommit).
READ_ONLY_OPTION = "minigroups_read_only"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


@dataclass(frozen=True, slots=True)
class Pools:
    """The connections one process holds (`[database]`; the defaults are its defaults)."""

    size: int = 10  # the units of work's
    timeout: float = 5.0  # seconds to wait for a free connection, or to connect
    max_lifetime: float = 1800.0  # seconds before a unit-of-work connection is replaced
    read_size: int = 16  # the direct statements' own, on PostgreSQL (direct.py)
    read_idle: int = 1  # of those, kept open when idle


@dataclass(frozen=True, slots=True)
class Engines:
    """`writer` (transactions) and `autocommit` (single statements) are one pool seen through two
    engines; `queries`, the read-only units of work (the listing, the console, lookups), has a
    pool of its own on PostgreSQL, whose connections plan each statement for its values."""

    writer: AsyncEngine
    autocommit: AsyncEngine
    queries: AsyncEngine

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"


def async_url(database_url: str) -> URL:
    """`sqlite:///path` → `sqlite+aiosqlite`, `postgres(ql)://` → `postgresql+asyncpg`."""
    try:
        url = make_url(database_url)
    except ArgumentError as error:
        raise ValueError(f"not a database URL: {error}") from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"unsupported database URL scheme {url.drivername!r}")
    url = url.set(drivername=driver)
    if driver.startswith("sqlite") and url.database in (None, "", ":memory:"):
        raise ValueError("a SQLite database must be a file (sqlite:///path/to/file.db)")
    if driver.startswith("postgresql") and "sslmode" in url.query:
        # libpq spells it sslmode; asyncpg takes the same values as `ssl`.
        mode = url.query["sslmode"]
        url = url.difference_update_query(["sslmode"]).update_query_dict({"ssl": mode})
    return url


def shown_url(database_url: str) -> str:
    """The URL as a message may show it: the password hidden."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def create_engines(
    database_url: str,
    *,
    pools: Pools | None = None,
    foreign_keys: bool = True,
) -> Engines:
    """Engines for the URL; `foreign_keys=False` only for SQLite migrations (batch table copies)."""
    url = async_url(database_url)
    pools = pools or Pools()
    pool_timeout = pools.timeout
    common: dict[str, Any] = {
        "pool_size": pools.size,
        "max_overflow": 0,  # pool_size is the hard cap on connections per instance
        "pool_timeout": pool_timeout,
        "pool_recycle": pools.max_lifetime,
    }
    if url.drivername.startswith("sqlite"):
        return _sqlite_engines(url, common, foreign_keys=foreign_keys)
    # The read-only units of work plan every statement for its values (custom plans): asyncpg
    # prepares every statement, and after five executions PostgreSQL may switch to a generic plan
    # that cannot see the parameters. For the listing's statements such a plan walked tens of
    # thousands of rows (benchmarks/README.md). The writers' statements (the pipeline's, keyed
    # lookups and writes) keep PostgreSQL's plan cache: planning each execution again cost
    # PostgreSQL about 75 us of CPU a statement (decisions.md "Pipeline throughput"). PostgreSQL
    # 12 or later.
    writer = _postgres_engine(url, common, pool_timeout, plan_cache_mode=None)
    queries = _postgres_engine(url, common, pool_timeout, plan_cache_mode="force_custom_plan")
    return Engines(
        writer,
        writer.execution_options(isolation_level="AUTOCOMMIT"),
        queries.execution_options(isolation_level="AUTOCOMMIT"),
    )


def _postgres_engine(
    url: URL, common: dict[str, Any], pool_timeout: float, *, plan_cache_mode: str | None
) -> AsyncEngine:
    settings = {"application_name": "minigroups"}
    if plan_cache_mode is not None:
        settings["plan_cache_mode"] = plan_cache_mode
    return create_async_engine(
        url, connect_args={"timeout": pool_timeout, "server_settings": settings}, **common
    )


def _sqlite_connector(path: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    async def connect() -> aiosqlite.Connection:
        # isolation_level None: the sqlite3 module never emits BEGIN itself; we do (below).
        connection = aiosqlite.connect(
            path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_SECONDS
        )
        # As SQLAlchemy does: a connection nobody closed must not keep the process alive.
        connection._thread.daemon = True
        try:
            return await connection
        except BaseException:
            # aiosqlite stops its thread without waiting; wait here, or the thread may report
            # to this event loop after it closed (an unhandled exception in that thread).
            await asyncio.to_thread(connection._thread.join, SQLITE_BUSY_TIMEOUT_SECONDS)
            raise

    return connect


def _sqlite_engines(url: URL, common: dict[str, Any], *, foreign_keys: bool) -> Engines:
    writer = create_async_engine(url, async_creator=_sqlite_connector(url.database or ""), **common)
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}",
        f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}",
    )

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(writer.sync_engine, "connect", on_connect)
    event.listen(writer.sync_engine, "begin", on_begin)
    read_only = writer.execution_options(**{READ_ONLY_OPTION: True})
    return Engines(writer, read_only, read_only)
