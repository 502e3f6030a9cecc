"""The inbox and the outbox tables: dedupe on insert, leased claims, retries and dead letters.

Claims lock the due rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two instances never take
the same item; on SQLite the write transaction (`BEGIN IMMEDIATE`) already serialises them. The
other statements over many rows (reclaim, release, purge) skip locked rows the same way, and
touch at most a batch each, so that none of them waits on a worker or holds locks for long.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql

from minigroups.adapters.db.connection import Prepared, TranslatingConnection
from minigroups.adapters.db.tables import inbox, outbox
from minigroups.adapters.db.upsert import insert_into
from minigroups.domain.errors import LeaseLost
from minigroups.ports import (
    Holding,
    InboxItem,
    InboxStatus,
    IncomingEvent,
    OutboxItem,
    OutgoingMessage,
    Owner,
)

# Both queues start a row pending; the inbox ends it done or dead, the outbox sent.
PENDING: Final = "pending"
DONE: Final = "done"
DEAD: Final = "dead"
SENT: Final = "sent"


class _Queue:
    """What both tables share; `table` is the inbox or the outbox, `settled` its final status and
    `settled_at` the column that says when it was reached."""

    table: Table
    settled: str
    settled_at: str

    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def _insert_once(self, values: dict[str, Any]) -> bool:
        statement = _insert_once(self._connection.dialect_name, self.table, tuple(values))
        params = {"p_id": uuid4(), **_arguments(values)}
        return bool(await self._connection.rows(statement, params))

    async def _insert_returning(
        self, rows: Sequence[dict[str, Any]], *returned: ColumnElement[Any]
    ) -> Sequence[Any]:
        """One statement for all `rows` (each with the same columns), skipping known keys; the
        `returned` columns of the rows inserted (a key twice: inserted once)."""
        if not rows:
            return []
        if self._connection.dialect_name == "postgresql":
            names = tuple(rows[0])
            unnested = _insert_unnested(self.table, ("id", *names), tuple(c.key for c in returned))
            return await self._connection.rows(unnested, _unnested_arguments(rows, names))
        statement = (
            insert_into(self._connection.dialect_name, self.table)
            .values([{"id": uuid4(), **values} for values in rows])
            .on_conflict_do_nothing(index_elements=[self.table.c.key])
            .returning(*returned)
        )
        return await self._connection.all(statement)

    async def _release_many(self, leases: Mapping[UUID, UUID | None], **values: Any) -> set[UUID]:
        """`_release` of many items in one statement; the ids whose lease was still held."""
        if not leases:
            return set()
        if self._connection.dialect_name == "postgresql":
            params = _arguments(values)
            params.update(p_ids=list(leases), p_leases=list(leases.values()))
            statement = _release_unnested(self.table, tuple(values))
            return {row.id for row in await self._connection.rows(statement, params)}
        c = self.table.c
        update_held = (
            update(self.table)
            .where(c.status == PENDING, tuple_(c.id, c.lease).in_(list(leases.items())))
            .values(lease=None, lease_until=None, **values)
            .returning(c.id)
        )
        return {row.id for row in await self._connection.all(update_held)}

    async def _claim(self, now: datetime, owner: Owner, until: datetime, limit: int) -> list[Any]:
        params = _claim_arguments(now, owner, until, limit)
        rows = await self._connection.rows(_claim(self.table), params)
        return sorted(rows, key=lambda row: row.next_attempt_at)

    def _lockable(self, *conditions: ColumnElement[bool]) -> Any:
        """The ids of the rows matching `conditions` that nobody holds a row lock on."""
        return select(self.table.c.id).where(*conditions).with_for_update(skip_locked=True)

    async def _release(self, item_id: UUID, lease: UUID | None, **values: Any) -> int:
        if lease is not None:
            params = {"p_id": item_id, "p_lease": lease}
            params.update(_arguments(values))
            return await self._connection.run(_release(self.table, tuple(values)), params)
        c = self.table.c  # `lease IS NULL`: rare (an item that was never claimed)
        statement = (
            update(self.table)
            .where(and_(c.id == item_id, c.lease == lease, c.status == PENDING))
            .values(lease=None, lease_until=None, **values)
        )
        return await self._connection.execute(statement)

    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
        if not leases:
            return set()
        c = self.table.c
        held = or_(
            false(), *(and_(c.id == item, c.lease == lease) for item, lease in leases.items())
        )
        statement = (
            update(self.table)
            .where(c.status == PENDING, held)
            .values(lease_until=until)
            .returning(c.id)
        )
        return {row.id for row in await self._connection.all(statement)}

    async def reclaim(self, owner: Owner) -> int:
        c = self.table.c
        earlier = self._lockable(
            c.status == PENDING,
            c.lease.is_not(None),
            c.owner == owner.instance,
            or_(c.incarnation.is_(None), c.incarnation != owner.incarnation),
        )
        statement = (
            update(self.table)
            .where(c.id.in_(earlier.scalar_subquery()))
            .values(lease=None, lease_until=None)
        )
        return await self._connection.execute(statement)

    async def release(self, owner: Owner) -> int:
        c = self.table.c
        own = self._lockable(
            c.status == PENDING, c.lease.is_not(None), c.incarnation == owner.incarnation
        )
        statement = (
            update(self.table)
            .where(c.id.in_(own.scalar_subquery()))
            .values(lease=None, lease_until=None, attempts=c.attempts - 1)
        )
        return await self._connection.execute(statement)

    async def purge_settled(self, before: datetime, limit: int) -> int:
        # A row is due before it is settled, so `next_attempt_at < before` holds for every row
        # settled before `before`: the (status, next_attempt_at) index finds them.
        c = self.table.c
        return await self._delete(
            limit,
            c.status == self.settled,
            c.next_attempt_at < before,
            c[self.settled_at] < before,
        )

    async def _delete(self, limit: int, *conditions: ColumnElement[bool]) -> int:
        c = self.table.c
        batch = self._lockable(*conditions).order_by(c.next_attempt_at).limit(limit)
        statement = delete(self.table).where(c.id.in_(batch.scalar_subquery()))
        return await self._connection.execute(statement)


# The hot statements' values: the column `name` is bound as the parameter `p_<name>`.


def _parameters(table: Table, names: Sequence[str]) -> dict[str, Any]:
    """The columns `names` of `table`, each as its bind parameter."""
    return {name: bindparam(f"p_{name}", type_=table.c[name].type) for name in names}


def _arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as the arguments of `_parameters`' statements."""
    return {f"p_{name}": value for name, value in values.items()}


def _unnested_arguments(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """The arguments of `_unnested` for `rows` (the columns `names`) with a new id each."""
    arrays = _arguments({name: [row[name] for row in rows] for name in names})
    return {"p_id": [uuid4() for _ in rows], **arrays}


# The hot statements of both queues, built once per table (and column set): on PostgreSQL run
# by asyncpg directly (`Prepared`), elsewhere from SQLAlchemy's statement cache.


@functools.cache
def _insert_once(dialect_name: str, table: Table, names: tuple[str, ...]) -> Prepared:
    values = _parameters(table, ("id", *names))
    return Prepared(
        insert_into(dialect_name, table)
        .values(values)
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.id)
    )


@functools.cache
def _insert_unnested(table: Table, names: tuple[str, ...], returned: tuple[str, ...]) -> Prepared:
    """PostgreSQL: rows inserted from one array parameter per column (`unnest`), a statement of
    one shape whatever the number of rows. A multi-VALUES insert is not cacheable in SQLAlchemy:
    it was compiled again at every execution (issue 12)."""
    return Prepared(
        _unnested_insert(table, names, _unnested(table, names)).returning(
            *(table.c[name] for name in returned)
        )
    )


def _unnested(table: Table, names: tuple[str, ...]) -> Select[Any]:
    """The rows of one array parameter per column (`p_<name>`)."""
    arrays = [bindparam(f"p_{name}", type_=ARRAY(table.c[name].type)) for name in names]
    return select(literal_column("*")).select_from(func.unnest(*arrays))


def _unnested_insert(table: Table, names: tuple[str, ...], rows: Select[Any]) -> Any:
    """`rows` (of the columns `names`) inserted, known keys skipped."""
    return (
        postgresql.insert(table)
        .from_select([table.c[name] for name in names], rows)
        .on_conflict_do_nothing(index_elements=[table.c.key])
    )


@functools.cache
def _complete_with_messages() -> Prepared:
    """PostgreSQL: an inbox item settled done if its lease (`p_item_lease`) is still held and,
    only then, outbox rows inserted as `_insert_unnested` inserts them, in one statement;
    `completed` says whether the item was settled (a data-modifying CTE runs whether or not it is
    read, and sees what an earlier one returned)."""
    c = inbox.c
    settled = (
        update(inbox)
        .where(
            c.id == bindparam("p_item_id", type_=c.id.type),
            c.lease == bindparam("p_item_lease", type_=c.lease.type),
            c.status == PENDING,
        )
        .values(lease=None, lease_until=None, **_parameters(inbox, ("status", "handled_at")))
        .returning(c.id)
        .cte("settled")
    )
    names = ("id", *_OUTBOX_COLUMNS)
    rows = _unnested(outbox, names).where(exists(select(settled.c.id)))
    inserted = _unnested_insert(outbox, names, rows).cte("inserted")
    completed = select(func.count()).select_from(settled).scalar_subquery()
    return Prepared(select(completed.label("completed")).add_cte(inserted))


@functools.cache
def _claim(table: Table) -> Prepared:
    """Lease the due rows nobody holds, oldest first, up to `p_limit` of them."""
    c = table.c
    now = bindparam("p_now", type_=c.next_attempt_at.type)
    due = (
        select(c.id)
        .where(
            c.status == PENDING,
            c.next_attempt_at <= now,
            or_(c.lease_until.is_(None), c.lease_until < now),
        )
        .with_for_update(skip_locked=True)
        .order_by(c.next_attempt_at)
        .limit(bindparam("p_limit", type_=Integer()))
    )
    return Prepared(
        update(table)
        .where(c.id.in_(due.scalar_subquery()))
        .values(_leasing(table))
        .returning(table)
    )


def _leasing(table: Table) -> dict[str, Any]:
    """What a claim writes on each row it takes: a new lease to the claimer, one attempt more;
    the values are `_claim_arguments`'."""
    c = table.c
    return {
        "lease": bindparam("p_lease", type_=c.lease.type),
        "lease_until": bindparam("p_lease_until", type_=c.lease_until.type),
        "owner": bindparam("p_owner", type_=c.owner.type),
        "incarnation": bindparam("p_incarnation", type_=c.incarnation.type),
        "attempts": c.attempts + 1,
    }


def _claim_arguments(now: datetime, owner: Owner, until: datetime, limit: int) -> dict[str, Any]:
    """The arguments of a claim (`_claim`'s, the webhook deliveries' own): a fresh lease."""
    return {
        "p_now": now,
        "p_limit": limit,
        "p_lease": uuid4(),
        "p_lease_until": until,
        "p_owner": owner.instance,
        "p_incarnation": owner.incarnation,
    }


@functools.cache
def _release(table: Table, names: tuple[str, ...]) -> Prepared:
    """Settle or give back one item whose lease (`p_lease`) is still the holder's."""
    c = table.c
    values = _parameters(table, names)
    return Prepared(
        update(table)
        .where(
            c.id == bindparam("p_id", type_=c.id.type),
            c.lease == bindparam("p_lease", type_=c.lease.type),
            c.status == PENDING,
        )
        .values(lease=None, lease_until=None, **values)
    )


@functools.cache
def _release_unnested(table: Table, names: tuple[str, ...]) -> Prepared:
    """PostgreSQL: `_release` of the items whose ids and leases come as two arrays, a statement
    of one shape however many there are (an IN list of pairs is compiled again per length)."""
    c = table.c
    held = (
        func.unnest(
            bindparam("p_ids", type_=ARRAY(c.id.type)),
            bindparam("p_leases", type_=ARRAY(c.lease.type)),
        )
        .table_valued("id", "lease")
        .render_derived(name="held")
    )
    values = _parameters(table, names)
    return Prepared(
        update(table)
        .where(c.status == PENDING, c.id == held.c.id, c.lease == held.c.lease)
        .values(lease=None, lease_until=None, **values)
        .returning(c.id)
    )


def _inbox_item_from_row(row: Any) -> InboxItem:
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


def _inbox_row(event: IncomingEvent) -> dict[str, Any]:
    return {
        "key": event.key,
        "source": event.source,
        "label": event.label,
        "payload": event.payload,
        "received_at": event.received_at,
        "next_attempt_at": event.received_at,
    }


# The claim's columns of an event recorded and not claimed: their defaults, given so that every
# row of a batch has the same columns.
_UNHELD: Final[dict[str, Any]] = {
    "lease": None,
    "lease_until": None,
    "owner": None,
    "incarnation": None,
    "attempts": 0,
}


def _held_item(item_id: UUID, event: IncomingEvent, lease: UUID) -> InboxItem:
    """The item as a claim of the row `add_held` just inserted would return it."""
    return InboxItem(
        id=item_id,
        key=event.key,
        source=event.source,
        label=event.label,
        payload=event.payload,
        received_at=event.received_at,
        status=PENDING,
        attempts=1,
        lease=lease,
    )


class SqlInboxRepository(_Queue):
    table = inbox
    settled = DONE
    settled_at = "handled_at"

    def __init__(self, connection: TranslatingConnection, outbox: SqlOutboxRepository) -> None:
        super().__init__(connection)
        self._outbox = outbox  # the unit of work's: what it queued goes in with `complete`

    async def add(self, event: IncomingEvent) -> bool:
        return await self._insert_once(_inbox_row(event))

    async def add_many(self, events: Sequence[IncomingEvent]) -> set[str]:
        rows = [_inbox_row(event) | _UNHELD for event in events]
        return {row.key for row in await self._insert_returning(rows, inbox.c.key)}

    async def add_held(
        self, events: Sequence[IncomingEvent], holding: Holding
    ) -> tuple[set[str], list[InboxItem]]:
        lease = uuid4()  # one per claiming statement, as `_claim`'s
        held = {
            "lease": lease,
            "lease_until": holding.until,
            "owner": holding.owner.instance,
            "incarnation": holding.owner.incarnation,
            "attempts": 1,  # as a claim counts it
        }
        rows = [
            _inbox_row(event) | (held if index < holding.count else _UNHELD)
            for index, event in enumerate(events)
        ]
        c = inbox.c
        inserted = await self._insert_returning(rows, c.key, c.id, c.lease)
        ids = {row.key: row.id for row in inserted if row.lease == lease}
        items = []
        for event in events[: holding.count]:
            item_id = ids.pop(event.key, None)  # a key twice: the first is the one inserted
            if item_id is not None:
                items.append(_held_item(item_id, event, lease))
        return {row.key for row in inserted}, items

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int
    ) -> list[InboxItem]:
        return [_inbox_item_from_row(row) for row in await self._claim(now, owner, until, limit)]

    async def complete(self, item: InboxItem, now: datetime) -> None:
        """Also inserts the messages the unit of work queued in the outbox, if the lease is still
        held: on PostgreSQL in the same statement (the pipeline's every event took two round
        trips for the two)."""
        rows = self._outbox.take_queued()
        if rows and item.lease is not None and self._connection.dialect_name == "postgresql":
            completed = await self._complete_with(item.id, item.lease, now, rows)
        else:
            completed = await self._release(item.id, item.lease, status=DONE, handled_at=now)
            if completed:
                await self._outbox.insert(rows)
        if not completed:
            raise LeaseLost(f"inbox item {item.id} was taken over")

    async def _complete_with(
        self, item_id: UUID, lease: UUID, now: datetime, rows: Sequence[dict[str, Any]]
    ) -> int:
        """PostgreSQL: `_release` to done and the queued outbox rows' insert, in one statement;
        whether the lease was still held (the rows are inserted only then)."""
        params = _unnested_arguments(rows, _OUTBOX_COLUMNS)
        params.update(
            p_item_id=item_id,
            p_item_lease=lease,
            p_status=DONE,
            p_handled_at=now,
        )
        row = await self._connection.first(_complete_with_messages(), params)
        return 0 if row is None else int(row.completed)

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

    async def purge_dead(self, before: datetime, limit: int) -> int:
        c = inbox.c
        return await self._delete(limit, c.status == DEAD, c.received_at < before)


# An outbox row as `add` queues it (the order of `_complete_with_messages`' arrays).
_OUTBOX_COLUMNS: Final = ("key", "kind", "payload", "created_at", "next_attempt_at")


def _outbox_item_from_row(row: Any) -> OutboxItem:
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
    settled = SENT
    settled_at = "sent_at"

    def __init__(self, connection: TranslatingConnection) -> None:
        super().__init__(connection)
        # Queued by `add`, inserted with the unit's inbox completion or before it commits (a
        # transaction shows nothing before then); `claim_due` and `pending` insert them first.
        self._queued: list[dict[str, Any]] = []

    async def add(self, message: OutgoingMessage, now: datetime) -> None:
        self._queued.append(
            {
                "key": message.key,
                "kind": message.kind,
                "payload": message.payload,
                "created_at": now,
                "next_attempt_at": now,
            }
        )

    async def flush(self) -> None:
        """Insert what `add` queued (the unit of work's commit calls it)."""
        await self.insert(self.take_queued())

    def take_queued(self) -> list[dict[str, Any]]:
        """The rows `add` queued, now the caller's to insert."""
        queued, self._queued = self._queued, []
        return queued

    async def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert queued rows in one statement (known keys skipped)."""
        await self._insert_returning(rows, outbox.c.id)

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int
    ) -> list[OutboxItem]:
        await self.flush()
        return [_outbox_item_from_row(row) for row in await self._claim(now, owner, until, limit)]

    async def mark_sent(self, item: OutboxItem, now: datetime) -> None:
        if not await self._release(item.id, item.lease, status=SENT, sent_at=now):
            raise LeaseLost(f"outbox item {item.id} was taken over")

    async def mark_sent_many(self, items: Sequence[OutboxItem], now: datetime) -> set[UUID]:
        leases = {item.id: item.lease for item in items}
        return await self._release_many(leases, status=SENT, sent_at=now)

    async def retry_later(self, item: OutboxItem, error: str, at: datetime) -> None:
        await self._release(item.id, item.lease, last_error=error, next_attempt_at=at)

    async def pending(self, limit: int) -> list[OutboxItem]:
        await self.flush()
        statement = (
            select(outbox)
            .where(outbox.c.status == PENDING)
            .order_by(outbox.c.next_attempt_at)
            .limit(limit)
        )
        return [_outbox_item_from_row(row) for row in await self._connection.all(statement)]
