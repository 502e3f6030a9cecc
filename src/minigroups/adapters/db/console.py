"""The console's read-only queries (`ports.ConsoleRepository`) over the class, recording, inbox
and outbox tables. Nothing here writes or locks.

Which inbox events belong to a minigroup is not stored: they name its rooms in their payload,
so they are found with `LIKE` over the payload text. That scans the inbox, which the retention
purge keeps to `[pipeline] retention_days` of events, and only when an operator opens a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.rows import minigroup_from_row
from minigroups.adapters.db.tables import MINIGROUP, class_, inbox, outbox, recording
from minigroups.domain.minigroup import Status
from minigroups.ports import (
    InboxEntry,
    ListedMinigroup,
    ListingCursor,
    OutboxEntry,
    QueueTotals,
)

PENDING, DEAD, DONE = "pending", "dead", "done"

_c, _r = class_.c, recording.c
_LIVE = and_(_r.class_id == _c.id, _r.deleted_at.is_(None))
_FIRST = select(_r.id).where(_LIVE).order_by(_r.created_at, _r.id).limit(1)  # D4
_FIRST_ADJUSTED = _FIRST.with_only_columns(_r.adjusted_at).correlate(class_).scalar_subquery()
_FIRST_TRANSCODED = _FIRST.with_only_columns(_r.transcoded_at).correlate(class_).scalar_subquery()
_HAS_RECORDING = exists().where(_LIVE).correlate(class_)


def _status_condition(status: Status, now: datetime) -> ColumnElement[bool]:
    """The SQL form of `describe_playback`'s status (from the first recording by D4)."""
    match status:
        case Status.REAL_TIME:
            return and_(not_(_HAS_RECORDING), or_(_c.time_end.is_(None), _c.time_end >= now))
        case Status.CLOSED:
            return and_(not_(_HAS_RECORDING), _c.time_end < now)
        case Status.FINISHED:
            return and_(_HAS_RECORDING, _FIRST_TRANSCODED.is_(None), _FIRST_ADJUSTED.is_(None))
        case Status.ADJUSTED:
            return and_(_HAS_RECORDING, _FIRST_TRANSCODED.is_(None), _FIRST_ADJUSTED.is_not(None))
        case Status.TRANSCODED:
            return and_(_HAS_RECORDING, _FIRST_TRANSCODED.is_not(None))


def _status_of(row: Row[Any], now: datetime) -> Status:
    if not row.has_recording:
        ended = row.time_end is not None and now > _aware(row.time_end)
        return Status.CLOSED if ended else Status.REAL_TIME
    if row.first_transcoded is not None:
        return Status.TRANSCODED
    return Status.ADJUSTED if row.first_adjusted is not None else Status.FINISHED


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _inbox_entry(row: Row[Any]) -> InboxEntry:
    return InboxEntry(
        id=row.id,
        label=row.label,
        source=row.source,
        payload=row.payload,
        status=row.status,
        attempts=row.attempts,
        received_at=row.received_at,
        next_attempt_at=row.next_attempt_at,
        handled_at=row.handled_at,
        last_error=row.last_error,
    )


def _outbox_entry(row: Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        key=row.key,
        kind=row.kind,
        payload=row.payload,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


class SqlConsoleRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def queue_totals(self) -> QueueTotals:
        inbox_rows = await self._connection.all(
            select(
                inbox.c.status,
                func.count().label("total"),
                func.min(inbox.c.received_at).label("oldest"),
            )
            .where(inbox.c.status.in_([PENDING, DEAD]))
            .group_by(inbox.c.status)
        )
        by_status = {row.status: row for row in inbox_rows}
        outbox_row = await self._connection.one(
            select(
                func.count().label("total"), func.min(outbox.c.created_at).label("oldest")
            ).where(outbox.c.status == PENDING)
        )
        pending, dead = by_status.get(PENDING), by_status.get(DEAD)
        return QueueTotals(
            inbox_pending=0 if pending is None else pending.total,
            inbox_dead=0 if dead is None else dead.total,
            outbox_pending=outbox_row.total,
            oldest_inbox_pending=None if pending is None else _instant(pending.oldest),
            oldest_outbox_pending=_instant(outbox_row.oldest),
        )

    async def handled_per_minute(self, since: datetime) -> list[tuple[datetime, int]]:
        if self._connection.dialect_name == "postgresql":
            minute: Any = func.date_trunc("minute", inbox.c.handled_at)
        else:  # SQLite keeps naive UTC text: cut it after the minutes
            minute = func.strftime("%Y-%m-%d %H:%M:00", inbox.c.handled_at)
        rows = await self._connection.all(
            select(minute.label("minute"), func.count().label("total"))
            .where(inbox.c.status == DONE, inbox.c.handled_at >= since)
            .group_by(minute)
            .order_by(minute)
        )
        return [(_minute(row.minute), row.total) for row in rows]

    async def list_minigroups(
        self,
        audience: str,
        *,
        status: Status | None,
        after: ListingCursor | None,
        limit: int,
        now: datetime,
    ) -> list[ListedMinigroup]:
        statement = (
            select(
                class_,
                _HAS_RECORDING.label("has_recording"),
                _FIRST_ADJUSTED.label("first_adjusted"),
                _FIRST_TRANSCODED.label("first_transcoded"),
            )
            .where(_c.audience == audience, _c.kind == MINIGROUP, _c.established == true())
            .order_by(_c.created_at.desc(), _c.id.desc())
            .limit(limit)
        )
        if status is not None:
            statement = statement.where(_status_condition(status, now))
        if after is not None:
            statement = statement.where(
                or_(
                    _c.created_at < after.created_at,
                    and_(_c.created_at == after.created_at, _c.id < after.id),
                )
            )
        rows = await self._connection.all(statement)
        return [ListedMinigroup(minigroup_from_row(row), _status_of(row, now)) for row in rows]

    async def inbox_mentioning(self, needles: Sequence[str], limit: int) -> list[InboxEntry]:
        mentions = [inbox.c.payload.contains(needle, autoescape=True) for needle in needles]
        statement = (
            select(inbox)
            .where(or_(false(), *mentions))
            .order_by(inbox.c.received_at.desc(), inbox.c.id)
            .limit(limit)
        )
        return [_inbox_entry(row) for row in await self._connection.all(statement)]

    async def outbox_mentioning(self, needles: Sequence[str], limit: int) -> list[OutboxEntry]:
        mentions = [outbox.c.key.contains(needle, autoescape=True) for needle in needles]
        statement = (
            select(outbox)
            .where(or_(false(), *mentions))
            .order_by(outbox.c.created_at.desc(), outbox.c.id)
            .limit(limit)
        )
        return [_outbox_entry(row) for row in await self._connection.all(statement)]

    async def dead_letters(self, limit: int) -> list[InboxEntry]:
        statement = (
            select(inbox)
            .where(inbox.c.status == DEAD)
            .order_by(inbox.c.received_at.desc(), inbox.c.id)
            .limit(limit)
        )
        return [_inbox_entry(row) for row in await self._connection.all(statement)]


def _instant(value: datetime | str | None) -> datetime | None:
    """An aggregate's instant: `min()` over SQLite's text loses the column type."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return _aware(value).astimezone(UTC)


def _minute(value: datetime | str) -> datetime:
    instant = _instant(value)
    if instant is None:  # a group of handled rows has a minute
        raise ValueError("a minute bucket without a time")
    return instant
