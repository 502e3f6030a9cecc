"""`SqlOverviewRepository`: the queues' backlog and the minigroups by stage, one statement each.

The backlog reads go through the `(status, next_attempt_at)` indexes. The stage count is derived
from the class and its live recordings (a scan of both tables, grouped): `_stage_of_each` is the
one place to switch to a stored stage column once there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Subquery, Table, and_, case, func, select

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.queues import DEAD, PENDING
from minigroups.adapters.db.tables import class_, inbox, outbox, recording
from minigroups.ports import Backlog

MINIGROUP = "minigroup"


class SqlOverviewRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def inbox_backlog(self) -> Backlog:
        return await self._backlog(inbox, inbox.c.received_at)

    async def outbox_backlog(self) -> Backlog:
        return await self._backlog(outbox, outbox.c.created_at)

    async def _backlog(self, table: Table, arrived: Column[Any]) -> Backlog:
        statement = (
            select(table.c.status, func.count().label("rows"), func.min(arrived).label("oldest"))
            .where(table.c.status.in_([PENDING, DEAD]))
            .group_by(table.c.status)
        )
        found = {row.status: row for row in await self._connection.all(statement)}
        pending, dead = found.get(PENDING), found.get(DEAD)
        return Backlog(
            pending=0 if pending is None else int(pending.rows),
            dead=0 if dead is None else int(dead.rows),
            oldest_pending_at=None if pending is None else _aware(pending.oldest),
        )

    async def minigroups_by_stage(self, now: datetime) -> Mapping[str, int]:
        stages = _stage_of_each(now)
        statement = select(stages.c.stage, func.count().label("minigroups")).group_by(
            stages.c.stage
        )
        return {row.stage: int(row.minigroups) for row in await self._connection.all(statement)}


def _stage_of_each(now: datetime) -> Subquery:
    """(class id, stage) of every established minigroup. The furthest any live recording got
    stands for the minigroup (the status rule of D4 reads the first recording; the pipeline
    moves them together)."""
    live = (
        select(
            recording.c.class_id,
            func.max(recording.c.adjusted_at).label("adjusted_at"),
            func.max(recording.c.transcoded_at).label("transcoded_at"),
        )
        .where(recording.c.deleted_at.is_(None))
        .group_by(recording.c.class_id)
        .subquery()
    )
    ended = and_(class_.c.time_end.is_not(None), class_.c.time_end < now)
    stage = case(
        (live.c.transcoded_at.is_not(None), "transcoded"),
        (live.c.adjusted_at.is_not(None), "adjusted"),
        (live.c.class_id.is_not(None), "finished"),
        (ended, "closed"),
        else_="real_time",
    )
    return (
        select(class_.c.id, stage.label("stage"))
        .select_from(class_.outerjoin(live, live.c.class_id == class_.c.id))
        .where(class_.c.established, class_.c.kind == MINIGROUP)
        .subquery()
    )


def _aware(value: datetime | None) -> datetime | None:
    """min() over a UtcDateTime column may come back naive on SQLite (no type processing)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
