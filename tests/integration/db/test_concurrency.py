"""Concurrent units of work: one create wins (D13), property writes lose nothing (D16)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import update

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import class_
from minigroups.domain.ids import AccountId
from minigroups.ports import Dummy
from tests.integration.db.helpers import claim, establish, execute, fresh, new_minigroup

WRITERS = 50


async def test_exactly_one_of_ten_concurrent_creates_gets_the_dummy(store: SqlStore) -> None:
    new = new_minigroup()

    async def create() -> Dummy | None:
        async with store.unit_of_work() as uow:
            dummy = await uow.minigroups.claim_dummy(
                new, uuid4(), now=datetime.now(UTC), stale_before=fresh()
            )
            await uow.commit()
        return dummy

    results = await asyncio.gather(*(create() for _ in range(10)))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1


async def test_exactly_one_of_ten_concurrent_creates_takes_over_a_stale_dummy(
    store: SqlStore, database_url: str
) -> None:
    stuck = await claim(store, new_minigroup())
    assert stuck is not None
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    await execute(database_url, update(class_).values(claimed_at=long_ago))

    async def create() -> Dummy | None:
        async with store.unit_of_work() as uow:
            dummy = await uow.minigroups.claim_dummy(
                new_minigroup(), uuid4(), now=datetime.now(UTC), stale_before=fresh()
            )
            await uow.commit()
        return dummy

    results = await asyncio.gather(*(create() for _ in range(10)))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert winners[0].id == stuck.id
    assert winners[0].claim != stuck.claim


async def test_concurrent_class_property_writes_keep_every_key(store: SqlStore) -> None:
    minigroup = await establish(store, new_minigroup(properties={"initial": 0}))

    async def write(key: str) -> None:
        async with store.unit_of_work() as uow:
            locked = await uow.minigroups.lock(minigroup.id)
            assert locked is not None
            await asyncio.sleep(0)  # let the others run between the read and the write
            await uow.minigroups.set_properties(minigroup.id, {**locked.properties, key: key})
            await uow.commit()

    await asyncio.gather(*(write(f"key{index}") for index in range(WRITERS)))

    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(minigroup.id)
    assert stored is not None
    assert stored.properties == {"initial": 0} | {f"key{i}": f"key{i}" for i in range(WRITERS)}


async def test_concurrent_account_property_writes_keep_every_key(store: SqlStore) -> None:
    account = AccountId("alice", "usr.example.com")  # no row yet: the writers race to insert it

    async def write(key: str) -> None:
        async with store.unit_of_work() as uow:
            properties = await uow.accounts.lock_properties(account)
            await asyncio.sleep(0)
            await uow.accounts.set_properties(account, {**properties, key: [key]})
            await uow.commit()

    await asyncio.gather(*(write(f"key{index}") for index in range(WRITERS)))

    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.accounts.get_properties(account)
    assert stored == {f"key{i}": [f"key{i}"] for i in range(WRITERS)}


async def test_readers_are_not_blocked_by_a_writer(store: SqlStore) -> None:
    minigroup = await establish(store)

    async with store.unit_of_work() as writer:
        await writer.minigroups.lock(minigroup.id)
        await writer.minigroups.set_properties(minigroup.id, {"uncommitted": True})
        async with store.unit_of_work(read_only=True) as reader:
            seen = await asyncio.wait_for(reader.minigroups.get(minigroup.id), timeout=5)
        await writer.commit()

    assert seen == minigroup  # the reader saw the last committed state, without waiting
