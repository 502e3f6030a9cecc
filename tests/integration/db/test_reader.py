"""The read path's own lookups (`Store.reader`, issue 12) find what the units of work find.

The readers bypass SQLAlchemy's execution layer (asyncpg directly; sqlite3 with SQLAlchemy's type
processors), so each column must still read as the repositories read it: ids, instants with
their microseconds, JSON maps, booleans, segments, the viewer's properties and position.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import make_url

from minigroups.adapters.db import SqlStore
from minigroups.domain.ids import AccountId
from minigroups.domain.minigroup import Recording
from minigroups.domain.timerange import TimeRange
from minigroups.ports import MinigroupChanges, Viewer
from tests.integration.db.helpers import establish, new_minigroup, sql_recordings

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
ALICE = AccountId("alice", "usr.example.com")


async def test_a_read_finds_what_the_units_of_work_find(store: SqlStore) -> None:
    new = new_minigroup(
        tags={"course": "algebra", "n": 1.5},
        properties={"k": True},
        time=TimeRange(T0, T0 + timedelta(hours=1)),
    )
    minigroup = await establish(store, new)
    first = Recording(
        id=uuid4(),
        class_id=minigroup.id,
        rtc_id=uuid4(),
        created_by="web.alice.usr.example.com",
        created_at=T0,
        started_at=T0 + timedelta(microseconds=7),
        segments=[(0, 1500), (2000, 90_000_000_000)],
        modified_segments=[],
        stream_uri="s3://bucket/stream.webm",
        adjusted_at=T0 + timedelta(hours=1),
        transcoded_at=T0 + timedelta(hours=2),
    )
    second = Recording(
        id=uuid4(),
        class_id=minigroup.id,
        rtc_id=uuid4(),
        created_by="web.bob.usr.example.com",
        created_at=T0 + timedelta(seconds=1),
    )
    async with store.unit_of_work() as uow:
        await sql_recordings(uow.recordings).add(second)
        await sql_recordings(uow.recordings).add(first)
        await uow.accounts.set_properties(ALICE, {"a": [1, {"b": None}], "c": "é"})
        await uow.positions.save(minigroup.id, ALICE, 42)
        await uow.minigroups.update(minigroup.id, MinigroupChanges(reserve=5, host="h.usr"))
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        expected_minigroup = await uow.minigroups.get(minigroup.id)
        expected_recordings = await uow.recordings.list_live(minigroup.id)

    by_id = await store.reader.read_by_id(minigroup.id, ALICE)
    by_scope = await store.reader.read_by_scope(minigroup.audience, minigroup.scope, ALICE)

    assert by_id is not None
    assert by_id.minigroup == expected_minigroup
    assert by_id.recordings == expected_recordings == [first, second]
    assert by_id.viewer == Viewer(properties={"a": [1, {"b": None}], "c": "é"}, position=42)
    assert by_scope == by_id
    stranger = await store.reader.read_by_id(minigroup.id, AccountId("bob", "usr.example.com"))
    assert stranger is not None
    assert stranger.viewer == Viewer(properties=None, position=None)


async def test_a_read_of_nothing_is_none(store: SqlStore) -> None:
    minigroup = await establish(store)

    assert await store.reader.read_by_id(uuid4(), ALICE) is None
    assert await store.reader.read_by_scope(minigroup.audience, "no-such-scope", ALICE) is None
    found = await store.reader.read_by_id(minigroup.id, ALICE)
    assert found is not None
    assert found.recordings == []


async def test_reads_go_on_after_the_server_ends_the_readers_connections(
    store: SqlStore, database_url: str
) -> None:
    """PostgreSQL ends the read pool's idle connections (a restart, an operator): the next read
    opens a new one instead of failing on the dead one."""
    if not database_url.startswith("postgres"):
        pytest.skip("the read pool is PostgreSQL's")
    minigroup = await establish(store)
    assert await store.reader.read_by_id(minigroup.id, ALICE) is not None
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    operator = await asyncpg.connect(dsn)
    try:
        ended = await operator.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'minigroups-read' AND datname = current_database()"
        )
    finally:
        await operator.close()
    assert ended >= 1
    await asyncio.sleep(0.1)  # the client sees the connection end
    for _ in range(3):
        found = await store.reader.read_by_id(minigroup.id, ALICE)
        assert found is not None
        assert found.minigroup.id == minigroup.id
