"""Driver exceptions never leave the adapter: unreachable → DatabaseUnavailable, else Failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from minigroups.adapters.db import Pools, SqlStore, create_store
from minigroups.adapters.db.errors import translate
from minigroups.domain.errors import DatabaseFailure, DatabaseUnavailable
from minigroups.domain.ids import AccountId
from tests.integration.db.helpers import establish, terminate_backends
from tests.support.ports import free_port

ALICE = AccountId("alice", "usr.example.com")


async def assert_unavailable(store: SqlStore) -> None:
    with pytest.raises(DatabaseUnavailable):
        await store.ping()
    for read_only in (True, False, False):  # twice: a failed writer must not keep the write gate
        with pytest.raises(DatabaseUnavailable):
            async with store.unit_of_work(read_only=read_only):
                pass
    await store.close()


async def test_postgres_on_a_closed_port_is_unavailable() -> None:
    await assert_unavailable(
        create_store(f"postgresql://postgres@127.0.0.1:{free_port()}/none", Pools(timeout=2))
    )


async def test_sqlite_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    await assert_unavailable(create_store(f"sqlite:///{tmp_path}/missing/minigroups.db"))


async def test_an_exhausted_pool_is_unavailable(database_url: str) -> None:
    # The timeout bounds the first connection's connect too: 0.1 s was too short for a loaded
    # CI machine to start a PostgreSQL backend, and the outer unit failed instead of the inner.
    store = create_store(database_url, Pools(size=1, timeout=1.0))
    try:
        async with store.unit_of_work(read_only=True):
            with pytest.raises(DatabaseUnavailable, match=r"timed out|timeout"):
                async with store.unit_of_work(read_only=True):
                    pass
    finally:
        await store.close()


async def test_a_rejected_statement_is_a_failure(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(DatabaseFailure) as raised:
            await uow.positions.save(uuid4(), ALICE, 1)  # no such class: foreign key violation
    assert isinstance(raised.value.__cause__, sa_exc.IntegrityError)
    assert "INSERT" not in str(raised.value)  # the detail carries no SQL text


@pytest.mark.postgres
async def test_a_lost_connection_is_unavailable(postgres_url: str) -> None:
    store = create_store(postgres_url)
    minigroup = await establish(store)

    async def lose_connection_mid_statement() -> None:
        async with store.unit_of_work() as uow:
            await uow.minigroups.get(minigroup.id)
            await terminate_backends(postgres_url)
            await uow.minigroups.get(minigroup.id)

    async def lose_connection_before_commit() -> None:
        async with store.unit_of_work() as uow:
            await uow.minigroups.set_properties(minigroup.id, {"a": 1})
            await terminate_backends(postgres_url)
            await uow.commit()

    try:
        with pytest.raises(DatabaseUnavailable):
            await lose_connection_mid_statement()
        with pytest.raises(DatabaseUnavailable):
            await lose_connection_before_commit()
        async with store.unit_of_work(read_only=True) as uow:  # the pool recovers
            assert await uow.minigroups.get(minigroup.id) == minigroup
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_connection_lost_before_a_prepared_commit_is_unavailable_and_not_reused(
    postgres_url: str,
) -> None:
    # Only prepared statements ran, so the commit goes to asyncpg directly; the dead
    # connection must still leave the pool (of one), or the next unit would fail on it.
    store = create_store(postgres_url, Pools(size=1))
    minigroup = await establish(store)

    async def lose_connection_before_commit() -> None:
        async with store.unit_of_work() as uow:
            await uow.minigroups.lock(minigroup.id)  # prepared
            await terminate_backends(postgres_url)
            await uow.commit()

    try:
        with pytest.raises(DatabaseUnavailable):
            await lose_connection_before_commit()
        async with store.unit_of_work() as uow:
            assert await uow.minigroups.lock(minigroup.id) == minigroup
            await uow.commit()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), DatabaseUnavailable),
        (sqlite3.OperationalError("unable to open database file"), DatabaseUnavailable),
        (sqlite3.IntegrityError("UNIQUE constraint failed: class.id"), DatabaseFailure),
        (ConnectionRefusedError(111, "Connection refused"), DatabaseUnavailable),
        (TimeoutError(), DatabaseUnavailable),
        (sa_exc.TimeoutError("QueuePool limit reached"), DatabaseUnavailable),
        (asyncpg.exceptions.CannotConnectNowError("starting up"), DatabaseUnavailable),
        (asyncpg.exceptions.TooManyConnectionsError("too many"), DatabaseUnavailable),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock"), DatabaseUnavailable),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), DatabaseFailure),
        (asyncpg.exceptions.UndefinedTableError("no such table"), DatabaseFailure),
    ],
)
def test_translation(error: BaseException, expected: type[Exception]) -> None:
    translated = translate(error)

    assert type(translated) is expected
    assert translated.detail
