"""The `class` repository on both databases: dummies (D13, D26), lookups and writes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from sqlalchemy import select, update

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import class_
from minigroups.domain.timerange import TimeRange
from minigroups.ports import MinigroupChanges
from tests.integration.db.helpers import (
    END,
    START,
    claim,
    establish,
    execute,
    future,
    new_minigroup,
    sql_minigroups,
)


async def test_claim_dummy_inserts_a_fresh_dummy(store: SqlStore) -> None:
    claim_id = uuid4()
    new = new_minigroup(tags={"k": "v"}, properties={"p": 1}, reserve=7)

    dummy = await claim(store, new, claim_id)

    assert dummy is not None
    assert dummy.claim == claim_id
    assert (dummy.scope, dummy.audience) == ("lesson-42", "usr.example.com")
    assert dummy.time == TimeRange(START, END)
    assert (dummy.tags, dummy.properties, dummy.reserve) == ({"k": "v"}, {"p": 1}, 7)
    assert dummy.preserve_history is True
    assert dummy.created_at.tzinfo is UTC
    assert abs(dummy.created_at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_dummies_are_invisible_to_lookups(store: SqlStore) -> None:
    dummy = await claim(store, new_minigroup())
    assert dummy is not None

    async with store.unit_of_work() as uow:
        assert await uow.minigroups.get(dummy.id) is None
        assert await uow.minigroups.get(dummy.id, any_kind=True) is None
        assert await uow.minigroups.get_by_scope(dummy.audience, dummy.scope) is None
        assert await uow.minigroups.lock(dummy.id) is None
        assert await uow.minigroups.update(dummy.id, MinigroupChanges(reserve=3)) is None


async def test_establish_makes_the_minigroup_visible(store: SqlStore, database_url: str) -> None:
    dummy = await claim(store, new_minigroup(tags="t", properties={"a": {"b": None}}))
    assert dummy is not None
    event_room_id, conference_room_id = uuid4(), uuid4()

    async with store.unit_of_work() as uow:
        established = await uow.minigroups.establish(dummy, event_room_id, conference_room_id)
        await uow.commit()

    assert established is not None
    assert (established.id, established.kind) == (dummy.id, "minigroup")
    assert established.event_room_id == event_room_id
    assert established.conference_room_id == conference_room_id
    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.minigroups.get(dummy.id) == established
        assert await uow.minigroups.get(dummy.id, any_kind=True) == established
        assert await uow.minigroups.get_by_scope(dummy.audience, dummy.scope) == established
    rows = await execute(database_url, select(class_.c.claim, class_.c.established))
    assert rows == [(None, True)]


async def test_claim_dummy_of_an_established_scope_returns_none(store: SqlStore) -> None:
    minigroup = await establish(store)

    async with store.unit_of_work() as uow:
        again = await uow.minigroups.claim_dummy(
            new_minigroup(reserve=99), uuid4(), now=datetime.now(UTC), stale_before=future()
        )
        await uow.commit()
        assert again is None
        assert await uow.minigroups.get(minigroup.id) == minigroup


async def test_claim_dummy_held_by_another_fresh_create_returns_none(store: SqlStore) -> None:
    first = await claim(store, new_minigroup())

    second = await claim(store, new_minigroup(reserve=5))

    assert first is not None
    assert second is None


async def test_stale_dummy_is_taken_over_keeping_its_id(store: SqlStore, database_url: str) -> None:
    stale = await claim(store, new_minigroup(tags={"old": 1}, properties={"old": 1}, reserve=1))
    assert stale is not None
    # A stuck dummy of another kind: the takeover makes it a minigroup (bug HTTP §9.1 item 8).
    await execute(database_url, update(class_).values(kind="webinar"))
    new_claim = uuid4()
    new = new_minigroup(time=TimeRange(START, None), properties={"new": 2}, reserve=None)

    async with store.unit_of_work() as uow:
        taken = await uow.minigroups.claim_dummy(
            new, new_claim, now=datetime.now(UTC), stale_before=future()
        )
        await uow.commit()

    assert taken is not None
    assert (taken.id, taken.created_at, taken.claim) == (stale.id, stale.created_at, new_claim)
    assert (taken.time, taken.tags, taken.properties) == (TimeRange(START, None), None, {"new": 2})
    assert taken.reserve is None
    async with store.unit_of_work() as uow:
        assert await uow.minigroups.establish(stale, uuid4(), uuid4()) is None  # old claim lost
        established = await uow.minigroups.establish(taken, uuid4(), uuid4())
        await uow.commit()
    assert established is not None
    assert established.kind == "minigroup"


async def test_establish_and_delete_need_the_current_claim(
    store: SqlStore, database_url: str
) -> None:
    dummy = await claim(store, new_minigroup())
    assert dummy is not None
    impostor = dataclasses.replace(dummy, claim=uuid4())

    async with store.unit_of_work() as uow:
        assert await uow.minigroups.establish(impostor, uuid4(), uuid4()) is None
        await uow.minigroups.delete_dummy(impostor)
        await uow.commit()
    assert len(await execute(database_url, select(class_.c.id))) == 1

    async with store.unit_of_work() as uow:
        await uow.minigroups.delete_dummy(dummy)
        await uow.commit()
    assert await execute(database_url, select(class_.c.id)) == []
    assert await claim(store, new_minigroup()) is not None  # the scope is free again


async def test_delete_dummy_never_deletes_an_established_minigroup(store: SqlStore) -> None:
    dummy = await claim(store, new_minigroup())
    assert dummy is not None
    async with store.unit_of_work() as uow:
        assert await uow.minigroups.establish(dummy, uuid4(), uuid4()) is not None
        await uow.minigroups.delete_dummy(dummy)
        await uow.commit()
        assert await uow.minigroups.get(dummy.id) is not None


async def test_kind_filtered_lookups(store: SqlStore, database_url: str) -> None:
    minigroup = await establish(store)
    await execute(database_url, update(class_).values(kind="webinar"))

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.minigroups.get(minigroup.id) is None
        assert await uow.minigroups.get_by_scope(minigroup.audience, minigroup.scope) is None
        webinar = await uow.minigroups.get(minigroup.id, any_kind=True)
    assert webinar is not None
    assert webinar.kind == "webinar"


async def test_get_by_scope_is_an_exact_match(store: SqlStore) -> None:
    minigroup = await establish(store, new_minigroup("Lesson"))

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.minigroups.get_by_scope(minigroup.audience, "lesson") is None
        assert await uow.minigroups.get_by_scope(minigroup.audience, "Lesso") is None
        assert await uow.minigroups.get_by_scope("other.example.com", "Lesson") is None
        assert await uow.minigroups.get_by_scope(minigroup.audience, "Lesson") == minigroup
        assert await uow.minigroups.get(uuid4()) is None


async def test_update_changes_only_the_given_fields(store: SqlStore) -> None:
    minigroup = await establish(store, new_minigroup(properties={"keep": True}, reserve=3))
    new_time = TimeRange(None, END + timedelta(hours=1))

    async with store.unit_of_work() as uow:
        unchanged = await uow.minigroups.update(minigroup.id, MinigroupChanges())
        timed = await uow.minigroups.update(minigroup.id, MinigroupChanges(time=new_time))
        hosted = await uow.minigroups.update(
            minigroup.id, MinigroupChanges(reserve=10, host="web.alice.usr.example.com")
        )
        await uow.commit()

    assert unchanged == minigroup
    assert timed is not None
    assert (timed.time, timed.reserve) == (new_time, 3)
    assert hosted is not None
    assert (hosted.time, hosted.reserve) == (new_time, 10)
    assert hosted.host == "web.alice.usr.example.com"
    assert hosted.properties == {"keep": True}  # D2
    async with store.unit_of_work() as uow:
        assert await uow.minigroups.update(uuid4(), MinigroupChanges(reserve=1)) is None


async def test_replace_rooms_clears_the_versions(store: SqlStore, database_url: str) -> None:
    minigroup = await establish(store, new_minigroup(tags=["t"], reserve=4))
    await execute(
        database_url,
        update(class_).values(
            original_event_room_id=uuid4(), modified_event_room_id=uuid4(), host="h"
        ),
    )
    event_room_id, conference_room_id = uuid4(), uuid4()

    async with store.unit_of_work() as uow:
        replaced = await uow.minigroups.replace_rooms(
            minigroup.id, TimeRange.unbounded(), event_room_id, conference_room_id
        )
        await uow.commit()

    assert replaced is not None
    assert replaced.time == TimeRange.unbounded()
    assert (replaced.event_room_id, replaced.conference_room_id) == (
        event_room_id,
        conference_room_id,
    )
    assert (replaced.original_event_room_id, replaced.modified_event_room_id) == (None, None)
    assert (replaced.tags, replaced.reserve, replaced.host) == (["t"], 4, "h")
    async with store.unit_of_work() as uow:
        assert await uow.minigroups.replace_rooms(uuid4(), TimeRange(), uuid4(), uuid4()) is None


async def test_set_properties_and_lock(store: SqlStore) -> None:
    minigroup = await establish(store)
    properties = {"a": 1, "b": {"c": [1, 2, None]}, "d": None, "ключ": "значение"}

    async with store.unit_of_work() as uow:
        locked = await uow.minigroups.lock(minigroup.id)
        assert locked == minigroup
        await uow.minigroups.set_properties(minigroup.id, properties)
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(minigroup.id)
    assert stored is not None
    assert stored.properties == properties


async def test_json_round_trips_exactly(store: SqlStore) -> None:
    tags_cases = [
        "a string",
        42,
        1.5,
        True,
        [1, "two", None, {"three": 3}],
        {"nested": {"deep": [None, False, 0, "", {}]}, "null": None},
    ]
    for index, tags in enumerate(tags_cases):
        minigroup = await establish(store, new_minigroup(f"s{index}", tags=tags))
        async with store.unit_of_work(read_only=True) as uow:
            stored = await uow.minigroups.get(minigroup.id)
        assert stored is not None
        assert stored.tags == tags
        assert type(stored.tags) is type(tags)


async def test_absent_tags_are_sql_null(store: SqlStore, database_url: str) -> None:
    without = await establish(store, new_minigroup("without"))
    await establish(store, new_minigroup("with", tags={"x": None}))

    rows = await execute(database_url, select(class_.c.scope).where(class_.c.tags.is_(None)))

    assert without.tags is None
    assert rows == [("without",)]


async def test_times_come_back_as_utc_instants(store: SqlStore) -> None:
    moscow = timezone(timedelta(hours=3))
    start = datetime(2024, 5, 1, 13, 0, 0, 123456, tzinfo=moscow)
    minigroup = await establish(store, new_minigroup(time=TimeRange(start, None)))

    assert minigroup.time.start == start
    assert minigroup.time.start is not None
    assert minigroup.time.start.tzinfo is UTC
    assert minigroup.time.start.hour == 10
    assert minigroup.created_at.tzinfo is UTC


async def test_pipeline_writes_the_versions(store: SqlStore) -> None:
    minigroup = await establish(store)
    other = await establish(store, new_minigroup("other"))
    original, modified = uuid4(), uuid4()

    async with store.unit_of_work() as uow:
        await sql_minigroups(uow.minigroups).record_adjustment(minigroup.id, original, modified)
        await sql_minigroups(uow.minigroups).set_room_events_uri(modified, "s3://dump.json")
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        adjusted = await uow.minigroups.get(minigroup.id)
        assert await uow.minigroups.get(other.id) == other
    assert adjusted is not None
    assert (adjusted.original_event_room_id, adjusted.modified_event_room_id) == (
        original,
        modified,
    )
    assert adjusted.room_events_uri == "s3://dump.json"
