"""The SQL statements a block of code sends, whichever way: through SQLAlchemy's engines, or
on asyncpg's connections directly (the read path, creates, prepared statements of a unit of
work). Transaction control (BEGIN, COMMIT, ROLLBACK) on asyncpg is not counted, as SQLAlchemy's
event does not count it on PostgreSQL either.

Only statements sent from the thread that opened the block count: the test databases' admin
work (creating the next clone, dropping the last) runs on a background thread at any time, and
is no statement of the code under test."""

from __future__ import annotations

import threading
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
    owner = threading.get_ident()

    def note(statement: str) -> None:
        if threading.get_ident() == owner:
            seen.append(statement)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        note(statement)

    connection = asyncpg.connection.Connection
    fetch, execute = connection.fetch, connection.execute

    async def counted_fetch(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        note(query)
        return await fetch(self, query, *args, **kw)

    async def counted_execute(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        if not query.lstrip().upper().startswith(_CONTROL):
            note(query)
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
