"""`room.close`: the minigroup ends now; the platform hears `minigroup.stop` (upstream §6.1)."""

from __future__ import annotations

import logging

from minigroups.domain.webhooks import STOP
from minigroups.ports import InboxItem, RoomColumn
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import (
    concluding,
    effect_key,
    notification_payload,
    notify,
)
from minigroups.services.pipeline.events import RoomClosed
from minigroups.services.trail import about_minigroup
from minigroups.services.webhook_events import queue_event

log = logging.getLogger(__name__)


async def handle_room_closed(ctx: Context, item: InboxItem, event: RoomClosed) -> None:
    column: RoomColumn = "event_room_id" if event.publisher == "event" else "conference_room_id"
    async with concluding(ctx, item) as uow:
        minigroup = await uow.minigroups.find_by_room(column, event.room_id, lock=True)
        if minigroup is None:  # a room of a recreated minigroup: nothing to close any more
            log.info("room.close for unknown %s %s ignored", column, event.room_id)
            return
        about_minigroup(minigroup.id)
        time = minigroup.time.closed_at(ctx.clock.now())
        await uow.minigroups.close(minigroup.id, time, event.timed_out)
        payload = notification_payload(minigroup)
        await notify(
            ctx,
            uow,
            effect_key(item, minigroup, f"{minigroup.kind}.stop"),
            minigroup,
            label=f"{minigroup.kind}.stop",
            payload=payload,
        )
        key = effect_key(item, minigroup, f"webhook:{STOP}")
        await queue_event(
            ctx, uow, key=key, event_type=STOP, minigroup=minigroup, notification=payload
        )
