"""A unit of work's connection as its repositories use it: errors leave it translated.

Each method executes one statement and reads its result before returning, both inside
`translating()`, so nothing raised by SQLAlchemy or a driver leaves a repository untranslated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Executable, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from minigroups.adapters.db.errors import translating

T = TypeVar("T")
Params = Mapping[str, Any]


class TranslatingConnection:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    @property
    def dialect_name(self) -> str:
        return self._connection.dialect.name

    async def execute(self, statement: Executable, params: Params | None = None) -> int:
        """Run a statement that returns no rows; the number of rows it matched."""
        return await self._read(statement, params, lambda result: result.rowcount)

    async def first(self, statement: Executable, params: Params | None = None) -> Row[Any] | None:
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

    async def _read(
        self,
        statement: Executable,
        params: Params | None,
        read: Callable[[CursorResult[Any]], T],
    ) -> T:
        with translating():
            return read(await self._connection.execute(statement, params))
