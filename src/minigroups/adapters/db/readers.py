"""The read path's own connections (issue 12): R1/R3's one statement without the async ORM layer.

A read is the service's hottest path, and SQLAlchemy's async layer (greenlet hand-offs, pool
checkout events, result processing) cost as much as the rest of the request. The statement is
still built by SQLAlchemy from the one schema (`minigroup_read.py`), compiled once, and run:

- on PostgreSQL, by asyncpg directly, from a small pool of its own (`read_pool.py`; its
  connections are never reset, since the reader's SELECTs change no session state, and keep
  PostgreSQL's default plan caching, which suits a primary-key lookup);
- on SQLite, by the standard `sqlite3` module in the event loop's thread, the columns read by
  SQLAlchemy's own type processors: a read of a few rows from a WAL database takes tens of
  microseconds, less than handing it to a thread and back, and a WAL reader never waits for
  the writer.

Errors leave translated, as from every other adapter (`errors.translating`).
"""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy import Dialect, make_url
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.sql import Select

from minigroups.adapters.db.engine import Pools
from minigroups.adapters.db.errors import translating
from minigroups.adapters.db.minigroup_read import (
    READ_BY_ID,
    READ_BY_ID_ANY_KIND,
    READ_BY_SCOPE,
    read_from_rows,
)
from minigroups.adapters.db.read_pool import ReadPool
from minigroups.domain.ids import AccountId
from minigroups.ports import MinigroupRead

SQLITE_READ_BUSY_MILLISECONDS = 1000  # a WAL reader waits only while the WAL index is rebuilt


class _Compiled:
    """A statement as a DB-API driver runs it: its text for `dialect`, the names of its
    parameters in order, and (with `processors`) SQLAlchemy's own bind and result processors of
    each parameter and column, applied without SQLAlchemy's execution layer."""

    def __init__(self, statement: Select[Any], dialect: Dialect, *, processors: bool) -> None:
        compiled = statement.compile(dialect=dialect)
        self.text = str(compiled)
        self._names = tuple(compiled.positiontup or ())
        self._fixed = dict(compiled.params)
        self._binds: dict[str, Callable[[Any], Any]] = {}
        self._columns: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in self._names if processors else ():
            bind = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if bind is not None:
                self._binds[name] = bind
        for column in statement.selected_columns:
            impl = column.type.dialect_impl(dialect)
            process = impl.result_processor(dialect, None) if processors else None
            self._columns.append((str(column.key), process))
        # A named tuple: made from the driver's row in one C call, its columns read as attributes
        # (a SimpleNamespace built from a dict cost ten times as much; issue 12).
        self._row = _row_type([name for name, _ in self._columns])
        self._processed = any(process is not None for _, process in self._columns)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name in self._names:
            value = values[name] if name in values else self._fixed[name]
            bind = self._binds.get(name)
            arguments.append(value if bind is None or value is None else bind(value))
        return arguments

    def row(self, values: Sequence[Any]) -> Any:
        """A row of the driver (in the statement's column order), its columns as attributes (as
        the row mappers read them), each as SQLAlchemy would read it."""
        if not self._processed:
            return self._row._make(values)
        return self._row._make(
            value if process is None or value is None else process(value)
            for (_, process), value in zip(self._columns, values, strict=True)
        )


def _row_type(names: list[str]) -> Any:
    return namedtuple("Row", names)


async def _init_connection(connection: asyncpg.Connection) -> None:
    # The values SQLAlchemy's JSON type reads (json.loads), decoded by msgspec: the same dicts,
    # lists, strings, numbers (integers of any size), booleans and None, at a sixth of the time
    # (a read decodes up to five JSON columns a row; issue 12).
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=msgspec.json.decode, schema="pg_catalog"
        )


class _Reader:
    """`MinigroupReader` over a driver's `_run` of the read statements compiled for it."""

    def __init__(self, dialect: Dialect, *, processors: bool) -> None:
        self._by_id = _Compiled(READ_BY_ID, dialect, processors=processors)
        self._by_id_any_kind = _Compiled(READ_BY_ID_ANY_KIND, dialect, processors=processors)
        self._by_scope = _Compiled(READ_BY_SCOPE, dialect, processors=processors)

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

    async def _read(self, statement: _Compiled, values: Mapping[str, Any]) -> MinigroupRead | None:
        with translating():
            rows = await self._run(statement.text, statement.arguments(values))
        return read_from_rows([statement.row(row) for row in rows])

    async def _run(self, text: str, arguments: list[Any]) -> Sequence[Sequence[Any]]:
        """The rows of one statement, each its values in the statement's column order."""
        raise NotImplementedError


class AsyncpgReader(_Reader):
    """`MinigroupReader` on PostgreSQL: asyncpg and `read_pool.ReadPool` of `pools.read_size`
    connections (opened on first use, `pools.read_idle` of them kept warm from then on)."""

    def __init__(self, database_url: str, pools: Pools) -> None:
        super().__init__(PGDialect_asyncpg(), processors=False)  # type: ignore[no-untyped-call]
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self._pools = pools
        self._pool = ReadPool(
            self._connect,
            size=pools.read_size,
            timeout=pools.timeout,
            max_lifetime=pools.max_lifetime,
            keep_idle=pools.read_idle,
        )
        self._warmed = False

    async def close(self) -> None:
        with translating():
            await self._pool.close()

    async def _run(self, text: str, arguments: list[Any]) -> Sequence[Sequence[Any]]:
        if not self._warmed:
            self._warmed = True
            await self._pool.warm(min(self._pools.read_idle, self._pools.read_size))
        async with self._pool.connection() as connection:
            records: list[asyncpg.Record] = await connection.fetch(text, *arguments)
        return records

    async def _connect(self) -> asyncpg.Connection:
        # A statement gets the pool's timeout too: on the server (statement_timeout) and in
        # asyncpg's protocol (command_timeout, a timer of the protocol's own, no task).
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            command_timeout=self._pools.timeout,
            server_settings={
                "application_name": "minigroups-read",
                "statement_timeout": str(int(self._pools.timeout * 1000)),
            },
        )
        try:
            await _init_connection(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection


class SqliteReader(_Reader):
    """`MinigroupReader` on SQLite: one `sqlite3` connection used in the event loop's thread;
    the columns are read by SQLAlchemy's own type processors (`_Compiled`), so a value reads the
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

    async def _run(self, text: str, arguments: list[Any]) -> Sequence[Sequence[Any]]:
        connection = self._connection or self._open()  # nothing awaits: one read at a time
        rows: list[Any] = connection.execute(text, arguments).fetchall()
        return rows

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
