"""What an operator does with recorded lifecycle events: look at them, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

from minigroups.ports import InboxItem, InboxStatus, Store


async def list_events(store: Store, *, status: str | None, limit: int = 100) -> list[InboxItem]:
    """The newest recorded events, optionally of one status (pending, done, dead)."""
    wanted = None if status is None else inbox_status(status)
    async with store.unit_of_work(read_only=True) as uow:
        return await uow.inbox.list(status=wanted, limit=limit)


def inbox_status(value: str) -> InboxStatus:
    """An operator's status filter; raise ValueError for one that no event ever has."""
    match value:
        case "pending" | "done" | "dead":
            return value
    raise ValueError(f"no inbox status {value!r} (pending, done or dead)")


class Replay(Enum):
    """What `replay` did with the event."""

    REPLAYED = "replayed"  # a dead letter, pending again
    REPLAYED_HANDLED = "replayed_handled"  # a handled event, pending again (forced)
    REFUSED_HANDLED = "refused_handled"  # a handled event, left alone (not forced)
    ALREADY_PENDING = "already_pending"
    UNKNOWN = "unknown"


async def replay(store: Store, event_id: UUID, *, force: bool = False) -> Replay:
    """Make a dead letter pending again; a running worker picks it up.

    A handled event is replayed only with `force`: its handler runs again, and the handlers
    never move a minigroup's pipeline backwards, but a replay is the operator's explicit choice.
    """
    async with store.unit_of_work() as uow:
        item = await uow.inbox.get(event_id)
        if item is None:
            return Replay.UNKNOWN
        if item.status == "pending":
            return Replay.ALREADY_PENDING
        handled = item.status == "done"
        if handled and not force:
            return Replay.REFUSED_HANDLED
        if not await uow.inbox.revive(event_id, datetime.now(UTC), handled=force):
            return Replay.UNKNOWN  # it changed meanwhile; the operator looks again
        await uow.commit()
    return Replay.REPLAYED_HANDLED if handled else Replay.REPLAYED


async def purge_dead(store: Store, before: datetime, *, batch: int = 500) -> int:
    """Delete the dead letters received before `before`, a batch per transaction; how many."""
    purged = 0
    while True:
        async with store.unit_of_work() as uow:
            deleted = await uow.inbox.purge_dead(before, batch)
            await uow.commit()
        purged += deleted
        if deleted < batch:
            return purged
