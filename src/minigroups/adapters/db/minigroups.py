"""The `class` table behind `MinigroupRepository`: lookups see established rows only (D26)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, false, select, true, update

from minigroups.adapters.db.claims import (
    ESTABLISH,
    ESTABLISH_UNOBSERVED,
    claim_statement,
    claim_values,
    dummy_from_row,
    establish_values,
)
from minigroups.adapters.db.connection import Prepared, TranslatingConnection
from minigroups.adapters.db.listing import page_statement
from minigroups.adapters.db.rows import minigroup_from_row
from minigroups.adapters.db.tables import MINIGROUP, class_
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

# The lookups by key and the pipeline's locking reads: `Prepared` (run by asyncpg directly on
# PostgreSQL).
_BY_ID = Prepared(select(class_).where(_c.id == bindparam("p_id"), _ESTABLISHED, _IS_MINIGROUP))
_ANY_KIND = select(class_).where(_c.id == bindparam("p_id"), _ESTABLISHED)
_BY_ID_ANY_KIND = Prepared(_ANY_KIND)
_BY_SCOPE = Prepared(
    select(class_).where(
        _c.audience == bindparam("p_audience"),
        _c.scope == bindparam("p_scope"),
        _ESTABLISHED,
        _IS_MINIGROUP,
    )
)
# SQLite renders no FOR UPDATE: BEGIN IMMEDIATE holds the database anyway.
_LOCK = Prepared(_ANY_KIND.with_for_update())
_ROOM = {
    column: select(class_)
    .where(_c[column] == bindparam("p_room"), _ESTABLISHED)
    .order_by(_c.created_at, _c.id)
    .limit(1)
    for column in ("conference_room_id", "event_room_id", "original_event_room_id")
}
_BY_ROOM = {column: Prepared(statement) for column, statement in _ROOM.items()}
# The pipeline's writes to a class row.
_CLOSE = Prepared(
    update(class_)
    .where(_c.id == bindparam("p_id"))
    .values(
        time_start=bindparam("p_time_start"),
        time_end=bindparam("p_time_end"),
        timed_out=bindparam("p_timed_out"),
    )
)
_RECORD_ADJUSTMENT = Prepared(
    update(class_)
    .where(_c.id == bindparam("p_id"))
    .values(
        original_event_room_id=bindparam("p_original"),
        modified_event_room_id=bindparam("p_modified"),
    )
)
_SET_ROOM_EVENTS_URI = Prepared(
    update(class_)
    .where(_c.modified_event_room_id == bindparam("p_modified"))
    .values(room_events_uri=bindparam("p_uri"))
)
_LOCK_BY_ROOM = {
    column: Prepared(statement.with_for_update()) for column, statement in _ROOM.items()
}


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
        values = claim_values(new, claim, now=now, stale_before=stale_before)
        statement = claim_statement(self._connection.dialect_name)
        row = await self._connection.first(statement, values)
        return None if row is None else dummy_from_row(row)

    async def establish(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        params = establish_values(dummy, event_room_id, conference_room_id)
        return await self._one(ESTABLISH, params)

    async def establish_unobserved(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """`establish` unless an enabled webhook endpoint of the audience exists (then None)."""
        params = establish_values(dummy, event_room_id, conference_room_id)
        return await self._one(ESTABLISH_UNOBSERVED, params)

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
        params = {
            "p_id": minigroup_id,
            "p_time_start": time.start,
            "p_time_end": time.end,
            "p_timed_out": timed_out,
        }
        await self._connection.run(_CLOSE, params)

    async def record_adjustment(
        self, minigroup_id: UUID, original_event_room_id: UUID, modified_event_room_id: UUID
    ) -> None:
        """Store the rooms that `room.adjust` / `edition.commit` produced."""
        params = {
            "p_id": minigroup_id,
            "p_original": original_event_room_id,
            "p_modified": modified_event_room_id,
        }
        await self._connection.run(_RECORD_ADJUSTMENT, params)

    async def set_room_events_uri(self, modified_event_room_id: UUID, uri: str) -> None:
        """Store the `room.dump_events` result on the class whose modified room it is."""
        params = {"p_modified": modified_event_room_id, "p_uri": uri}
        await self._connection.run(_SET_ROOM_EVENTS_URI, params)
