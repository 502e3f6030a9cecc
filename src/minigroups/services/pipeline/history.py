"""Reading an event room's host and pin history through the event service (upstream §3.8)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from minigroups.ports import EventService, RoomEvent

MAX_PAGES = 10
PAGE_LIMIT = 100


async def list_all_events(
    events: EventService, room_id: UUID, kind: Literal["host", "pin"]
) -> list[RoomEvent]:
    """Every event of a kind the reference would see.

    At most 10 pages of 100; each next page starts after the last event's `occurred_at`; only an
    EMPTY page stops early (a short page does not), so anything past 1000 events is ignored.
    """
    collected: list[RoomEvent] = []
    last_occurred_at: int | None = None
    for _ in range(MAX_PAGES):
        page = await events.list_events(
            room_id=room_id, kind=kind, last_occurred_at=last_occurred_at, limit=PAGE_LIMIT
        )
        if not page:
            break
        collected.extend(page)
        last_occurred_at = page[-1].occurred_at
    return collected
