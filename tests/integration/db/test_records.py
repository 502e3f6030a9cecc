"""Recordings (D4), account properties and viewing positions on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import record_timestamp
from minigroups.domain.errors import DatabaseFailure
from minigroups.domain.ids import AccountId
from minigroups.domain.minigroup import Recording
from tests.integration.db.helpers import establish, execute, sql_recordings

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
ALICE = AccountId("alice", "usr.example.com")
BOB = AccountId("bob", "usr.example.com")


def recording(class_id: UUID, created_by: str, created_at: datetime, **changes: Any) -> Recording:
    base = Recording(
        id=uuid4(), class_id=class_id, rtc_id=uuid4(), created_by=created_by, created_at=created_at
    )
    return dataclasses.replace(base, **changes)


async def test_recordings_round_trip(store: SqlStore) -> None:
    minigroup = await establish(store)
    full = recording(
        minigroup.id,
        "web.alice.usr.example.com",
        T0,
        started_at=T0 + timedelta(microseconds=123456),
        segments=[(0, 1500), (2000, 90_000_000_000)],
        modified_segments=[],
        stream_uri="s3://bucket/stream.webm",
        adjusted_at=T0 + timedelta(hours=1),
        transcoded_at=T0 + timedelta(hours=2),
    )
    bare = recording(minigroup.id, "web.bob.usr.example.com", T0 + timedelta(seconds=1))

    async with store.unit_of_work() as uow:
        await sql_recordings(uow.recordings).add(full)
        await sql_recordings(uow.recordings).add(bare)
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.recordings.list_live(minigroup.id) == [full, bare]
        assert await uow.recordings.list_live(uuid4()) == []


async def test_live_recordings_are_ordered_by_created_at_then_id(store: SqlStore) -> None:
    minigroup = await establish(store)
    low, high = sorted([uuid4(), uuid4()])
    later_high = recording(minigroup.id, "a", T0 + timedelta(seconds=1), id=high)
    later_low = recording(minigroup.id, "b", T0 + timedelta(seconds=1), id=low)
    earliest = recording(minigroup.id, "c", T0, id=UUID(int=(1 << 128) - 1))  # largest id

    async with store.unit_of_work() as uow:
        for item in (later_high, earliest, later_low):
            await sql_recordings(uow.recordings).add(item)
        await uow.commit()
        listed = await uow.recordings.list_live(minigroup.id)

    assert [item.id for item in listed] == [earliest.id, later_low.id, later_high.id]


async def test_soft_deleted_recordings_are_excluded(store: SqlStore) -> None:
    minigroup = await establish(store)
    old = recording(minigroup.id, "web.alice.usr.example.com", T0)

    async with store.unit_of_work() as uow:
        await sql_recordings(uow.recordings).add(old)
        await uow.recordings.soft_delete_all(minigroup.id, T0 + timedelta(days=1))
        await uow.commit()
        assert await uow.recordings.list_live(minigroup.id) == []

    # the per-participant uniqueness only counts live recordings
    again = recording(minigroup.id, "web.alice.usr.example.com", T0 + timedelta(days=2))
    async with store.unit_of_work() as uow:
        await sql_recordings(uow.recordings).add(again)
        await uow.commit()
        assert await uow.recordings.list_live(minigroup.id) == [again]


async def test_one_live_recording_per_participant(store: SqlStore) -> None:
    minigroup = await establish(store)
    async with store.unit_of_work() as uow:
        await sql_recordings(uow.recordings).add(recording(minigroup.id, "agent", T0))
        with pytest.raises(DatabaseFailure):
            await sql_recordings(uow.recordings).add(recording(minigroup.id, "agent", T0))


async def test_recordings_need_an_existing_class(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        with pytest.raises(DatabaseFailure):
            await sql_recordings(uow.recordings).add(recording(uuid4(), "agent", T0))


async def test_account_properties(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.accounts.get_properties(ALICE) is None
        assert await uow.accounts.lock_properties(ALICE) == {}
        assert await uow.accounts.get_properties(ALICE) == {}
        await uow.accounts.set_properties(ALICE, {"theme": {"dark": True}, "empty": None})
        await uow.commit()

    async with store.unit_of_work() as uow:
        assert await uow.accounts.lock_properties(ALICE) == {"theme": {"dark": True}, "empty": None}
        await uow.accounts.set_properties(BOB, {"b": 1})  # no row yet: inserted
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.accounts.get_properties(ALICE) == {"theme": {"dark": True}, "empty": None}
        assert await uow.accounts.get_properties(BOB) == {"b": 1}
        assert await uow.accounts.get_properties(AccountId("alice", "other.example.com")) is None


async def test_a_dotted_label_never_reaches_an_account_row(store: SqlStore) -> None:
    """Issue 8: rows are keyed by `<label>.<audience>` text, unambiguous only for dot-free labels;
    (`alice.usr`, `example.com`) would read and write alice's row, so the store refuses it."""
    crafted = AccountId("alice.usr", "example.com")
    assert str(crafted) == str(ALICE)
    minigroup = await establish(store)
    async with store.unit_of_work() as uow:
        await uow.accounts.set_properties(ALICE, {"secret": 1})
        await uow.positions.save(minigroup.id, ALICE, 10)
        await uow.commit()

    async with store.unit_of_work() as uow:
        with pytest.raises(ValueError, match="contains a dot"):
            await uow.accounts.get_properties(crafted)
        with pytest.raises(ValueError, match="contains a dot"):
            await store.reader.read_by_id(minigroup.id, crafted)
        with pytest.raises(ValueError, match="contains a dot"):
            await uow.accounts.lock_properties(crafted)
        with pytest.raises(ValueError, match="contains a dot"):
            await uow.accounts.set_properties(crafted, {"secret": 2})
        with pytest.raises(ValueError, match="contains a dot"):
            await uow.positions.get(minigroup.id, crafted)
        with pytest.raises(ValueError, match="contains a dot"):
            await uow.positions.save(minigroup.id, crafted, 20)

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.accounts.get_properties(ALICE) == {"secret": 1}
        assert await uow.positions.get(minigroup.id, ALICE) == 10


async def test_positions_are_upserted(store: SqlStore, database_url: str) -> None:
    minigroup = await establish(store)

    async with store.unit_of_work() as uow:
        assert await uow.positions.get(minigroup.id, ALICE) is None
        await uow.positions.save(minigroup.id, ALICE, 10)
        await uow.positions.save(minigroup.id, BOB, 86_400)
        await uow.commit()
    [(created_at, first_update)] = await execute(
        database_url,
        select(record_timestamp.c.created_at, record_timestamp.c.updated_at).where(
            record_timestamp.c.account_id == str(ALICE)
        ),
    )

    async with store.unit_of_work() as uow:
        await uow.positions.save(minigroup.id, ALICE, 0)
        await uow.commit()

    async with store.unit_of_work(read_only=True) as uow:
        assert await uow.positions.get(minigroup.id, ALICE) == 0
        assert await uow.positions.get(minigroup.id, BOB) == 86_400
        assert await uow.positions.get(uuid4(), ALICE) is None
    [(created_again, second_update)] = await execute(
        database_url,
        select(record_timestamp.c.created_at, record_timestamp.c.updated_at).where(
            record_timestamp.c.account_id == str(ALICE)
        ),
    )
    assert created_again == created_at
    assert second_update > first_update
    assert created_at.tzinfo is UTC
