"""Units of work: commit, rollback, and read-only connections without BEGIN/COMMIT."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import text

from minigroups.adapters.db import Pools, SqlStore, SqlUnitOfWork, create_store
from minigroups.domain.errors import DatabaseUnavailable
from minigroups.domain.ids import AccountId
from minigroups.ports import InboxItem, IncomingEvent, Owner, Store
from tests.integration.db.helpers import establish, terminate_backends
from tests.support.sent import sent_statements

ALICE = AccountId("alice", "usr.example.com")
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def conforms(store: SqlStore) -> Store:
    """mypy checks here that SqlStore implements the Store port."""
    return store


async def in_transaction(uow: SqlUnitOfWork) -> bool:
    assert uow._connection is not None
    driver = (await uow._connection.get_raw_connection()).driver_connection
    if uow._connection.dialect.name == "sqlite":
        return bool(driver.in_transaction)  # type: ignore[union-attr]
    return bool(driver.is_in_transaction())  # type: ignore[union-attr]


async def test_commit_keeps_the_changes(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.accounts.set_properties(ALICE, {"a": 1})
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.accounts.get_properties(ALICE) == {"a": 1}


async def test_leaving_without_commit_rolls_back(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.accounts.set_properties(ALICE, {"a": 1})

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.accounts.get_properties(ALICE) is None


async def test_an_exception_inside_rolls_back_and_propagates(store: SqlStore) -> None:
    minigroup = await establish(store)

    async def fail_inside() -> None:
        async with store.unit_of_work() as uow:
            await uow.minigroups.set_properties(minigroup.id, {"lost": True})
            await uow.accounts.set_properties(ALICE, {"lost": True})
            raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await fail_inside()

    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(minigroup.id)
        assert await uow.accounts.get_properties(ALICE) is None
    assert stored == minigroup


async def test_read_only_units_of_work_run_without_a_transaction(store: SqlStore) -> None:
    minigroup = await establish(store)

    with sent_statements() as sent:  # BEGIN on SQLite included
        async with store.unit_of_work(read_only=True) as uow:
            assert await uow.minigroups.get(minigroup.id) == minigroup
            assert await uow.recordings.list_live(minigroup.id) == []
            assert await uow.accounts.get_properties(ALICE) is None
            assert await uow.positions.get(minigroup.id, ALICE) is None
            assert not await in_transaction(uow)

    assert len(sent) == 4  # one statement per call, no BEGIN
    assert not any(sql.lstrip().upper().startswith(("BEGIN", "COMMIT")) for sql in sent)


async def test_write_units_of_work_are_transactions(store: SqlStore) -> None:
    minigroup = await establish(store)

    with sent_statements() as sent:  # BEGIN on SQLite included
        async with store.unit_of_work() as uow:
            await uow.minigroups.lock(minigroup.id)
            assert await in_transaction(uow)
            await uow.commit()

    if store.dialect_name == "sqlite":
        assert sent[0] == "BEGIN IMMEDIATE"  # writers serialise from the first statement
        assert "FOR UPDATE" not in sent[1]
    else:
        assert sent[0].rstrip().endswith("FOR UPDATE")


async def test_a_unit_of_work_cannot_be_entered_twice(store: SqlStore) -> None:
    uow = store.unit_of_work(read_only=True)
    async with uow:
        with pytest.raises(RuntimeError):
            await uow.__aenter__()


async def _plan_cache_mode(uow: SqlUnitOfWork) -> str:
    connection = await uow._connected()  # an autocommit unit's is opened when first needed
    return str((await connection.execute(text("SHOW plan_cache_mode"))).scalar_one())


@pytest.mark.postgres
async def test_only_read_only_units_plan_each_statement_for_its_values(postgres_url: str) -> None:
    # The listing needs custom plans (a generic one walked tens of thousands of rows); the
    # writers' statements keep PostgreSQL's plan cache (planning again cost ~75 us each).
    store = create_store(postgres_url)
    try:
        async with store.unit_of_work(read_only=True) as uow:
            assert await _plan_cache_mode(uow) == "force_custom_plan"
        async with store.unit_of_work() as uow:
            assert await _plan_cache_mode(uow) == "auto"
        async with store.unit_of_work(single_statement=True) as uow:
            assert await _plan_cache_mode(uow) == "auto"
    finally:
        await store.close()


def _event(key: str) -> IncomingEvent:
    return IncomingEvent(
        key, "apps/conference.svc/api/v1/audiences/a/events", "room.close", "{}", NOW
    )


def _units_checked_out(store: SqlStore) -> int:
    return int(store._engines.writer.pool.checkedout())  # type: ignore[attr-defined]


@pytest.mark.postgres
async def test_an_autocommit_units_prepared_statements_run_on_the_direct_pool(
    postgres_url: str,
) -> None:
    # The intake, the claims and the relay's marks: no connection from the units' pool, each
    # statement committed by itself; any other statement opens the unit's own connection.
    store = create_store(postgres_url)
    owner = Owner("alpha", uuid4())
    try:
        async with store.unit_of_work(single_statement=True) as uow:
            assert await uow.inbox.add(_event("k1"))
            (item,) = await uow.inbox.claim_due(NOW, owner, NOW + timedelta(seconds=10), 10)
            assert _units_checked_out(store) == 0
            async with store.unit_of_work(read_only=True) as other:  # committed already
                assert (await other.inbox.get(item.id)) == item
            assert (await uow.inbox.get(item.id)) == item  # not prepared: the unit's own
            assert _units_checked_out(store) == 1
        assert _units_checked_out(store) == 0
    finally:
        await store.close()


async def _claimed(store: SqlStore) -> InboxItem:
    """A new event, claimed (its release is the prepared write the tests below hold up)."""
    async with store.unit_of_work(single_statement=True) as uow:
        await uow.inbox.add(_event("k1"))
        owner = Owner("alpha", uuid4())
        (item,) = await uow.inbox.claim_due(NOW, owner, NOW + timedelta(seconds=10), 10)
    return item


@asynccontextmanager
async def _row_locked(postgres_url: str, item: InboxItem) -> AsyncIterator[None]:
    """The item's row locked by another connection's transaction for the block."""
    locker = await asyncpg.connect(postgres_url)
    try:
        async with locker.transaction():
            await locker.execute("SELECT 1 FROM inbox WHERE id = $1 FOR UPDATE", item.id)
            yield
    finally:
        await locker.close()


@pytest.mark.postgres
async def test_a_prepared_write_kept_waiting_past_the_timeout_is_unavailable(
    postgres_url: str,
) -> None:
    store = create_store(postgres_url, Pools(timeout=2.0))  # the statement timeout too
    try:
        item = await _claimed(store)
        async with _row_locked(postgres_url, item):
            with pytest.raises(DatabaseUnavailable):  # the server's statement timeout
                async with store.unit_of_work(single_statement=True) as uow:
                    await uow.inbox.complete(item, NOW)
        async with store.unit_of_work(single_statement=True) as uow:  # the pool serves again
            await uow.inbox.complete(item, NOW)
        async with store.unit_of_work(read_only=True) as uow:
            completed = await uow.inbox.get(item.id)
        assert completed is not None
        assert completed.status == "done"
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_prepared_write_whose_connection_ends_is_unavailable(postgres_url: str) -> None:
    # The relay's marks and the workers' releases retry only while the database is unavailable:
    # a connection the server ends under a waiting statement must say so, and not be reused.
    store = create_store(postgres_url)

    async def complete(item: InboxItem) -> None:
        async with store.unit_of_work(single_statement=True) as uow:
            await uow.inbox.complete(item, NOW)

    try:
        item = await _claimed(store)
        async with _row_locked(postgres_url, item):
            waiting = asyncio.create_task(complete(item))
            await asyncio.sleep(0.3)  # the UPDATE waits for the row lock
            await terminate_backends(postgres_url, "minigroups-read")
            with pytest.raises(DatabaseUnavailable):
                await waiting
        await complete(item)  # a new connection
    finally:
        await store.close()
