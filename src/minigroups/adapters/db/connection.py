"""A unit of work's connection as its repositories use it: errors leave it translated.

Each method executes one statement and reads its result before returning, both inside
`translating()`, so nothing raised by SQLAlchemy or a driver leaves a repository untranslated.

The hot statements of the pipeline are `Prepared`: built once with named bind parameters. On
PostgreSQL the connection runs those on its asyncpg connection directly, inside the unit of
work's transaction (`rows`, `run`), or, in an autocommit unit, on a connection of the direct
pool (`direct.DirectPool`); elsewhere SQLAlchemy runs them, as every other statement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from sqlalchemy import CursorResult, Dialect, Executable, Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

from minigroups.adapters.db.direct import Compiled, DirectPool, rowcount
from minigroups.adapters.db.errors import translating

T = TypeVar("T")
Params = Mapping[str, Any]


class Prepared:
    """A statement built once, whatever varies in it a named bind parameter (`bindparam`).

    On PostgreSQL it is compiled once and run by asyncpg without SQLAlchemy's execution layer:
    the greenlet hand-off, the cache key, the execution context and the result object cost
    about 90 us of the 140 us a statement took (issue 12). Its rows are named tuples with the
    same attributes as SQLAlchemy's rows, each value read as SQLAlchemy would read it.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Select[Any] | UpdateBase) -> None:
        self.statement = statement
        # By dialect: each engine has its own (the writers' and the read-only units' pools).
        self._compiled: dict[Dialect, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = self._compiled[dialect] = Compiled(self.statement, dialect, processors=True)
        return compiled


class TranslatingConnection:
    """The statements of one unit of work, on the connection `connect` gives (the same each
    time; opened when first asked for, if the unit did not open it).

    With `direct` (an autocommit unit on PostgreSQL) a `Prepared` statement runs on a connection
    of that pool instead, each statement its own transaction as on the unit's own connection: the
    intake, the claims and the relay's marks then never check a connection out of SQLAlchemy's
    pool, which cost a single-statement unit more than its statement (benchmarks/unit_cost.py).
    """

    def __init__(
        self,
        dialect: Dialect,
        connect: Callable[[], Awaitable[AsyncConnection]],
        *,
        direct: DirectPool | None = None,
    ) -> None:
        self._dialect = dialect
        self._connect = connect
        self._direct = direct
        self._on_driver = dialect.name == "postgresql"
        self._driver: Any = None  # asyncpg's connection, and SQLAlchemy's adapter of it
        self._adapter: Any = None

    @property
    def dialect_name(self) -> str:
        return self._dialect.name

    async def execute(self, statement: Executable, params: Params | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it matched."""
        return await self._read(statement, params, lambda result: result.rowcount)

    @overload
    async def first(self, statement: Prepared, params: Params) -> Any | None: ...

    @overload
    async def first(
        self, statement: Executable, params: Params | None = None
    ) -> Row[Any] | None: ...

    async def first(
        self, statement: Executable | Prepared, params: Params | None = None
    ) -> Any | None:
        """The first row, or None; a prepared statement's as `rows` reads it."""
        if isinstance(statement, Prepared):
            rows = await self.rows(statement, params or {})
            return rows[0] if rows else None
        return await self._read(statement, params, lambda result: result.first())

    async def one(self, statement: Executable, params: Params | None = None) -> Row[Any]:
        return await self._read(statement, params, lambda result: result.one())

    async def all(self, statement: Executable, params: Params | None = None) -> Sequence[Row[Any]]:
        return await self._read(statement, params, lambda result: result.all())

    async def scalar_one(self, statement: Executable, params: Params | None = None) -> Any:
        return await self._read(statement, params, lambda result: result.scalar_one())

    async def scalar_one_or_none(
        self, statement: Executable, params: Params | None = None
    ) -> Any | None:
        return await self._read(statement, params, lambda result: result.scalar_one_or_none())

    async def rows(self, prepared: Prepared, params: Params) -> Sequence[Any]:
        """The rows of a prepared statement (each with its columns as attributes)."""
        if not self._on_driver:
            return await self.all(prepared.statement, params)
        compiled = prepared.compiled(self._dialect)
        if self._direct is not None:
            return await self._direct.fetch(compiled, params)
        with translating(self._ended):
            driver = await self._in_transaction()
            records = await driver.fetch(compiled.text, *compiled.arguments(params))
        return [compiled.row(record) for record in records]

    async def run(self, prepared: Prepared, params: Params) -> int:
        """Run a prepared statement that returns no rows; the number of rows it matched."""
        if not self._on_driver:
            return await self.execute(prepared.statement, params)
        compiled = prepared.compiled(self._dialect)
        if self._direct is not None:
            return await self._direct.execute(compiled, params)
        with translating(self._ended):
            driver = await self._in_transaction()
            status: str = await driver.execute(compiled.text, *compiled.arguments(params))
        return rowcount(status)

    async def commit(self, connection: AsyncConnection) -> None:
        """Commit the unit's transaction on `connection` (the unit's own).

        On PostgreSQL SQLAlchemy begins no transaction of its own until it runs a statement
        itself; when only prepared statements ran, the transaction is the adapter's, begun by
        `_in_transaction`, and is committed here without SQLAlchemy's commit (two greenlet
        hand-offs and its transaction objects: benchmarks/unit_cost.py). If the commit fails, the
        adapter keeps the transaction, so the connection's check-in rolls it back (or, on a
        connection that has ended, finds that and discards it) as after any failed statement.
        """
        with translating(self._ended):
            if connection.in_transaction() or self._adapter is None:
                await connection.commit()
                return
            transaction = self._adapter._transaction
            if transaction is not None:
                await transaction.commit()
                self._adapter._transaction = None

    def _ended(self) -> bool:
        """Whether the driver connection has ended (SQLAlchemy invalidates it when the unit of
        work rolls back)."""
        return self._driver is not None and bool(self._driver.is_closed())

    async def _in_transaction(self) -> Any:
        """asyncpg's connection, inside the unit of work's transaction.

        SQLAlchemy's asyncpg adapter sends BEGIN lazily, before the first statement it runs
        itself, and commits or rolls back only a transaction it began; so a statement run here
        first begins it the same way (a no-op on an autocommit connection). The adapter's
        `_start_transaction` is not public API: tests/integration/db/test_prepared.py shows a
        prepared write rolled back and committed with its unit of work, on the locked version.
        """
        if self._driver is None:
            connection = await self._connect()
            sync = connection.sync_connection
            if sync is not None and not sync.closed and not sync.invalidated:
                raw = sync.connection  # checked out and valid: no I/O, no greenlet hand-off
            else:
                raw = await connection.get_raw_connection()  # raises as SQLAlchemy does
            self._adapter = raw.dbapi_connection
            self._driver = raw.driver_connection
        if self._adapter._transaction is None:
            await self._adapter._start_transaction()
        return self._driver

    async def _read(
        self,
        statement: Executable,
        params: Params | None,
        read: Callable[[CursorResult[Any]], T],
    ) -> T:
        with translating():
            connection = await self._connect()
            return read(await connection.execute(statement, params))
