"""The webhook deliveries' queue on both databases: once per key, claims capped per endpoint,
leases, settling, a disabled endpoint's deliveries, the delivery log, and the purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import webhook_attempt
from minigroups.domain.errors import LeaseLost
from minigroups.domain.webhooks import Attempt, Endpoint, Outcome
from minigroups.ports import DeliveryItem, DeliveryPage, NewDelivery, Owner
from tests.integration.db.helpers import execute, new_endpoint

NOW = datetime(2027, 2, 2, 12, tzinfo=UTC)
LEASE = timedelta(seconds=15)
OWNER = Owner("alpha.dispatcher.svc.example.org", uuid4())


async def _endpoint(store: SqlStore, audience: str = "usr.example.org") -> Endpoint:
    endpoint = new_endpoint(audience, at=NOW)
    async with store.unit_of_work() as uow:
        await uow.webhooks.add(endpoint)
        await uow.commit()
    return endpoint


async def _queue(store: SqlStore, endpoint: Endpoint, *keys: str, at: datetime = NOW) -> list[bool]:
    async with store.unit_of_work() as uow:
        added = [
            await uow.deliveries.add(
                NewDelivery(key, endpoint.id, "minigroup.created", '{"a":1}', at, at)
            )
            for key in keys
        ]
        await uow.commit()
    return added


async def _claim(
    store: SqlStore, now: datetime = NOW, limit: int = 10, per_endpoint: int = 2
) -> list[DeliveryItem]:
    async with store.unit_of_work() as uow:
        items = await uow.deliveries.claim_due(now, OWNER, now + LEASE, limit, per_endpoint)
        await uow.commit()
    return items


async def test_a_key_is_queued_once(store: SqlStore) -> None:
    endpoint = await _endpoint(store)
    assert await _queue(store, endpoint, "k1", "k1", "k2") == [True, False, True]


async def test_a_claim_takes_at_most_the_cap_of_one_endpoint(store: SqlStore) -> None:
    busy, quiet = await _endpoint(store), await _endpoint(store)
    await _queue(store, busy, *(f"b{n}" for n in range(5)))
    await _queue(store, quiet, "q1", at=NOW + timedelta(seconds=1))

    soon = NOW + timedelta(seconds=1)
    first = await _claim(store, now=soon)
    second = await _claim(store, now=soon)  # the busy endpoint's two are still in flight
    later = await _claim(store, now=soon + LEASE + timedelta(seconds=1))  # their leases ran out

    assert sorted(item.endpoint_id == busy.id for item in first) == [False, True, True]
    assert second == []
    assert sum(item.endpoint_id == busy.id for item in later) == 2  # again two of five
    assert all(item.attempts == 1 for item in first)


async def test_a_disabled_endpoint_is_not_claimed_and_its_pending_deliveries_fail(
    store: SqlStore,
) -> None:
    endpoint = await _endpoint(store)
    await _queue(store, endpoint, "k1", "k2", "k3")
    (in_flight,) = await _claim(store, per_endpoint=1)
    async with store.unit_of_work() as uow:
        await uow.webhooks.save(endpoint.disabled(NOW, "410"))
        failed = await uow.deliveries.fail_pending(endpoint.id, "disabled", NOW)
        await uow.commit()
    assert failed == 2  # the one in flight is its sender's to settle
    assert await _claim(store, now=NOW + LEASE + timedelta(seconds=1)) == []
    async with store.unit_of_work() as uow:
        await uow.deliveries.settle(in_flight, "failed", None, "disabled", NOW)
        page = await uow.deliveries.page(endpoint.id, None, 10)
        await uow.commit()
    assert {d.status for d in page.deliveries} == {"failed"}


async def test_settling_needs_the_lease(store: SqlStore) -> None:
    endpoint = await _endpoint(store)
    await _queue(store, endpoint, "k1")
    (item,) = await _claim(store)
    (taken,) = await _claim(store, now=NOW + LEASE + timedelta(seconds=1))
    with pytest.raises(LeaseLost):
        async with store.unit_of_work() as uow:
            await uow.deliveries.settle(item, "succeeded", None, None, NOW)
    async with store.unit_of_work() as uow:
        await uow.deliveries.settle(taken, "pending", NOW + timedelta(seconds=5), "HTTP 500", NOW)
        await uow.commit()
    assert await _claim(store, now=NOW + timedelta(seconds=4)) == []  # due at NOW + 5 s
    (again,) = await _claim(store, now=NOW + timedelta(seconds=5))
    assert again.attempts == 3


async def test_reclaim_and_release_cover_deliveries(store: SqlStore) -> None:
    endpoint = await _endpoint(store)
    await _queue(store, endpoint, "k1", "k2")
    await _claim(store)
    restarted = Owner(OWNER.instance, uuid4())
    async with store.unit_of_work() as uow:
        assert await uow.deliveries.reclaim(restarted) == 2
        await uow.commit()
    claimed = await _claim(store)
    async with store.unit_of_work() as uow:
        assert await uow.deliveries.release(OWNER) == 2  # this incarnation's, given back
        await uow.commit()
    assert [item.attempts for item in claimed] == [2, 2]
    assert len(await _claim(store)) == 2


async def test_the_log_pages_newest_first_with_attempts(store: SqlStore) -> None:
    endpoint = await _endpoint(store)
    for n in range(3):
        await _queue(store, endpoint, f"k{n}", at=NOW + timedelta(seconds=n))
    (item, *_) = await _claim(store, now=NOW + timedelta(seconds=5), per_endpoint=3)
    async with store.unit_of_work() as uow:
        for n, status in enumerate((500, 200)):
            at = NOW + timedelta(seconds=n)
            await uow.deliveries.record_attempt(Attempt(item.id, at, Outcome(status, None, 12)))
        first = await uow.deliveries.page(endpoint.id, None, 2)
        assert first.next_cursor is not None
        rest = await uow.deliveries.page(endpoint.id, first.next_cursor, 2)
        await uow.commit()
    times = [d.created_at for d in first.deliveries + rest.deliveries]
    assert times == sorted(times, reverse=True)
    assert rest.next_cursor is None
    (logged,) = [d for d in first.deliveries + rest.deliveries if d.id == item.id]
    assert [a.outcome.status_code for a in logged.log] == [500, 200]


async def test_the_purge_takes_settled_deliveries_and_their_attempts(
    store: SqlStore, database_url: str
) -> None:
    endpoint = await _endpoint(store)
    await _queue(store, endpoint, "old", "pending")
    old, _ = await _claim(store)
    async with store.unit_of_work() as uow:
        await uow.deliveries.record_attempt(Attempt(old.id, NOW, Outcome(200)))
        await uow.deliveries.settle(old, "succeeded", None, None, NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        purged = await uow.deliveries.purge_settled(NOW + timedelta(days=1), 10)
        await uow.commit()
        page = await uow.deliveries.page(endpoint.id, None, 10)
    assert purged == 1
    assert [d.status for d in page.deliveries] == ["pending"]
    counted = await execute(database_url, select(func.count()).select_from(webhook_attempt))
    assert counted[0][0] == 0


async def test_deleting_an_endpoint_takes_its_deliveries(store: SqlStore) -> None:
    endpoint = await _endpoint(store)
    await _queue(store, endpoint, "k1")
    async with store.unit_of_work() as uow:
        assert await uow.webhooks.delete(endpoint.id)
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.deliveries.page(endpoint.id, None, 10) == DeliveryPage([], None)
