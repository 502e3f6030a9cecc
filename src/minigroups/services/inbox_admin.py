"""What an operator does with recorded lifecycle events: look at them, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
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


async def replay(store: Store, event_id: UUID) -> bool:
    """Make a dead (or handled) event pending again; a running worker picks it up."""
    async with store.unit_of_work() as uow:
        revived = await uow.inbox.revive(event_id, datetime.now(UTC))
        await uow.commit()
    return revived


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
