"""Transcoding done (`minigroup.ready`, upstream §6.5), events dumped (§6.6), tq failures (§5.2)."""

from __future__ import annotations

import logging

from minigroups.domain.errors import LifecycleFailed
from minigroups.domain.segments import stream_duration
from minigroups.domain.webhooks import READY
from minigroups.ports import InboxItem
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import (
    concluding,
    effect_key,
    notification_payload,
    notify,
)
from minigroups.services.pipeline.events import EventsDumped, MinigroupTranscoded, TaskFailed
from minigroups.services.trail import about_minigroup
from minigroups.services.webhook_events import queue_event

log = logging.getLogger(__name__)


async def handle_transcoded(ctx: Context, item: InboxItem, event: MinigroupTranscoded) -> None:
    duration = stream_duration(event.recording_duration)
    async with concluding(ctx, item) as uow:
        minigroup = await uow.minigroups.find_by_room(
            "conference_room_id", event.conference_room_id, lock=True
        )
        if minigroup is None:
            log.info("transcoding of unknown room %s ignored", event.conference_room_id)
            return
        about_minigroup(minigroup.id)
        if not await uow.recordings.mark_transcoded(minigroup.id, ctx.clock.now()):
            raise LifecycleFailed(f"minigroup {minigroup.id} has no recording to mark transcoded")
        payload = notification_payload(minigroup, status="success", stream_duration=duration)
        await notify(
            ctx,
            uow,
            effect_key(item, minigroup, "minigroup.ready"),
            minigroup,
            label="minigroup.ready",
            payload=payload,
        )
        key = effect_key(item, minigroup, f"webhook:{READY}")
        await queue_event(
            ctx, uow, key=key, event_type=READY, minigroup=minigroup, notification=payload
        )


async def handle_events_dumped(ctx: Context, item: InboxItem, event: EventsDumped) -> None:
    async with concluding(ctx, item) as uow:
        await uow.minigroups.set_room_events_uri(event.room_id, event.s3_uri)


async def handle_task_failed(ctx: Context, item: InboxItem, event: TaskFailed) -> None:
    log.warning("tq task %s failed: %r", event.template, event.error)
    async with concluding(ctx, item):
        return
