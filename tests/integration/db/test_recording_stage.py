"""`class.recording_stage`: every recording write keeps it; migration 0004 fills it for old rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert, select

from minigroups.adapters.db import SqlStore, migrate_async, schema_differences
from minigroups.adapters.db.tables import class_, recording
from minigroups.domain.minigroup import Recording
from tests.integration.db.helpers import establish, execute, new_minigroup
from tests.support.databases import PostgresTemplate
from tests.support.sent import sent_statements

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def _stage(database_url: str, class_id: UUID) -> str:
    """The column no port reads (only the listing's WHERE does)."""
    rows = await execute(
        database_url, select(class_.c.recording_stage).where(class_.c.id == class_id)
    )
    stage: str = rows[0][0]
    return stage


def _recording(class_id: UUID, author: str, created: int, **fields: Any) -> Recording:
    return Recording(
        id=uuid4(),
        class_id=class_id,
        rtc_id=fields.pop("rtc_id", uuid4()),
        created_by=author,
        created_at=T0 + timedelta(seconds=created),
        **fields,
    )


async def test_each_recording_write_sets_the_stage_of_the_first_recording(
    store: SqlStore, database_url: str
) -> None:
    minigroup = await establish(store)
    other = await establish(store, new_minigroup("other"))
    assert await _stage(database_url, minigroup.id) == "none"
    first = _recording(minigroup.id, "web.a.usr", 0)
    async with store.unit_of_work() as uow:
        await uow.recordings.add(first)
        await uow.recordings.add(_recording(minigroup.id, "web.b.usr", 5, transcoded_at=T0))
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "finished"  # the first decides (D4)
    async with store.unit_of_work() as uow:
        await uow.recordings.set_modified_segments(first.id, [(0, 1)], T0)
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "adjusted"
    async with store.unit_of_work() as uow:
        assert await uow.recordings.mark_transcoded(minigroup.id, T0) == 2
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "transcoded"
    async with store.unit_of_work() as uow:
        await uow.recordings.remove(minigroup.id, first.rtc_id)
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "transcoded"  # the second one is first now
    async with store.unit_of_work() as uow:
        await uow.recordings.upsert_uploaded(minigroup.id, uuid4(), "web.b.usr", T0)
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "finished"  # a new rtc resets the recording
    async with store.unit_of_work() as uow:
        await uow.recordings.soft_delete_all(minigroup.id, T0)
        await uow.commit()
    assert await _stage(database_url, minigroup.id) == "none"
    assert await _stage(database_url, other.id) == "none"


async def test_a_rolled_back_write_leaves_the_stage(store: SqlStore, database_url: str) -> None:
    minigroup = await establish(store)
    async with store.unit_of_work() as uow:
        await uow.recordings.add(_recording(minigroup.id, "web.a.usr", 0))
        await uow.commit()
    async with store.unit_of_work() as uow:
        await uow.recordings.mark_transcoded(minigroup.id, T0)  # no commit
    assert await _stage(database_url, minigroup.id) == "finished"


async def test_a_class_row_locked_already_is_not_locked_again(
    store: SqlStore, database_url: str
) -> None:
    minigroup = await establish(store)
    with sent_statements() as seen:
        async with store.unit_of_work() as uow:
            assert await uow.minigroups.lock(minigroup.id) is not None
            await uow.recordings.add(_recording(minigroup.id, "web.a.usr", 0))
            await uow.commit()
    assert sum("FROM class" in statement for statement in seen) == 1  # the pipeline's own lock
    assert await _stage(database_url, minigroup.id) == "finished"
    with sent_statements() as seen:
        async with store.unit_of_work() as uow:  # a writer that did not lock: the stage does
            await uow.recordings.mark_transcoded(minigroup.id, T0)
            await uow.commit()
    assert sum("FROM class" in statement for statement in seen) == 1
    assert await _stage(database_url, minigroup.id) == "transcoded"


# --- migration 0004 backfills the stage ----------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.db"
        return
    template: PostgresTemplate = request.getfixturevalue("postgres_template")
    name = template.clone(empty=True)
    try:
        yield template.url(name)
    finally:
        template.drop(name)


def _class_row(scope: str) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "audience": "usr.example.org",
        "scope": scope,
        "conference_room_id": uuid4(),
        "event_room_id": uuid4(),
        "created_at": T0,
    }


def _recording_row(class_id: UUID, author: str, created: int, **fields: Any) -> dict[str, Any]:
    row = {
        "id": uuid4(),
        "class_id": class_id,
        "rtc_id": uuid4(),
        "created_by": author,
        "created_at": T0 + timedelta(seconds=created),
        "deleted_at": None,
        "adjusted_at": None,
        "transcoded_at": None,
    }
    return row | fields


async def test_the_migration_fills_the_stage_of_stored_classes(empty_url: str) -> None:
    await migrate_async(empty_url, "0003")
    expected: dict[str, str] = {}
    classes = []
    recordings = []
    # scope -> recordings as (author, created, fields); the expected stage
    cases: dict[str, tuple[list[tuple[str, int, dict[str, Any]]], str]] = {
        "bare": ([], "none"),
        "plain": ([("a", 0, {})], "finished"),
        "adjusted-first": (
            [("a", 0, {"adjusted_at": T0}), ("b", 1, {"transcoded_at": T0})],
            "adjusted",
        ),
        "transcoded": ([("a", 0, {"adjusted_at": T0, "transcoded_at": T0})], "transcoded"),
        "deleted-only": ([("a", 0, {"transcoded_at": T0, "deleted_at": T0})], "none"),
        "deleted-first": (
            [("a", 0, {"transcoded_at": T0, "deleted_at": T0}), ("b", 1, {})],
            "finished",
        ),
    }
    for scope, (made, stage) in cases.items():
        row = _class_row(scope)
        classes.append(row)
        expected[scope] = stage
        recordings += [_recording_row(row["id"], a, c, **f) for a, c, f in made]
    await execute(empty_url, _insert_classes(classes))
    await execute(empty_url, insert(recording).values(recordings))
    await migrate_async(empty_url)
    rows = await execute(empty_url, select(class_.c.scope, class_.c.recording_stage))
    assert dict(rows) == expected
    assert await schema_differences(empty_url) == []


def _insert_classes(rows: list[dict[str, Any]]) -> Any:
    """An INSERT that names only the given columns (all of them are in revision 0003)."""
    return insert(class_).values(rows)
