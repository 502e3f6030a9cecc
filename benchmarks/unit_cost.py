"""What a unit of work costs the service beyond its statements (issue 12).

One fresh database with 200 minigroups. In turn, `--count` times each, in this process:

- `single`: a single-statement unit of the store (`unit_of_work(single_statement=True)`, as the
  intake, the claims and the relay's marks use), claiming the outbox (nothing is due), against
  the same prepared statement run on an asyncpg connection of its own;
- `handler`: a unit of the store in a transaction running what a pipeline handler runs on a
  class (lock the row, read its live recordings, mark them transcoded; at commit, read them
  again and store the stage), against the same five statements in an asyncpg transaction.

It prints this process's CPU per unit (`time.process_time`, the statements' round trips
included) and the difference, the cost of the unit itself: SQLAlchemy's connection checkout,
start, commit and check-in, the repositories, the error translation. From the repository root:

    uv run python -m benchmarks.unit_cost
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import uvloop
from benchmarks.established import established_classes
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from minigroups.adapters.db import SqlStore, create_store
from minigroups.adapters.db import minigroups as class_statements
from minigroups.adapters.db import queues as queue_statements
from minigroups.adapters.db import recordings as recording_statements
from minigroups.adapters.db.tables import outbox
from minigroups.ports import Owner

CLASSES = 200


async def _per_unit(count: int, unit: Callable[[int], Awaitable[None]]) -> float:
    for index in range(50):  # warm: connections open, statements prepared
        await unit(index)
    started = time.process_time()
    for index in range(count):
        await unit(index)
    return (time.process_time() - started) / count


class _Units:
    """The four kinds of unit measured, on one store and one asyncpg connection."""

    def __init__(self, store: SqlStore, connection: asyncpg.Connection, ids: list[uuid.UUID]):
        dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
        self._store = store
        self._connection = connection
        self._ids = ids
        self._owner = Owner("benchmark", uuid.uuid4())
        self._claim = queue_statements._claim(outbox).compiled(dialect)
        self._lock = class_statements._LOCK.compiled(dialect)
        self._live = recording_statements._LIVE_RECORDINGS.compiled(dialect)
        self._stage = recording_statements._SET_STAGE.compiled(dialect)
        self._transcoded = recording_statements._MARK_TRANSCODED.compiled(dialect)

    async def single_store(self, _: int) -> None:
        now = datetime.now(UTC)
        async with self._store.unit_of_work(single_statement=True) as uow:
            await uow.outbox.claim_due(now, self._owner, now + timedelta(seconds=15), 16)
            await uow.commit()

    async def single_asyncpg(self, _: int) -> None:
        now = datetime.now(UTC)
        values = {
            "p_now": now,
            "p_limit": 16,
            "p_lease": uuid.uuid4(),
            "p_lease_until": now + timedelta(seconds=15),
            "p_owner": self._owner.instance,
            "p_incarnation": self._owner.incarnation,
        }
        await self._connection.fetch(self._claim.text, *self._claim.arguments(values))

    async def handler_store(self, index: int) -> None:
        class_id = self._ids[index % CLASSES]
        async with self._store.unit_of_work() as uow:
            await uow.minigroups.lock(class_id)
            await uow.recordings.list_live(class_id)
            await uow.recordings.mark_transcoded(class_id, datetime.now(UTC))
            await uow.commit()  # reads the live recordings again and stores the stage

    async def handler_asyncpg(self, index: int) -> None:
        class_id = self._ids[index % CLASSES]
        connection = self._connection
        live = {"p_class_id": class_id}
        async with connection.transaction():
            await connection.fetch(self._lock.text, *self._lock.arguments({"p_id": class_id}))
            await connection.fetch(self._live.text, *self._live.arguments(live))
            marked = {"p_class_id": class_id, "p_now": datetime.now(UTC)}
            await connection.execute(self._transcoded.text, *self._transcoded.arguments(marked))
            await connection.fetch(self._live.text, *self._live.arguments(live))
            stage = {"p_class_id": class_id, "p_stage": "finished"}
            await connection.execute(self._stage.text, *self._stage.arguments(stage))


async def main(count: int, rounds: int) -> None:
    async with established_classes("units", CLASSES) as (url, ids):
        store = create_store(url)
        connection = await asyncpg.connect(url)
        try:
            units = _Units(store, connection, ids)
            print(f"{count} units per run, {rounds} rounds; this process's CPU per unit")
            print(f"{'unit':10} {'store us':>9} {'asyncpg us':>11} {'the unit itself us':>19}")
            for _ in range(rounds):
                for kind, through_store, direct in (
                    ("single", units.single_store, units.single_asyncpg),
                    ("handler", units.handler_store, units.handler_asyncpg),
                ):
                    stored = await _per_unit(count, through_store)
                    bare = await _per_unit(count, direct)
                    print(
                        f"{kind:10} {stored * 1e6:9.0f} {bare * 1e6:11.0f} "
                        f"{(stored - bare) * 1e6:19.0f}"
                    )
        finally:
            await connection.close()
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="units per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, in turn")
    args = parser.parse_args()
    uvloop.run(main(args.count, args.rounds))
