"""A create's two writes (R9, D13), each one statement outside any unit of work (issue 12).

On PostgreSQL asyncpg runs them directly (`direct.py`), autocommit, on the read path's pool; on
SQLite each runs in a unit of work of the store (its `BEGIN IMMEDIATE` and write gate), as before.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from minigroups.adapters.db.claims import (
    ESTABLISH_UNOBSERVED,
    claim_statement,
    claim_values,
    dummy_from_row,
    establish_values,
)
from minigroups.adapters.db.direct import Compiled, DirectPool
from minigroups.adapters.db.rows import minigroup_from_row
from minigroups.domain.minigroup import Minigroup
from minigroups.ports import Dummy, NewMinigroup, Store


class AsyncpgCreates:
    """`MinigroupCreates` on PostgreSQL: two prepared statements on asyncpg's own pool."""

    def __init__(self, pool: DirectPool) -> None:
        dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
        self._pool = pool
        self._claim = Compiled(claim_statement("postgresql"), dialect, processors=True)
        self._establish = Compiled(ESTABLISH_UNOBSERVED, dialect, processors=True)

    async def claim_dummy(
        self, new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
    ) -> Dummy | None:
        values = claim_values(new, claim, now=now, stale_before=stale_before)
        rows = await self._pool.fetch(self._claim, values)
        return dummy_from_row(rows[0]) if rows else None

    async def establish_unobserved(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        values = establish_values(dummy, event_room_id, conference_room_id)
        rows = await self._pool.fetch(self._establish, values)
        return minigroup_from_row(rows[0]) if rows else None


class UnitOfWorkCreates:
    """`MinigroupCreates` through the store's units of work (SQLite)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim_dummy(
        self, new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
    ) -> Dummy | None:
        async with self._store.unit_of_work(single_statement=True) as uow:
            dummy = await uow.minigroups.claim_dummy(new, claim, now=now, stale_before=stale_before)
            await uow.commit()
        return dummy

    async def establish_unobserved(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        async with self._store.unit_of_work(single_statement=True) as uow:
            minigroup = await uow.minigroups.establish_unobserved(
                dummy, event_room_id, conference_room_id
            )
            await uow.commit()
        return minigroup
