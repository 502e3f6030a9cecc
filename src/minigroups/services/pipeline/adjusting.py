"""`room.adjust` and `edition.commit` results: modified segments stored, transcoding queued."""

from __future__ import annotations

import dataclasses
import logging

from minigroups.domain.adjustment import adjusted_segments, edited_segments
from minigroups.domain.errors import LifecycleFailed
from minigroups.domain.minigroup import Minigroup, Recording
from minigroups.domain.streams import host_agent
from minigroups.domain.tasks import Priority
from minigroups.domain.webhooks import ADJUSTED
from minigroups.ports import InboxItem, RoomColumn
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import concluding, effect_key
from minigroups.services.pipeline.events import RoomAdjusted
from minigroups.services.pipeline.history import list_all_events
from minigroups.services.pipeline.transcoding import prepare_transcoding, queue_transcoding
from minigroups.services.trail import about_minigroup
from minigroups.services.webhook_events import queue_event

log = logging.getLogger(__name__)


async def handle_room_adjusted(ctx: Context, item: InboxItem, event: RoomAdjusted) -> None:
    """Upstream §6.4 (adjust) and §6.7 (edition: the source is the original room, host's cut [])."""
    column: RoomColumn = "original_event_room_id" if event.edition else "event_room_id"
    async with ctx.store.unit_of_work(read_only=True) as uow:
        minigroup = await uow.minigroups.find_by_room(column, event.room_id)
    if minigroup is None:
        raise LifecycleFailed(f"no minigroup has {column} {event.room_id}")
    about_minigroup(minigroup.id)
    moved_on = minigroup.modified_event_room_id not in (None, event.modified_room_id)
    if moved_on and not event.edition:
        # A replayed or late adjust after a newer one or an edition: never go back.
        log.warning(
            "room.adjust for minigroup %s ignored: it is adjusted to room %s already",
            minigroup.id,
            minigroup.modified_event_room_id,
        )
        async with concluding(ctx, item):
            return
    host = host_agent(await list_all_events(ctx.events, event.modified_room_id, "host"))
    if host is None:
        log.warning(
            "no host event in modified room %s: nothing to transcode", event.modified_room_id
        )
        async with concluding(ctx, item):
            return
    adjusted, recordings = await _store_adjustment(ctx, item, minigroup, event, host)
    task = await prepare_transcoding(
        ctx, adjusted, event.modified_room_id, Priority.NORMAL, host=host, recordings=recordings
    )
    async with concluding(ctx, item) as uow:
        if task is not None:
            key = effect_key(item, adjusted, "transcoding")
            await queue_transcoding(
                ctx, uow, key, adjusted, task=task, room_id=event.modified_room_id
            )


async def _store_adjustment(
    ctx: Context, item: InboxItem, minigroup: Minigroup, event: RoomAdjusted, host: str
) -> tuple[Minigroup, list[Recording]]:
    """The minigroup with its rooms, and its live recordings, as stored and committed."""
    async with ctx.store.unit_of_work() as uow:
        locked = await uow.minigroups.lock(minigroup.id)
        await uow.minigroups.record_adjustment(
            minigroup.id, event.original_room_id, event.modified_room_id
        )
        recordings = await uow.recordings.list_live(minigroup.id)
        if event.edition:
            modified = edited_segments(recordings, host)
        else:
            modified = adjusted_segments(recordings, host, event.cut_original_segments)
        now = ctx.clock.now()
        stored = []
        for recording in recordings:
            segments = modified.get(recording.id)
            if segments is None:
                stored.append(recording)
                continue
            await uow.recordings.set_modified_segments(recording.id, segments, now)
            stored.append(
                dataclasses.replace(recording, modified_segments=segments, adjusted_at=now)
            )
        # The locked row with the rooms just recorded (not read again: the lock holds it).
        adjusted = None
        if locked is not None:
            adjusted = dataclasses.replace(
                locked,
                original_event_room_id=event.original_room_id,
                modified_event_room_id=event.modified_room_id,
            )
            key = effect_key(item, adjusted, f"webhook:{ADJUSTED}")
            await queue_event(ctx, uow, key=key, event_type=ADJUSTED, minigroup=adjusted)
        await uow.commit()
    if adjusted is None:
        raise LifecycleFailed(f"minigroup {minigroup.id} was deleted while it was adjusted")
    return adjusted, stored
