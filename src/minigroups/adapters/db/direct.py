"""Statements run by a driver directly, without SQLAlchemy's execution layer (issue 12).

The hot paths (a read, a create's two writes) are still built by SQLAlchemy from the one schema,
compiled once here and run: on PostgreSQL by asyncpg from a small pool of its own (`DirectPool`,
created on first use), on SQLite by `sqlite3` (the read path) or the units of work (the writes).
SQLAlchemy's async layer (greenlet hand-offs, pool checkout events, result processing) cost as
much as the rest of the request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import asyncpg
from sqlalchemy import Dialect, make_url
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

from minigroups.adapters.db.engine import Pools
from minigroups.adapters.db.errors import translating


class Compiled:
    """A statement as a DB-API driver runs it: its text for `dialect`, the names of its
    parameters in order, and (with `processors`) SQLAlchemy's own bind and result processors of
    each parameter and column, applied without SQLAlchemy's execution layer."""

    def __init__(
        self, statement: Select[Any] | UpdateBase, dialect: Dialect, *, processors: bool
    ) -> None:
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
        for column in statement.exported_columns:
            impl = column.type.dialect_impl(dialect)
            process = impl.result_processor(dialect, None) if processors else None
            self._columns.append((str(column.key), process))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name in self._names:
            value = values[name] if name in values else self._fixed[name]
            bind = self._binds.get(name)
            arguments.append(value if bind is None or value is None else bind(value))
        return arguments

    def row(self, values: Sequence[Any]) -> SimpleNamespace:
        """A row of the driver (in the statement's column order), its columns as attributes (as
        the row mappers read them), each as SQLAlchemy would read it."""
        return SimpleNamespace(
            **{
                name: value if process is None or value is None else process(value)
                for (name, process), value in zip(self._columns, values, strict=True)
            }
        )


async def _init_connection(connection: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):  # as SQLAlchemy's JSON type reads and writes them
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(_: asyncpg.Connection) -> None:
    """A released connection is not reset: only single statements run here, each its own
    transaction, which leave no session state behind; asyncpg's default reset is one more round
    trip per statement."""


class DirectPool:
    """asyncpg's own pool of `pools.read_size` connections for single autocommit statements."""

    def __init__(self, database_url: str, pools: Pools) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
        self._pools = pools
        self._timeout = pools.timeout
        self._pool: asyncpg.Pool | None = None
        self._starting = asyncio.Lock()

    async def fetch(self, statement: Compiled, values: Mapping[str, Any]) -> list[SimpleNamespace]:
        """The rows of one statement, as `statement.row` reads them; errors leave translated."""
        with translating():
            pool = self._pool or await self._start()
            # asyncio.timeout rather than acquire(timeout=): asyncpg's wait_for makes a task
            async with asyncio.timeout(self._timeout), pool.acquire() as connection:
                records: list[asyncpg.Record] = await connection.fetch(
                    statement.text, *statement.arguments(values)
                )
        return [statement.row(record) for record in records]

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with translating():
                await pool.close()

    async def _start(self) -> asyncpg.Pool:
        async with self._starting:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=min(self._pools.read_idle, self._pools.read_size),
                    max_size=self._pools.read_size,
                    timeout=self._timeout,
                    init=_init_connection,
                    reset=_keep_session,
                    server_settings={"application_name": "minigroups-read"},
                )
            return self._pool
