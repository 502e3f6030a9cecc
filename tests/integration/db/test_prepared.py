"""Prepared statements run by asyncpg directly (PostgreSQL) belong to their unit of work: they
commit and roll back with it, and read back what SQLAlchemy reads (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from minigroups.adapters.db import Pools, SqlStore, create_store
from minigroups.adapters.db.connection import Prepared
from minigroups.adapters.db.tables import inbox
from minigroups.domain.timerange import TimeRange
from minigroups.ports import Holding, IncomingEvent, OutgoingMessage, Owner
from tests.integration.db.helpers import establish

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _event(key: str) -> IncomingEvent:
    return IncomingEvent(
        key, "apps/conference.svc/api/v1/audiences/a/events", "room.close", "{}", NOW
    )


class Abandoned(Exception):
    pass


async def _pending_keys(store: SqlStore) -> list[str]:
    async with store.unit_of_work(read_only=True) as uow:
        return sorted(item.key for item in await uow.inbox.list(status="pending", limit=10))


async def test_a_prepared_write_first_in_a_unit_of_work_rolls_back_with_it(store: SqlStore) -> None:
    # The direct statement comes before any of SQLAlchemy's: it must begin the transaction
    # itself, or it would be committed on its own (autocommit) and survive the rollback.
    async def abandoned() -> None:
        async with store.unit_of_work() as uow:
            assert await uow.inbox.add(_event("k1"))
            assert await uow.inbox.add_many([_event("k2")]) == {"k2"}
            raise Abandoned

    with pytest.raises(Abandoned):
        await abandoned()
    assert await _pending_keys(store) == []


async def test_a_unit_of_work_mixing_both_paths_commits_them_together(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.inbox.add(_event("k1"))  # prepared
        assert await uow.inbox.list(status=None, limit=10)  # SQLAlchemy's, same transaction
        assert await uow.inbox.add_many([_event("k2"), _event("k1")]) == {"k2"}
        await uow.commit()
    assert await _pending_keys(store) == ["k1", "k2"]


@pytest.mark.postgres
async def test_a_unit_of_only_prepared_statements_commits_and_leaves_no_transaction_behind(
    postgres_url: str,
) -> None:
    # On PostgreSQL its transaction is committed on the driver, not through SQLAlchemy: the
    # next unit on the same connection (a pool of one, never replaced) must begin a transaction
    # of its own.
    store = create_store(postgres_url, Pools(size=1))
    connected: list[None] = []
    event.listen(store._engines.writer.sync_engine, "connect", lambda *_: connected.append(None))
    try:
        async with store.unit_of_work() as uow:
            assert await uow.inbox.add(_event("k1"))
            await uow.commit()
        assert await _pending_keys(store) == ["k1"]

        async def abandoned() -> None:
            async with store.unit_of_work() as uow:
                assert await uow.inbox.add(_event("k2"))
                raise Abandoned

        with pytest.raises(Abandoned):
            await abandoned()
        assert await _pending_keys(store) == ["k1"]
        assert len(connected) == 1
    finally:
        await store.close()


async def test_prepared_rows_read_as_sqlalchemy_reads_them(store: SqlStore) -> None:
    owner = Owner("alpha", uuid4())
    until = NOW + timedelta(seconds=15)
    async with store.unit_of_work() as uow:
        _, (held,) = await uow.inbox.add_held([_event("k1")], Holding(owner, until, 1))
        await uow.outbox.add(OutgoingMessage("m1", "notify", {"n": [1, "x", None]}), NOW)
        await uow.commit()
    async with store.unit_of_work() as uow:
        (claimed,) = await uow.outbox.claim_due(NOW, owner, until, 10)
        listed = await uow.outbox.pending(10)
        stored = await uow.inbox.get(held.id)
        await uow.commit()
    assert listed == [claimed]  # the claim's row (prepared) equals SQLAlchemy's of the same row
    assert claimed.payload == {"n": [1, "x", None]}
    assert stored == held  # the held item as add_held made it, as SQLAlchemy reads it back
    assert stored is not None
    assert stored.received_at.tzinfo is not None


async def test_the_pipelines_writes_read_back_as_written(store: SqlStore) -> None:
    minigroup = await establish(store)
    rtc, again, later = uuid4(), uuid4(), NOW + timedelta(minutes=1)
    original, modified = uuid4(), uuid4()
    async with store.unit_of_work() as uow:
        await uow.recordings.upsert_uploaded(minigroup.id, rtc, "web.a.usr", NOW)
        assert await uow.recordings.set_converted(minigroup.id, rtc, "s3://a", [(0, 5)], NOW)
        assert not await uow.recordings.set_converted(minigroup.id, uuid4(), "x", [(0, 1)], NOW)
        await uow.recordings.upsert_uploaded(minigroup.id, rtc, "web.a.usr", later)  # redelivery
        await uow.recordings.upsert_uploaded(minigroup.id, again, "web.b.usr", later)
        (kept, other) = await uow.recordings.list_live(minigroup.id)
        await uow.recordings.set_modified_segments(kept.id, [(1, 4), (6, 9)], later)
        assert await uow.recordings.mark_transcoded(minigroup.id, later) == 2
        await uow.minigroups.close(minigroup.id, TimeRange(NOW, later), timed_out=True)
        await uow.minigroups.record_adjustment(minigroup.id, original, modified)
        await uow.minigroups.set_room_events_uri(modified, "s3://events")
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        (first, second) = await uow.recordings.list_live(minigroup.id)
        stored = await uow.minigroups.get(minigroup.id)
    assert (first.rtc_id, first.stream_uri, first.segments) == (rtc, "s3://a", [(0, 5)])
    assert (first.started_at, first.created_at) == (NOW, NOW)  # the redelivery changed nothing
    assert (first.modified_segments, first.adjusted_at) == ([(1, 4), (6, 9)], later)
    assert (second.rtc_id, second.segments, other.id) == (again, None, second.id)
    assert first.transcoded_at == second.transcoded_at == later
    assert stored is not None
    assert (stored.time, stored.timed_out) == (TimeRange(NOW, later), True)
    assert (stored.original_event_room_id, stored.modified_event_room_id) == (original, modified)
    assert stored.room_events_uri == "s3://events"


async def test_a_new_rtc_resets_the_participants_recording(store: SqlStore) -> None:
    minigroup = await establish(store)
    first_rtc, new_rtc = uuid4(), uuid4()
    async with store.unit_of_work() as uow:
        await uow.recordings.upsert_uploaded(minigroup.id, first_rtc, "web.a.usr", NOW)
        await uow.recordings.set_converted(minigroup.id, first_rtc, "s3://a", [(0, 5)], NOW)
        await uow.recordings.upsert_uploaded(minigroup.id, new_rtc, "web.a.usr", NOW)
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        (stored,) = await uow.recordings.list_live(minigroup.id)
    assert (stored.rtc_id, stored.stream_uri, stored.segments) == (new_rtc, None, None)


def test_a_prepared_statement_is_compiled_once_per_dialect() -> None:
    # The writers' and the read-only units' engines each have a dialect; units of both kinds
    # run the same statements in turn, and neither may compile them again.
    statement = Prepared(select(inbox.c.id).where(inbox.c.key == bindparam("p_key")))
    writers, queries = PGDialect_asyncpg(), PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    first = statement.compiled(writers)
    assert statement.compiled(queries) is not first
    assert statement.compiled(writers) is first
