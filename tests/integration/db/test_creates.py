"""A create's two writes outside any unit of work (`Store.creates`), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import class_
from minigroups.domain.timerange import TimeRange
from minigroups.domain.webhooks import Endpoint
from tests.integration.db.helpers import END, START, execute, fresh, future, new_minigroup


async def _add_endpoint(store: SqlStore, audience: str, *, enabled: bool = True) -> None:
    now = datetime.now(UTC)
    endpoint = Endpoint(
        id=uuid4(),
        audience=audience,
        url="https://hooks.example.org/in",
        events=("minigroup.updated",),  # any enabled endpoint counts, subscribed or not
        secret="whsec_c2VjcmV0",
        created_at=now,
        updated_at=now,
        enabled=enabled,
    )
    async with store.unit_of_work() as uow:
        await uow.webhooks.add(endpoint)
        await uow.commit()


async def test_claim_and_establish_read_as_the_units_of_work_do(store: SqlStore) -> None:
    new = new_minigroup(tags={"k": ["v", 1]}, properties={"p": {"q": None}}, reserve=7)
    claim_id = uuid4()

    dummy = await store.creates.claim_dummy(
        new, claim_id, now=datetime.now(UTC), stale_before=fresh()
    )

    assert dummy is not None
    assert dummy.claim == claim_id
    assert dummy.time == TimeRange(START, END)
    assert (dummy.tags, dummy.properties, dummy.reserve) == (new.tags, new.properties, 7)
    assert dummy.created_at.tzinfo is not None
    event_room_id, conference_room_id = uuid4(), uuid4()
    minigroup = await store.creates.establish_unobserved(dummy, event_room_id, conference_room_id)
    assert minigroup is not None
    assert (minigroup.event_room_id, minigroup.conference_room_id) == (
        event_room_id,
        conference_room_id,
    )
    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.minigroups.get(dummy.id) == minigroup
    assert str(minigroup.id) == str(dummy.id)


async def test_a_claim_of_an_established_scope_is_refused(store: SqlStore) -> None:
    new = new_minigroup()
    dummy = await store.creates.claim_dummy(
        new, uuid4(), now=datetime.now(UTC), stale_before=fresh()
    )
    assert dummy is not None
    assert await store.creates.establish_unobserved(dummy, uuid4(), uuid4()) is not None

    again = await store.creates.claim_dummy(
        new, uuid4(), now=datetime.now(UTC), stale_before=future()
    )

    assert again is None


async def test_a_stale_claim_is_not_established(store: SqlStore) -> None:
    new = new_minigroup()
    first = await store.creates.claim_dummy(
        new, uuid4(), now=datetime.now(UTC), stale_before=fresh()
    )
    assert first is not None
    second = await store.creates.claim_dummy(
        new, uuid4(), now=datetime.now(UTC), stale_before=future()
    )
    assert second is not None

    assert await store.creates.establish_unobserved(first, uuid4(), uuid4()) is None
    assert await store.creates.establish_unobserved(second, uuid4(), uuid4()) is not None


async def test_an_enabled_endpoint_of_the_audience_leaves_the_establish_to_a_transaction(
    store: SqlStore, database_url: str
) -> None:
    await _add_endpoint(store, "usr.example.com")
    dummy = await store.creates.claim_dummy(
        new_minigroup(), uuid4(), now=datetime.now(UTC), stale_before=fresh()
    )
    assert dummy is not None

    assert await store.creates.establish_unobserved(dummy, uuid4(), uuid4()) is None

    rows = await execute(database_url, select(class_.c.established, class_.c.claim))
    assert rows == [(False, dummy.claim)]  # still our dummy: the unit of work establishes it
    async with store.unit_of_work() as uow:
        assert await uow.minigroups.establish(dummy, uuid4(), uuid4()) is not None
        await uow.commit()


@pytest.mark.parametrize(
    ("audience", "enabled"), [("other.example.com", True), ("usr.example.com", False)]
)
async def test_endpoints_of_other_audiences_or_disabled_ones_do_not_count(
    store: SqlStore, audience: str, enabled: bool
) -> None:
    await _add_endpoint(store, audience, enabled=enabled)
    dummy = await store.creates.claim_dummy(
        new_minigroup(), uuid4(), now=datetime.now(UTC), stale_before=fresh()
    )
    assert dummy is not None

    assert await store.creates.establish_unobserved(dummy, uuid4(), uuid4()) is not None
