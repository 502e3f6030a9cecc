"""The SQL statements a block of code sends, whichever way: through SQLAlchemy's engines, or
on asyncpg's connections directly (the read path, creates, prepared statements of a unit of
work). Transaction control (BEGIN, COMMIT, ROLLBACK) on asyncpg is not counted, as SQLAlchemy's
event does not count it on PostgreSQL either."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    connection = asyncpg.connection.Connection
    fetch, execute = connection.fetch, connection.execute

    async def counted_fetch(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        seen.append(query)
        return await fetch(self, query, *args, **kw)

    async def counted_execute(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        if not query.lstrip().upper().startswith(_CONTROL):
            seen.append(query)
        return await execute(self, query, *args, **kw)

    connection.fetch = counted_fetch
    connection.execute = counted_execute
    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
        connection.fetch = fetch
        connection.execute = execute
