"""The `idempotency_key` table: one claim wins, dead and expired keys are taken over, and only the
holder of a claim stores or releases its key."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from minigroups.adapters.db import SqlStore
from minigroups.ports import KeyClaim, StoredResponse

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=15)
TTL = timedelta(hours=24)
ANSWER = StoredResponse(201, (("content-type", "application/json"),), b'{"id":"x"}\x00\xff')


def new_claim(record_id: str = "r1", fingerprint: str = "f1") -> KeyClaim:
    return KeyClaim(
        record_id, "admin.usr.example.org", "POST /api/v1/minigroups", "k", fingerprint, uuid4()
    )


async def claim(store: SqlStore, key: KeyClaim, now: datetime = NOW) -> bool:
    async with store.unit_of_work() as uow:
        claimed = await uow.idempotency.claim(
            key, now=now, locked_until=now + LEASE, expires_at=now + TTL
        )
        await uow.commit()
    return claimed


async def complete(store: SqlStore, key: KeyClaim) -> bool:
    async with store.unit_of_work() as uow:
        done = await uow.idempotency.complete(key, ANSWER, NOW + TTL)
        await uow.commit()
    return done


async def test_exactly_one_of_ten_concurrent_claims_wins(store: SqlStore) -> None:
    results = await asyncio.gather(*(claim(store, new_claim()) for _ in range(10)))
    assert results.count(True) == 1


async def test_an_answer_is_stored_byte_for_byte_by_its_claim_only(store: SqlStore) -> None:
    first = new_claim()
    assert await claim(store, first)
    assert not await complete(store, replace(first, token=uuid4()))  # someone else's claim
    assert await complete(store, first)
    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.idempotency.get("r1")
    assert stored is not None
    assert stored.response == ANSWER
    assert stored.fingerprint == "f1"
    assert not await claim(store, new_claim(), NOW + TTL - timedelta(seconds=1))


async def test_a_running_claim_is_taken_over_once_its_lock_ran_out(store: SqlStore) -> None:
    dead = new_claim()
    assert await claim(store, dead)
    assert not await claim(store, new_claim(), NOW + LEASE)  # not before the lock runs out
    successor = new_claim(fingerprint="f2")
    assert await claim(store, successor, NOW + LEASE + timedelta(seconds=1))
    async with store.unit_of_work() as uow:
        assert not await uow.idempotency.renew(dead, NOW + LEASE * 3)
        assert not await uow.idempotency.release(dead)  # the successor's key stays
        assert await uow.idempotency.renew(successor, NOW + LEASE * 3)
        await uow.commit()
    assert not await complete(store, dead)
    assert await complete(store, successor)


async def test_an_expired_answer_is_taken_over_and_purged_in_batches(store: SqlStore) -> None:
    for record_id in ("r1", "r2", "r3"):
        key = new_claim(record_id)
        assert await claim(store, key)
        assert await complete(store, key)
    assert await claim(store, new_claim("r1"), NOW + TTL)  # expired: the key runs again
    async with store.unit_of_work() as uow:
        assert await uow.idempotency.purge_expired(NOW + TTL, 1) == 1
        assert await uow.idempotency.purge_expired(NOW + TTL, 5) == 1  # r1 is running again
        assert await uow.idempotency.purge_expired(NOW + TTL, 5) == 0
        await uow.commit()
        assert await uow.idempotency.get("r1") is not None
