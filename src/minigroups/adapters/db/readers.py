"""The read path's own connections (issue 12): R1/R3's one statement without the async ORM layer.

A read is the service's hottest path, and SQLAlchemy's async layer (greenlet hand-offs, pool
checkout events, result processing) cost as much as the rest of the request. The statement is
still built by SQLAlchemy from the one schema (`minigroup_read.py`), compiled once (`direct.py`),
and run:

- on PostgreSQL, by asyncpg directly, from a small pool of its own (`direct.DirectPool` over
  `read_pool.ReadPool`, shared with a create's two writes; its connections are never reset, and
  keep PostgreSQL's default plan caching, which suits a primary-key lookup);
- on SQLite, by the standard `sqlite3` module in the event loop's thread, the columns read by
  SQLAlchemy's own type processors: a read of a few rows from a WAL database takes tens of
  microseconds, less than handing it to a thread and back, and a WAL reader never waits for
  the writer.

Errors leave translated, as from every other adapter (`errors.translating`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Dialect
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from minigroups.adapters.db.direct import Compiled, DirectPool
from minigroups.adapters.db.errors import translating
from minigroups.adapters.db.minigroup_read import (
    READ_BY_ID,
    READ_BY_ID_ANY_KIND,
    READ_BY_SCOPE,
    read_from_rows,
)
from minigroups.domain.ids import AccountId
from minigroups.ports import MinigroupRead

SQLITE_READ_BUSY_MILLISECONDS = 1000  # a WAL reader waits only while the WAL index is rebuilt


class _Reader:
    """`MinigroupReader` over a driver's `_run` of the read statements compiled for it."""

    def __init__(self, dialect: Dialect, *, processors: bool) -> None:
        self._by_id = Compiled(READ_BY_ID, dialect, processors=processors)
        self._by_id_any_kind = Compiled(READ_BY_ID_ANY_KIND, dialect, processors=processors)
        self._by_scope = Compiled(READ_BY_SCOPE, dialect, processors=processors)

    async def read_by_id(
        self, minigroup_id: UUID, viewer: AccountId, *, any_kind: bool = False
    ) -> MinigroupRead | None:
        statement = self._by_id_any_kind if any_kind else self._by_id
        return await self._read(statement, {"p_id": minigroup_id, "p_viewer": viewer.key()})

    async def read_by_scope(
        self, audience: str, scope: str, viewer: AccountId
    ) -> MinigroupRead | None:
        values = {"p_audience": audience, "p_scope": scope, "p_viewer": viewer.key()}
        return await self._read(self._by_scope, values)

    async def _read(self, statement: Compiled, values: Mapping[str, Any]) -> MinigroupRead | None:
        return read_from_rows(await self._run(statement, values))

    async def _run(self, statement: Compiled, values: Mapping[str, Any]) -> list[Any]:
        """The rows of one statement, read by `statement.row`; errors leave translated."""
        raise NotImplementedError


class AsyncpgReader(_Reader):
    """`MinigroupReader` on PostgreSQL: asyncpg and its pool of `pools.read_size` connections
    (`direct.DirectPool`, shared with a create's two writes)."""

    def __init__(self, pool: DirectPool) -> None:
        super().__init__(PGDialect_asyncpg(), processors=False)  # type: ignore[no-untyped-call]
        self._pool = pool

    async def close(self) -> None:
        await self._pool.close()

    async def _run(self, statement: Compiled, values: Mapping[str, Any]) -> list[Any]:
        return await self._pool.fetch(statement, values)


class SqliteReader(_Reader):
    """`MinigroupReader` on SQLite: one `sqlite3` connection used in the event loop's thread;
    the columns are read by SQLAlchemy's own type processors (`Compiled`), so a value reads the
    same as through the units of work (a test compares them)."""

    def __init__(self, path: str) -> None:
        super().__init__(SQLiteDialect_pysqlite(), processors=True)
        self._path = path
        self._connection: sqlite3.Connection | None = None

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with translating():
                connection.close()

    async def _run(self, statement: Compiled, values: Mapping[str, Any]) -> list[Any]:
        with translating():
            connection = self._connection or self._open()  # nothing awaits: one read at a time
            rows = connection.execute(statement.text, statement.arguments(values)).fetchall()
        return [statement.row(row) for row in rows]

    def _open(self) -> sqlite3.Connection:
        # Autocommit (no transaction left open between reads, so no snapshot pins the WAL);
        # used only from the event loop's thread, which need not be the constructing one.
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA query_only = ON")
            connection.execute(f"PRAGMA busy_timeout = {SQLITE_READ_BUSY_MILLISECONDS}")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection
