"""The `class` table behind `MinigroupRepository`: lookups see established rows only (D26)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Row, and_, bindparam, delete, false, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.listing import page_statement
from minigroups.adapters.db.rows import minigroup_from_row
from minigroups.adapters.db.tables import MINIGROUP, UtcDateTime, class_
from minigroups.domain.json_value import JsonObject
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.timerange import TimeRange
from minigroups.ports import (
    Dummy,
    MinigroupChanges,
    NewMinigroup,
    PageQuery,
    RoomColumn,
)

_c = class_.c
_ESTABLISHED = _c.established == true()
_IS_MINIGROUP = _c.kind == MINIGROUP
_DUMMY_COLUMNS = (
    _c.id,
    _c.claim,
    _c.scope,
    _c.audience,
    _c.time_start,
    _c.time_end,
    _c.created_at,
    _c.tags,
    _c.properties,
    _c.reserve,
    _c.preserve_history,
    _c.content_id,
)

_BY_ID = select(class_).where(_c.id == bindparam("p_id"), _ESTABLISHED, _IS_MINIGROUP)
_BY_ID_ANY_KIND = select(class_).where(_c.id == bindparam("p_id"), _ESTABLISHED)
_BY_SCOPE = select(class_).where(
    _c.audience == bindparam("p_audience"),
    _c.scope == bindparam("p_scope"),
    _ESTABLISHED,
    _IS_MINIGROUP,
)
_LOCK = _BY_ID_ANY_KIND.with_for_update()  # SQLite renders no FOR UPDATE: BEGIN IMMEDIATE holds
_BY_ROOM = {
    column: select(class_)
    .where(_c[column] == bindparam("p_room"), _ESTABLISHED)
    .order_by(_c.created_at, _c.id)
    .limit(1)
    for column in ("conference_room_id", "event_room_id", "original_event_room_id")
}
_LOCK_BY_ROOM = {column: statement.with_for_update() for column, statement in _BY_ROOM.items()}


def _dummy_from_row(row: Row[Any]) -> Dummy:
    return Dummy(
        id=row.id,
        claim=row.claim,
        scope=row.scope,
        audience=row.audience,
        time=TimeRange(row.time_start, row.time_end),
        created_at=row.created_at,
        tags=row.tags,
        properties=row.properties,
        reserve=row.reserve,
        preserve_history=row.preserve_history,
        content_id=row.content_id,
    )


_CLAIMED_COLUMNS = (
    "id",
    "kind",
    "audience",
    "scope",
    "time_start",
    "time_end",
    "tags",
    "properties",
    "reserve",
    "preserve_history",
    "established",
    "created_at",
    "claim",
    "claimed_at",
)


@functools.cache
def _claim_statement(dialect_name: str) -> ReturningInsert[Any]:
    """INSERT ... ON CONFLICT (audience, scope) DO UPDATE ... WHERE <stale dummy> (D13).

    Built once per dialect with a bound parameter per value (`p_<column>`): a create compiles
    nothing and SQLAlchemy finds the statement in its cache without walking fresh values.
    """
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(class_).values(
        {name: bindparam(f"p_{name}", type_=_c[name].type) for name in _CLAIMED_COLUMNS}
    )
    new = statement.excluded
    taken_over = {
        "kind": new.kind,  # not the old row's kind: the reference's bug HTTP §9.1 item 8
        "time_start": new.time_start,
        "time_end": new.time_end,
        "tags": new.tags,
        "properties": new.properties,
        "reserve": new.reserve,
        "preserve_history": new.preserve_history,
        "claim": new.claim,
        "claimed_at": new.claimed_at,
    }
    stale = or_(_c.claimed_at.is_(None), _c.claimed_at < bindparam("p_stale", type_=UtcDateTime()))
    return statement.on_conflict_do_update(
        index_elements=[_c.audience, _c.scope],
        set_=taken_over,
        where=and_(_c.established == false(), stale),
    ).returning(*_DUMMY_COLUMNS)


_ESTABLISH = (
    update(class_)
    .where(_c.id == bindparam("p_id"), _c.claim == bindparam("p_claim"), _c.established == false())
    .values(
        event_room_id=bindparam("p_event_room_id"),
        conference_room_id=bindparam("p_conference_room_id"),
        established=True,
        claim=None,
        claimed_at=None,
    )
    .returning(class_)
)


class SqlMinigroupRepository:
    """Statements on `class` inside one unit of work's connection."""

    def __init__(self, connection: TranslatingConnection, locked: set[UUID] | None = None) -> None:
        self._connection = connection
        # The class rows this unit of work locked (shared with its recordings: sync_stages).
        self._locked = set() if locked is None else locked

    async def _one(self, statement: Any, params: dict[str, Any]) -> Minigroup | None:
        row = await self._connection.first(statement, params)
        return None if row is None else minigroup_from_row(row)

    async def _locking(self, statement: Any, params: dict[str, Any]) -> Minigroup | None:
        minigroup = await self._one(statement, params)
        if minigroup is not None:
            self._locked.add(minigroup.id)
        return minigroup

    async def get(self, minigroup_id: UUID, *, any_kind: bool = False) -> Minigroup | None:
        return await self._one(_BY_ID_ANY_KIND if any_kind else _BY_ID, {"p_id": minigroup_id})

    async def get_by_scope(self, audience: str, scope: str) -> Minigroup | None:
        return await self._one(_BY_SCOPE, {"p_audience": audience, "p_scope": scope})

    async def lock(self, minigroup_id: UUID) -> Minigroup | None:
        return await self._locking(_LOCK, {"p_id": minigroup_id})

    async def claim_dummy(
        self, new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
    ) -> Dummy | None:
        values = {
            "p_id": uuid4(),
            "p_kind": MINIGROUP,
            "p_audience": new.audience,
            "p_scope": new.scope,
            "p_time_start": new.time.start,
            "p_time_end": new.time.end,
            "p_tags": new.tags,
            "p_properties": new.properties,
            "p_reserve": new.reserve,
            "p_preserve_history": True,
            "p_established": False,
            "p_created_at": now,
            "p_claim": claim,
            "p_claimed_at": now,
            "p_stale": stale_before,
        }
        statement = _claim_statement(self._connection.dialect_name)
        row = await self._connection.first(statement, values)
        return None if row is None else _dummy_from_row(row)

    async def establish(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        params = {
            "p_id": dummy.id,
            "p_claim": dummy.claim,
            "p_event_room_id": event_room_id,
            "p_conference_room_id": conference_room_id,
        }
        return await self._one(_ESTABLISH, params)

    async def delete_dummy(self, dummy: Dummy) -> None:
        await self._connection.execute(
            delete(class_).where(
                _c.id == dummy.id, _c.claim == dummy.claim, _c.established == false()
            )
        )

    async def update(self, minigroup_id: UUID, changes: MinigroupChanges) -> Minigroup | None:
        values: dict[str, Any] = {}
        if changes.time is not None:
            values.update(time_start=changes.time.start, time_end=changes.time.end)
        if changes.reserve is not None:
            values["reserve"] = changes.reserve
        if changes.host is not None:
            values["host"] = changes.host
        if not values:
            return await self._one(_BY_ID_ANY_KIND, {"p_id": minigroup_id})
        statement = (
            update(class_)
            .where(_c.id == minigroup_id, _ESTABLISHED)
            .values(values)
            .returning(class_)
        )
        return await self._one(statement, {})

    async def replace_rooms(
        self, minigroup_id: UUID, time: TimeRange, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        statement = (
            update(class_)
            .where(_c.id == minigroup_id, _ESTABLISHED)
            .values(
                time_start=time.start,
                time_end=time.end,
                event_room_id=event_room_id,
                conference_room_id=conference_room_id,
                original_event_room_id=None,
                modified_event_room_id=None,
            )
            .returning(class_)
        )
        return await self._one(statement, {})

    async def set_properties(self, minigroup_id: UUID, properties: JsonObject) -> None:
        await self._connection.execute(
            update(class_).where(_c.id == minigroup_id, _ESTABLISHED).values(properties=properties)
        )

    async def list_page(self, query: PageQuery) -> list[Minigroup]:
        statement, params = page_statement(self._connection.dialect_name, query)
        return [minigroup_from_row(row) for row in await self._connection.all(statement, params)]

    # --- the recording pipeline (contract.md upstream §6) -----------------------------------------

    async def find_by_room(
        self, column: RoomColumn, room_id: UUID, *, lock: bool = False
    ) -> Minigroup | None:
        """The class (any kind) whose room in `column` is `room_id` (contract.md upstream §6.0)."""
        if lock:
            return await self._locking(_LOCK_BY_ROOM[column], {"p_room": room_id})
        return await self._one(_BY_ROOM[column], {"p_room": room_id})

    async def close(self, minigroup_id: UUID, time: TimeRange, timed_out: bool) -> None:
        """`room.close`: the end lowered to the close time, and whether it timed out."""
        await self._connection.execute(
            update(class_)
            .where(_c.id == minigroup_id)
            .values(time_start=time.start, time_end=time.end, timed_out=timed_out)
        )

    async def record_adjustment(
        self, minigroup_id: UUID, original_event_room_id: UUID, modified_event_room_id: UUID
    ) -> None:
        """Store the rooms that `room.adjust` / `edition.commit` produced."""
        await self._connection.execute(
            update(class_)
            .where(_c.id == minigroup_id)
            .values(
                original_event_room_id=original_event_room_id,
                modified_event_room_id=modified_event_room_id,
            )
        )

    async def set_room_events_uri(self, modified_event_room_id: UUID, uri: str) -> None:
        """Store the `room.dump_events` result on the class whose modified room it is."""
        await self._connection.execute(
            update(class_)
            .where(_c.modified_event_room_id == modified_event_room_id)
            .values(room_events_uri=uri)
        )
