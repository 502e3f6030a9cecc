"""Owned claims, renewed leases, releases at start and stop, and the purge of old rows (issue 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import inbox, outbox
from minigroups.domain.errors import LeaseLost
from minigroups.ports import InboxItem, IncomingEvent, OutboxItem, OutgoingMessage, Owner
from tests.integration.db.helpers import execute

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LEASE = timedelta(seconds=15)
RETENTION = timedelta(days=7)
ALPHA, BETA = "alpha.dispatcher.svc.example.org", "beta.dispatcher.svc.example.org"


def _event(key: str, at: datetime = NOW) -> IncomingEvent:
    return IncomingEvent(
        key, "apps/conference.svc/api/v1/audiences/a/events", "room.close", "{}", at
    )


async def _add(store: SqlStore, *events: IncomingEvent) -> list[bool]:
    async with store.unit_of_work() as uow:
        added = [await uow.inbox.add(event) for event in events]
        await uow.commit()
    return added


async def _claim(
    store: SqlStore, owner: Owner, now: datetime = NOW, limit: int = 10
) -> list[InboxItem]:
    async with store.unit_of_work() as uow:
        items = await uow.inbox.claim_due(now, owner, now + LEASE, limit)
        await uow.commit()
    return items


async def _owners(database_url: str) -> dict[str, tuple[str | None, UUID | None, bool]]:
    """key -> (owner, incarnation, leased) as stored."""
    rows = await execute(
        database_url, select(inbox.c.key, inbox.c.owner, inbox.c.incarnation, inbox.c.lease)
    )
    return {row.key: (row.owner, row.incarnation, row.lease is not None) for row in rows}


async def test_a_claim_records_its_owner(store: SqlStore, database_url: str) -> None:
    await _add(store, _event("k1"), _event("k2"))
    alpha = Owner(ALPHA, uuid4())
    await _claim(store, alpha, limit=1)
    assert await _owners(database_url) == {
        "k1": (ALPHA, alpha.incarnation, True),
        "k2": (None, None, False),
    }


async def test_a_restart_takes_back_only_its_earlier_incarnations_claims(store: SqlStore) -> None:
    await _add(store, *(_event(f"k{n}") for n in range(4)))
    dead_alpha, beta = Owner(ALPHA, uuid4()), Owner(BETA, uuid4())
    assert len(await _claim(store, dead_alpha, limit=2)) == 2
    assert len(await _claim(store, beta, limit=1)) == 1
    alpha = Owner(ALPHA, uuid4())  # the same instance, started again
    (own,) = await _claim(store, alpha)
    assert own.key == "k3"

    async with store.unit_of_work() as uow:
        assert await uow.inbox.reclaim(alpha) == 2
        assert await uow.outbox.reclaim(alpha) == 0
        await uow.commit()

    # Claimable at once, long before the dead incarnation's lease would have run out.
    again = await _claim(store, alpha, NOW + timedelta(seconds=1))
    assert sorted(item.key for item in again) == ["k0", "k1"]
    assert [item.attempts for item in again] == [2, 2]  # the dead process's attempt counts
    async with store.unit_of_work() as uow:
        assert await uow.inbox.reclaim(alpha) == 0  # its own claims and beta's stay
        await uow.commit()


async def test_renewed_leases_are_kept_and_a_taken_over_one_is_reported(store: SqlStore) -> None:
    await _add(store, _event("k1"), _event("k2"))
    alpha = Owner(ALPHA, uuid4())
    first, second = await _claim(store, alpha)
    leases = {first.id: first.lease, second.id: second.lease}
    async with store.unit_of_work() as uow:
        kept = await uow.inbox.renew(
            {k: v for k, v in leases.items() if v}, NOW + timedelta(seconds=60)
        )
        await uow.commit()
    assert kept == {first.id, second.id}
    # Past the first lease, before the renewed one ends: nobody can take them.
    assert await _claim(store, Owner(BETA, uuid4()), NOW + timedelta(seconds=30)) == []

    # After the renewed lease: beta takes them over; alpha's renewal then reports them lost.
    taken = await _claim(store, Owner(BETA, uuid4()), NOW + timedelta(seconds=61))
    assert len(taken) == 2
    async with store.unit_of_work() as uow:
        assert await uow.inbox.renew({first.id: first.lease or uuid4()}, NOW) == set()
        with pytest.raises(LeaseLost):
            await uow.inbox.complete(first, NOW)


async def test_a_graceful_stop_releases_its_claims_and_gives_the_attempt_back(
    store: SqlStore,
) -> None:
    await _add(store, _event("k1"), _event("k2"))
    alpha, beta = Owner(ALPHA, uuid4()), Owner(BETA, uuid4())
    await _claim(store, alpha, limit=1)
    await _claim(store, beta, limit=1)
    async with store.unit_of_work() as uow:
        assert await uow.inbox.release(alpha) == 1
        await uow.commit()
    (again,) = await _claim(store, beta, NOW + timedelta(seconds=1))  # at once
    assert (again.key, again.attempts) == ("k1", 1)


async def test_an_outbox_claim_is_owned_renewed_and_released(store: SqlStore) -> None:
    message = OutgoingMessage("stop:1", "notify", {"label": "minigroup.stop"})
    alpha = Owner(ALPHA, uuid4())
    async with store.unit_of_work() as uow:
        await uow.outbox.add(message, NOW)
        (item,) = await uow.outbox.claim_due(NOW, Owner(ALPHA, uuid4()), NOW + LEASE, 10)
        assert item.lease is not None
        assert await uow.outbox.renew({item.id: item.lease}, NOW + LEASE * 2) == {item.id}
        assert await uow.outbox.reclaim(alpha) == 1  # an earlier incarnation's
        (mine,) = await uow.outbox.claim_due(NOW, alpha, NOW + LEASE, 10)
        with pytest.raises(LeaseLost):
            await uow.outbox.mark_sent(item, NOW)  # the old claim cannot settle any more
        assert await uow.outbox.release(alpha) == 1
        await uow.commit()
    assert isinstance(mine, OutboxItem)


async def _settle_inbox(store: SqlStore, key: str, at: datetime, *, dead: bool = False) -> None:
    await _add(store, _event(key, at))
    (item,) = [i for i in await _claim(store, Owner(ALPHA, uuid4()), at) if i.key == key]
    async with store.unit_of_work() as uow:
        if dead:
            await uow.inbox.bury(item, "poison")
        else:
            await uow.inbox.complete(item, at + timedelta(seconds=1))
        await uow.commit()


async def _sent_outbox(store: SqlStore, key: str, at: datetime, *, send: bool = True) -> None:
    async with store.unit_of_work() as uow:
        await uow.outbox.add(OutgoingMessage(key, "notify", {"n": key}), at)
        if send:
            items = await uow.outbox.claim_due(at, Owner(ALPHA, uuid4()), at + LEASE, 100)
            (item,) = [i for i in items if i.key == key]
            await uow.outbox.mark_sent(item, at + timedelta(seconds=1))
        await uow.commit()


async def test_only_handled_and_sent_rows_past_retention_are_purged(
    store: SqlStore, database_url: str
) -> None:
    old, recent = NOW - timedelta(days=8), NOW - timedelta(days=6)
    for n in range(3):
        await _settle_inbox(store, f"old-{n}", old)
        await _sent_outbox(store, f"old-{n}", old)
    await _settle_inbox(store, "recent", recent)
    await _settle_inbox(store, "dead", old, dead=True)
    await _add(store, _event("pending", old))  # never handled: stays whatever its age
    await _sent_outbox(store, "recent", recent)
    await _sent_outbox(store, "unsent", old, send=False)

    before = NOW - RETENTION
    async with store.unit_of_work() as uow:
        assert await uow.inbox.purge_settled(before, 2) == 2  # a batch at a time
        assert await uow.inbox.purge_settled(before, 2) == 1
        assert await uow.inbox.purge_settled(before, 2) == 0
        assert await uow.outbox.purge_settled(before, 10) == 3
        await uow.commit()

    inbox_keys = {row.key for row in await execute(database_url, select(inbox.c.key))}
    outbox_keys = {row.key for row in await execute(database_url, select(outbox.c.key))}
    assert inbox_keys == {"recent", "dead", "pending"}
    assert outbox_keys == {"recent", "unsent"}


async def test_a_redelivery_inside_the_retention_window_is_still_recognised(
    store: SqlStore,
) -> None:
    await _settle_inbox(store, "inside", NOW - timedelta(days=6))
    await _settle_inbox(store, "outside", NOW - timedelta(days=8))
    async with store.unit_of_work() as uow:
        await uow.inbox.purge_settled(NOW - RETENTION, 100)
        await uow.commit()
    assert await _add(store, _event("inside", NOW)) == [False]  # deduplicated
    # Past the window the key is forgotten: docs/decisions.md says dedupe holds within it.
    assert await _add(store, _event("outside", NOW)) == [True]


async def test_dead_letters_are_purged_only_when_asked_by_age(
    store: SqlStore, database_url: str
) -> None:
    await _settle_inbox(store, "dead-old", NOW - timedelta(days=40), dead=True)
    await _settle_inbox(store, "dead-new", NOW - timedelta(days=2), dead=True)
    await _settle_inbox(store, "done-old", NOW - timedelta(days=40))
    async with store.unit_of_work() as uow:
        assert await uow.inbox.purge_settled(NOW, 100) == 1  # the handled one, never the dead
        assert await uow.inbox.purge_dead(NOW - timedelta(days=30), 100) == 1
        await uow.commit()
    keys = {row.key for row in await execute(database_url, select(inbox.c.key))}
    assert keys == {"dead-new"}
