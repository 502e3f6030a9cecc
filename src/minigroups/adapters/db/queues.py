"""The inbox and the outbox tables: dedupe on insert, leased claims, retries and dead letters.

Claims lock the due rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two instances never take
the same item; on SQLite the write transaction (`BEGIN IMMEDIATE`) already serialises them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

from sqlalchemy import Row, Table, and_, or_, select, update

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.tables import inbox, outbox
from minigroups.adapters.db.upsert import insert_into
from minigroups.domain.errors import LeaseLost
from minigroups.ports import InboxItem, InboxStatus, IncomingEvent, OutboxItem, OutgoingMessage

# Both queues start a row pending; the inbox ends it done or dead, the outbox sent.
PENDING: Final = "pending"
DONE: Final = "done"
DEAD: Final = "dead"
SENT: Final = "sent"


class _Queue:
    """What both tables share; `table` is the inbox or the outbox."""

    table: Table

    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def _insert_once(self, values: dict[str, Any]) -> bool:
        statement = (
            insert_into(self._connection.dialect_name, self.table)
            .values(id=uuid4(), **values)
            .on_conflict_do_nothing(index_elements=[self.table.c.key])
            .returning(self.table.c.id)
        )
        return await self._connection.first(statement) is not None

    async def _claim(
        self, now: datetime, lease: UUID, until: datetime, limit: int
    ) -> list[Row[Any]]:
        c = self.table.c
        due = (
            select(c.id)
            .where(
                c.status == PENDING,
                c.next_attempt_at <= now,
                or_(c.lease_until.is_(None), c.lease_until < now),
            )
            .order_by(c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(self.table)
            .where(c.id.in_(due.scalar_subquery()))
            .values(lease=lease, lease_until=until, attempts=c.attempts + 1)
            .returning(self.table)
        )
        rows = await self._connection.all(statement)
        return sorted(rows, key=lambda row: row.next_attempt_at)

    async def _release(self, item_id: UUID, lease: UUID | None, **values: Any) -> int:
        c = self.table.c
        statement = (
            update(self.table)
            .where(and_(c.id == item_id, c.lease == lease, c.status == PENDING))
            .values(lease=None, lease_until=None, **values)
        )
        return await self._connection.execute(statement)


def _inbox_item_from_row(row: Row[Any]) -> InboxItem:
    return InboxItem(
        id=row.id,
        key=row.key,
        source=row.source,
        label=row.label,
        payload=row.payload,
        received_at=row.received_at,
        status=row.status,
        attempts=row.attempts,
        lease=row.lease,
        last_error=row.last_error,
    )


class SqlInboxRepository(_Queue):
    table = inbox

    async def add(self, event: IncomingEvent) -> bool:
        return await self._insert_once(
            {
                "key": event.key,
                "source": event.source,
                "label": event.label,
                "payload": event.payload,
                "received_at": event.received_at,
                "next_attempt_at": event.received_at,
            }
        )

    async def claim_due(
        self, now: datetime, lease: UUID, until: datetime, limit: int
    ) -> list[InboxItem]:
        return [_inbox_item_from_row(row) for row in await self._claim(now, lease, until, limit)]

    async def complete(self, item: InboxItem, now: datetime) -> None:
        if not await self._release(item.id, item.lease, status=DONE, handled_at=now):
            raise LeaseLost(f"inbox item {item.id} was taken over")

    async def retry_later(self, item: InboxItem, error: str, at: datetime) -> None:
        await self._release(item.id, item.lease, last_error=error, next_attempt_at=at)

    async def bury(self, item: InboxItem, error: str) -> None:
        await self._release(item.id, item.lease, status=DEAD, last_error=error)

    async def list(self, *, status: InboxStatus | None, limit: int) -> list[InboxItem]:
        statement = select(inbox).order_by(inbox.c.received_at.desc(), inbox.c.id).limit(limit)
        if status is not None:
            statement = statement.where(inbox.c.status == status)
        return [_inbox_item_from_row(row) for row in await self._connection.all(statement)]

    async def get(self, item_id: UUID) -> InboxItem | None:
        row = await self._connection.first(select(inbox).where(inbox.c.id == item_id))
        return None if row is None else _inbox_item_from_row(row)

    async def revive(self, item_id: UUID, now: datetime, *, handled: bool = False) -> bool:
        c = inbox.c
        statuses = [DEAD, DONE] if handled else [DEAD]
        statement = (
            update(inbox)
            .where(c.id == item_id, c.status.in_(statuses))
            .values(status=PENDING, attempts=0, next_attempt_at=now, lease=None, lease_until=None)
        )
        return bool(await self._connection.execute(statement))


def _outbox_item_from_row(row: Row[Any]) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        key=row.key,
        kind=row.kind,
        payload=row.payload,
        attempts=row.attempts,
        lease=row.lease,
    )


class SqlOutboxRepository(_Queue):
    table = outbox

    async def add(self, message: OutgoingMessage, now: datetime) -> bool:
        return await self._insert_once(
            {
                "key": message.key,
                "kind": message.kind,
                "payload": message.payload,
                "created_at": now,
                "next_attempt_at": now,
            }
        )

    async def claim_due(
        self, now: datetime, lease: UUID, until: datetime, limit: int
    ) -> list[OutboxItem]:
        return [_outbox_item_from_row(row) for row in await self._claim(now, lease, until, limit)]

    async def mark_sent(self, item: OutboxItem, now: datetime) -> None:
        await self._release(item.id, item.lease, status=SENT, sent_at=now)

    async def retry_later(self, item: OutboxItem, error: str, at: datetime) -> None:
        await self._release(item.id, item.lease, last_error=error, next_attempt_at=at)

    async def pending(self, limit: int) -> list[OutboxItem]:
        statement = (
            select(outbox)
            .where(outbox.c.status == PENDING)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        )
        return [_outbox_item_from_row(row) for row in await self._connection.all(statement)]
