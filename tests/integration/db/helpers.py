"""Small builders shared by the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy import Executable

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.engine import create_engines
from minigroups.adapters.db.minigroups import SqlMinigroupRepository
from minigroups.adapters.db.recordings import SqlRecordingRepository
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.timerange import TimeRange
from minigroups.domain.webhooks import Endpoint, new_secret
from minigroups.ports import Dummy, MinigroupRepository, NewMinigroup, RecordingRepository

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
END = datetime(2024, 5, 1, 11, 30, tzinfo=UTC)


def fresh() -> datetime:
    """A `stale_before` under which no dummy made by this test counts as stale."""
    return datetime.now(UTC) - timedelta(minutes=5)


def future() -> datetime:
    """A `stale_before` under which every dummy counts as stale."""
    return datetime.now(UTC) + timedelta(minutes=5)


def new_minigroup(
    scope: str = "lesson-42",
    *,
    audience: str = "usr.example.com",
    tags: JsonValue = None,
    properties: JsonObject | None = None,
    reserve: int | None = None,
    time: TimeRange | None = None,
) -> NewMinigroup:
    return NewMinigroup(
        scope=scope,
        audience=audience,
        time=TimeRange(START, END) if time is None else time,
        tags=tags,
        properties={} if properties is None else properties,
        reserve=reserve,
    )


async def claim(store: SqlStore, new: NewMinigroup, claim_id: UUID | None = None) -> Dummy | None:
    async with store.unit_of_work() as uow:
        dummy = await uow.minigroups.claim_dummy(
            new, claim_id or uuid4(), now=datetime.now(UTC), stale_before=fresh()
        )
        await uow.commit()
    return dummy


async def establish(store: SqlStore, new: NewMinigroup | None = None) -> Minigroup:
    """Create an established minigroup, as a successful create does."""
    dummy = await claim(store, new or new_minigroup())
    assert dummy is not None
    async with store.unit_of_work() as uow:
        minigroup = await uow.minigroups.establish(dummy, uuid4(), uuid4())
        await uow.commit()
    assert minigroup is not None
    return minigroup


async def execute(database_url: str, statement: Executable) -> list[Any]:
    """Run one statement outside the store (to arrange or inspect rows); return its rows."""
    engines = create_engines(database_url)
    try:
        async with engines.writer.begin() as connection:
            result = await connection.execute(statement)
            return list(result.all()) if result.returns_rows else []
    finally:
        await engines.writer.dispose()


def sql_recordings(repository: RecordingRepository) -> SqlRecordingRepository:
    """The adapter's own view, with the writes that the ports do not list yet (`add`)."""
    assert isinstance(repository, SqlRecordingRepository)
    return repository


def sql_minigroups(repository: MinigroupRepository) -> SqlMinigroupRepository:
    """The adapter's own view, with the pipeline writes that the ports do not list yet."""
    assert isinstance(repository, SqlMinigroupRepository)
    return repository


def new_endpoint(
    audience: str = "usr.example.org", *, enabled: bool = True, at: datetime | None = None
) -> Endpoint:
    """A webhook endpoint of `audience` for every event, not stored yet."""
    now = at or datetime(2027, 2, 2, 12, tzinfo=UTC)
    return Endpoint(
        id=uuid4(),
        audience=audience,
        url="https://hooks.example.com/",
        events=("*",),
        secret=new_secret(),
        created_at=now,
        updated_at=now,
        enabled=enabled,
    )


async def terminate_backends(postgres_url: str, application: str = "minigroups") -> None:
    """End the server side of every connection of `application` (the units' pool's by default,
    `minigroups-read` for the direct pool's) to this database."""
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            application,
        )
    finally:
        await connection.close()
