"""What an operator does with recorded lifecycle events: look at them, replay dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from minigroups.ports import InboxItem, Store


async def list_events(store: Store, *, status: str | None, limit: int = 100) -> list[InboxItem]:
    """The newest recorded events, optionally of one status (pending, done, dead)."""
    async with store.unit_of_work(read_only=True) as uow:
        return await uow.inbox.list(status=status, limit=limit)


async def replay(store: Store, event_id: UUID) -> bool:
    """Make a dead (or handled) event pending again; a running worker picks it up."""
    async with store.unit_of_work() as uow:
        revived = await uow.inbox.revive(event_id, datetime.now(UTC))
        await uow.commit()
    return revived
