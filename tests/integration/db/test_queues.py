"""Inbox and outbox tables: dedupe, leases, retries, dead letters, disjoint concurrent claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from minigroups.adapters.db import SqlStore
from minigroups.domain.errors import LeaseLost
from minigroups.ports import Holding, InboxItem, IncomingEvent, OutgoingMessage, Owner
from tests.support.sent import sent_statements

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)


def _owner(instance: str = "alpha.dispatcher") -> Owner:
    return Owner(instance, uuid4())


def _event(key: str, at: datetime = NOW) -> IncomingEvent:
    return IncomingEvent(
        key, "apps/conference.svc/api/v1/audiences/a/events", "room.close", "{}", at
    )


async def _add(store: SqlStore, *events: IncomingEvent) -> list[bool]:
    async with store.unit_of_work() as uow:
        added = [await uow.inbox.add(event) for event in events]
        await uow.commit()
    return added


async def _claim(store: SqlStore, now: datetime = NOW, limit: int = 10) -> list[InboxItem]:
    async with store.unit_of_work() as uow:
        items = await uow.inbox.claim_due(now, _owner(), now + timedelta(seconds=10), limit)
        await uow.commit()
    return items


async def test_a_redelivered_event_is_recognised(store: SqlStore) -> None:
    assert await _add(store, _event("k1"), _event("k1"), _event("k2")) == [True, False, True]


async def test_claims_are_leased_until_they_expire(store: SqlStore) -> None:
    await _add(store, _event("k1"), _event("k2", NOW + timedelta(seconds=1)))
    first = await _claim(store, NOW + timedelta(seconds=1))
    assert [item.key for item in first] == ["k1", "k2"]
    assert all(item.attempts == 1 and item.lease is not None for item in first)
    assert await _claim(store, NOW + timedelta(seconds=5)) == []  # still leased
    again = await _claim(store, LATER)  # lease expired: a crashed worker's items come back
    assert [item.attempts for item in again] == [2, 2]


async def test_complete_needs_the_current_lease(store: SqlStore) -> None:
    await _add(store, _event("k1"))
    (stale,) = await _claim(store)
    (current,) = await _claim(store, LATER)
    async with store.unit_of_work() as uow:
        with pytest.raises(LeaseLost):
            await uow.inbox.complete(stale, LATER)
    async with store.unit_of_work() as uow:
        await uow.inbox.complete(current, LATER)
        await uow.commit()
    assert await _claim(store, LATER + timedelta(hours=1)) == []


def _message(key: str) -> OutgoingMessage:
    return OutgoingMessage(key, "notify", {"audience": "a", "label": "l", "payload": {"k": key}})


async def _pending_messages(store: SqlStore) -> list[str]:
    async with store.unit_of_work(read_only=True) as uow:
        return sorted(item.key for item in await uow.outbox.pending(10))


async def test_effects_queued_go_in_with_the_completion_of_their_event(store: SqlStore) -> None:
    await _add(store, _event("k1"))
    (item,) = await _claim(store)
    async with store.unit_of_work() as uow:
        await uow.outbox.add(_message("before"), NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        for key in ("m1", "m2", "before", "m1"):  # a known key and a key twice: in once
            await uow.outbox.add(_message(key), NOW)
        with sent_statements() as seen:
            await uow.inbox.complete(item, NOW)
        await uow.outbox.add(_message("after"), NOW)  # after the completion: in at commit
        await uow.commit()
    assert len(seen) == (1 if store.dialect_name == "postgresql" else 2), seen
    assert await _pending_messages(store) == ["after", "before", "m1", "m2"]
    async with store.unit_of_work() as uow:
        claimed = await uow.outbox.claim_due(NOW, _owner(), LATER, 10)
        await uow.commit()
    assert {item.key: item.payload["payload"] for item in claimed}["m2"] == {"k": "m2"}
    assert await _claim(store, LATER + timedelta(hours=1)) == []  # the event is done


async def test_effects_of_an_event_taken_over_are_not_queued(store: SqlStore) -> None:
    await _add(store, _event("k1"))
    (stale,) = await _claim(store)
    await _claim(store, LATER)  # another worker holds it now
    async with store.unit_of_work() as uow:
        await uow.outbox.add(_message("m1"), LATER)
        with pytest.raises(LeaseLost):
            await uow.inbox.complete(stale, LATER)
        await uow.commit()  # what a handler would not do: even then, none of its effects is in
    assert await _pending_messages(store) == []


async def test_a_unit_reads_the_effects_it_queued(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.outbox.add(_message("m1"), NOW)
        assert [item.key for item in await uow.outbox.pending(10)] == ["m1"]
        (claimed,) = await uow.outbox.claim_due(NOW, _owner(), LATER, 10)
        assert claimed.key == "m1"


async def test_retry_dead_letter_and_replay(store: SqlStore) -> None:
    await _add(store, _event("k1"))
    (item,) = await _claim(store)
    async with store.unit_of_work() as uow:
        await uow.inbox.retry_later(item, "boom", NOW + timedelta(seconds=2))
        await uow.commit()
    assert await _claim(store, NOW + timedelta(seconds=1)) == []
    (item,) = await _claim(store, NOW + timedelta(seconds=2))
    async with store.unit_of_work() as uow:
        await uow.inbox.bury(item, "poison: bad payload")
        await uow.commit()
    assert await _claim(store, LATER) == []
    async with store.unit_of_work(read_only=True) as uow:
        (dead,) = await uow.inbox.list(status="dead", limit=10)
    assert (dead.key, dead.status, dead.last_error, dead.attempts) == (
        "k1",
        "dead",
        "poison: bad payload",
        2,
    )
    async with store.unit_of_work() as uow:
        assert await uow.inbox.revive(dead.id, LATER)
        assert not await uow.inbox.revive(uuid4(), LATER)
        await uow.commit()
    (revived,) = await _claim(store, LATER)
    assert (revived.key, revived.attempts) == ("k1", 1)


async def test_concurrent_claims_never_share_an_item(store: SqlStore) -> None:
    await _add(store, *(_event(f"k{i}") for i in range(40)))
    batches = await asyncio.gather(*(_claim(store, limit=7) for _ in range(8)))
    claimed: list[UUID] = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 40


async def test_outbox_dedupes_and_is_sent_once(store: SqlStore) -> None:
    message = OutgoingMessage("stop:1", "notify", {"label": "minigroup.stop", "payload": {"a": 1}})
    async with store.unit_of_work() as uow:
        await uow.outbox.add(message, NOW)
        await uow.outbox.add(message, NOW)  # the same key: queued once
        await uow.commit()
    async with store.unit_of_work() as uow:
        (item,) = await uow.outbox.claim_due(NOW, _owner(), LATER, 10)
        assert item.payload == {"label": "minigroup.stop", "payload": {"a": 1}}
        await uow.outbox.retry_later(item, "broker down", NOW + timedelta(seconds=1))
        await uow.commit()
    async with store.unit_of_work() as uow:
        (item,) = await uow.outbox.claim_due(NOW + timedelta(seconds=1), _owner(), LATER, 10)
        assert item.attempts == 2
        await uow.outbox.mark_sent(item, NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        assert await uow.outbox.claim_due(LATER + timedelta(hours=1), _owner(), LATER, 10) == []
        assert await uow.outbox.pending(10) == []


async def test_events_recorded_in_one_statement_are_new_once_per_key(store: SqlStore) -> None:
    assert await _add(store, _event("k0")) == [True]
    async with store.unit_of_work(single_statement=True) as uow:
        added = await uow.inbox.add_many([_event("k0"), _event("k1"), _event("k1"), _event("k2")])
        await uow.commit()
    assert added == {"k1", "k2"}
    assert sorted(item.key for item in await _claim(store)) == ["k0", "k1", "k2"]


async def test_events_recorded_and_claimed_in_one_statement(store: SqlStore) -> None:
    assert await _add(store, _event("k0")) == [True]
    owner = _owner()
    holding = Holding(owner, NOW + timedelta(seconds=10), count=3)
    events = [_event("k0"), _event("k1"), _event("k1"), _event("k2"), _event("k3")]
    async with store.unit_of_work(single_statement=True) as uow:
        added, held = await uow.inbox.add_held(events, holding)
        await uow.commit()
    assert added == {"k1", "k2", "k3"}
    # The first three: k0 is known, k1 twice is inserted once; k2 and k3 are new, not held.
    assert [item.key for item in held] == ["k1"]
    (item,) = held
    assert (item.attempts, item.status, item.last_error) == (1, "pending", None)
    assert item.lease is not None
    assert sorted(i.key for i in await _claim(store)) == ["k0", "k2", "k3"]  # k1 is leased
    async with store.unit_of_work() as uow:  # held as a claim holds it
        await uow.inbox.complete(item, NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        stored = await uow.inbox.get(item.id)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("done", 1)
    async with store.unit_of_work(single_statement=True) as uow:
        assert await uow.inbox.release(owner) == 0  # nothing of this incarnation is held


async def test_events_held_by_a_process_that_stops_are_released(store: SqlStore) -> None:
    owner = _owner()
    async with store.unit_of_work(single_statement=True) as uow:
        _, held = await uow.inbox.add_held([_event("k1")], Holding(owner, LATER, count=1))
        await uow.commit()
    assert [item.key for item in held] == ["k1"]
    async with store.unit_of_work(single_statement=True) as uow:
        assert await uow.inbox.release(owner) == 1
        await uow.commit()
    (claimed,) = await _claim(store)
    assert claimed.attempts == 1  # the released hold gave its attempt back


async def test_effects_marked_sent_together_leave_out_those_taken_over(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        for key in ("e1", "e2"):
            await uow.outbox.add(OutgoingMessage(key, "notify", {"n": key}), NOW)
        await uow.commit()
    async with store.unit_of_work(single_statement=True) as uow:
        first = await uow.outbox.claim_due(NOW, _owner(), NOW + timedelta(seconds=10), 10)
        await uow.commit()
    async with store.unit_of_work(single_statement=True) as uow:  # e2's lease ran out: taken
        (taken,) = await uow.outbox.claim_due(LATER, _owner(), LATER + timedelta(seconds=10), 1)
        await uow.commit()
    async with store.unit_of_work(single_statement=True) as uow:
        marked = await uow.outbox.mark_sent_many(first, LATER)
        await uow.commit()
    assert marked == {item.id for item in first} - {taken.id}
    async with store.unit_of_work(single_statement=True) as uow:
        assert await uow.outbox.mark_sent_many([taken], LATER) == {taken.id}
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.outbox.pending(10) == []
