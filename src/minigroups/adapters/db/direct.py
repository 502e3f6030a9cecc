"""Statements run by a driver directly, without SQLAlchemy's execution layer (issue 12).

The hot paths (a read, a create's two writes, the pipeline's single-statement units of work) are
still built by SQLAlchemy from the one schema, compiled once here and run: on PostgreSQL by
asyncpg from a small pool of its own (`DirectPool` over `read_pool.ReadPool`), on SQLite by
`sqlite3` (the read path) or the units of work (the writes).
SQLAlchemy's async layer (greenlet hand-offs, pool checkout events, result processing) cost as
much as the rest of the request.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import Dialect, make_url
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

from minigroups.adapters.db.engine import Pools
from minigroups.adapters.db.errors import DRIVER_ERRORS, translate, translating
from minigroups.adapters.db.read_pool import ReadPool


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
    # As SQLAlchemy's asyncpg dialect sets them, so that a `Compiled` with `processors` runs here
    # as it runs on SQLAlchemy's connections: a JSON value is bound already serialized (by the JSON
    # type's bind processor) and read back decoded; by msgspec here, which reads the same dicts,
    # lists, strings, numbers (integers of any size), booleans and None as json.loads, at a sixth
    # of the time (a read decodes up to five JSON columns a row; issue 12).
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=_serialized, decoder=msgspec.json.decode, schema="pg_catalog"
        )


def _serialized(value: Any) -> str:
    if not isinstance(value, str):  # a statement compiled without its bind processors
        raise TypeError(f"a JSON parameter is bound serialized, not as {type(value).__name__}")
    return value


def rowcount(status: str) -> int:
    """The rows a statement matched, from its status: "UPDATE 3", "DELETE 0", "INSERT 0 1"."""
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


class DirectPool:
    """`read_pool.ReadPool` of `pools.read_size` asyncpg connections for single autocommit
    statements (opened on first use, `pools.read_idle` of them kept warm from then on). They are
    never reset: only single statements run here, each its own transaction, which leave no
    session state behind (asyncpg's default reset is one more round trip per statement)."""

    def __init__(self, database_url: str, pools: Pools) -> None:
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

    async def fetch(self, statement: Compiled, values: Mapping[str, Any]) -> list[Any]:
        """The rows of one statement, as `statement.row` reads them; errors leave translated."""
        records: list[asyncpg.Record] = await self._run(statement, values, rows=True)
        return [statement.row(record) for record in records]

    async def execute(self, statement: Compiled, values: Mapping[str, Any]) -> int:
        """Run one statement that returns no rows; the number of rows it matched."""
        status: str = await self._run(statement, values, rows=False)
        return rowcount(status)

    async def _run(self, statement: Compiled, values: Mapping[str, Any], *, rows: bool) -> Any:
        with translating():
            async with self._connection() as connection:
                try:
                    arguments = statement.arguments(values)
                    if rows:
                        return await connection.fetch(statement.text, *arguments)
                    return await connection.execute(statement.text, *arguments)
                except DRIVER_ERRORS as error:
                    # The server went away, whatever asyncpg raised for it (which depends on
                    # what it was doing): unavailable, so the pipeline's bookkeeping retries.
                    if connection.is_closed():
                        raise translate(error, ended=True) from error
                    raise

    def _connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        if not self._warmed:
            self._warmed = True
            return self._warm_then_connect()
        return self._pool.connection()

    @asynccontextmanager
    async def _warm_then_connect(self) -> AsyncIterator[asyncpg.Connection]:
        await self._pool.warm(self._pools.read_idle)  # at most read_size
        async with self._pool.connection() as connection:
            yield connection

    async def close(self) -> None:
        with translating():
            await self._pool.close()

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
