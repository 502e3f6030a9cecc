"""Translation of driver and SQLAlchemy exceptions into the product's two database errors.

Nothing raised by SQLAlchemy, asyncpg, aiosqlite or sqlite3 leaves the adapter untranslated.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator

import asyncpg
from sqlalchemy import exc as sa_exc

from minigroups.domain.errors import DatabaseFailure, DatabaseUnavailable

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.SQLAlchemyError,
    OSError,  # refused, unreachable, DNS, connect timeout (asyncio.TimeoutError is an OSError)
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)

# SQLSTATE classes and codes meaning "the database cannot serve us now", not "the statement is bad":
# connection exception, invalid authorization, insufficient resources, operator intervention
# (shutdown, cannot connect now, query canceled), and lock/serialization failures.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "53", "57")
_UNAVAILABLE_SQLSTATES = {"3D000", "40001", "40P01", "55P03"}
# 55000 is "object not in prerequisite state"; at connect time it is a database whose
# ALLOW_CONNECTIONS is false, which an operator sets and clears again: unavailable, not a failure.
_REFUSING_CONNECTIONS = ("55000", "not currently accepting connections")

_UNAVAILABLE_SQLITE_ERRORS = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")
_UNAVAILABLE_SQLITE_MESSAGES = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "no active connection",
    "connection closed",
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver error SQLAlchemy wraps, and their causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending.extend([orig if isinstance(orig, BaseException) else None, current.__cause__])


def _is_unavailable(error: BaseException) -> bool:
    for current in _chain(error):
        if isinstance(current, sa_exc.TimeoutError | OSError):  # pool timeout, network
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
        ):
            return True
        if sqlstate == _REFUSING_CONNECTIONS[0] and _REFUSING_CONNECTIONS[1] in str(current):
            return True
        if isinstance(current, sqlite3.Error):
            name = getattr(current, "sqlite_errorname", "")
            message = str(current).lower()
            if name.startswith(_UNAVAILABLE_SQLITE_ERRORS) or any(
                text in message for text in _UNAVAILABLE_SQLITE_MESSAGES
            ):
                return True
    return False


def _detail(error: BaseException) -> str:
    """The innermost driver message: no SQL text, no parameters, no SQLAlchemy boilerplate."""
    drivers = [e for e in _chain(error) if not isinstance(e, sa_exc.SQLAlchemyError)]
    if drivers:
        innermost = drivers[-1]
        message = str(innermost)
    else:
        message = str(error.args[0]) if error.args else ""
    message = message.strip().splitlines()[0] if message.strip() else ""
    return message or type(error).__name__


def translate(
    error: BaseException, *, ended: bool = False
) -> DatabaseUnavailable | DatabaseFailure:
    """The product error for a driver or SQLAlchemy exception (`ended`: on a connection known to
    have ended, whatever the error says)."""
    detail = _detail(error)
    if ended or _is_unavailable(error):
        return DatabaseUnavailable(f"database unavailable: {detail}")
    return DatabaseFailure(f"database failure: {detail}")


@contextlib.contextmanager
def translating(ended: Callable[[], bool] | None = None) -> Iterator[None]:
    """Let driver and SQLAlchemy exceptions raised in the block leave it translated; with
    `ended`, any of them is `DatabaseUnavailable` when `ended()` says the connection has ended
    (asyncpg raises several kinds there, by what it was doing when the server went away)."""
    try:
        yield
    except DRIVER_ERRORS as error:
        raise translate(error, ended=ended is not None and ended()) from error
