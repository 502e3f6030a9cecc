"""`room.upload` and conversions: recordings appear, then `room.adjust` (upstream §6.2, §6.3)."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from minigroups.domain.errors import EventOutOfOrder, LifecycleFailed, SegmentsMalformed
from minigroups.domain.minigroup import Minigroup, Recording
from minigroups.domain.segments import parse_segments
from minigroups.domain.streams import host_agent
from minigroups.domain.tasks import convert_task
from minigroups.domain.timerange import to_unix_ms
from minigroups.domain.webhooks import FINISHED
from minigroups.ports import InboxItem, UnitOfWork
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import (
    conclude,
    concluding,
    effect_key,
    request_adjust,
    submit_task,
)
from minigroups.services.pipeline.events import RoomUploaded, StreamConverted
from minigroups.services.pipeline.history import list_all_events
from minigroups.services.trail import about_minigroup
from minigroups.services.webhook_events import queue_event

log = logging.getLogger(__name__)


async def handle_room_uploaded(ctx: Context, item: InboxItem, event: RoomUploaded) -> None:
    """One recording per author, and a conversion task for each uploaded rtc."""
    if not event.ready and not event.missing:
        raise LifecycleFailed("room.upload without rtcs")
    if event.missing:
        raise LifecycleFailed(f"RTC {event.missing[0]} is missing recording")
    async with concluding(ctx, item) as uow:
        minigroup = await uow.minigroups.find_by_room(
            "conference_room_id", event.room_id, lock=True
        )
        if minigroup is None or minigroup.original_class_id is not None:
            log.info("room.upload for unknown conference room %s ignored", event.room_id)
            return
        about_minigroup(minigroup.id)
        if await _past_uploads(uow, minigroup):
            log.warning(
                "room.upload for minigroup %s ignored: its recordings are adjusted already "
                "(the pipeline never goes back)",
                minigroup.id,
            )
            return
        now = ctx.clock.now()
        for index, rtc in enumerate(event.ready):  # upload order is recording order (D4)
            created_at = now + timedelta(microseconds=index)
            await uow.recordings.upsert_uploaded(
                minigroup.id, rtc.rtc_id, rtc.created_by, created_at
            )
        media = ctx.options.audience_media.get(minigroup.audience)
        for rtc in event.ready:
            task = convert_task(
                minigroup,
                stream_id=rtc.rtc_id,
                stream_uri=rtc.uri,
                mjr_dumps_uris=rtc.mjr_dumps_uris,
                audience_settings=media,
            )
            key = effect_key(item, minigroup, f"convert:{rtc.rtc_id}")
            await submit_task(ctx, uow, key, minigroup, task)
        key = effect_key(item, minigroup, f"webhook:{FINISHED}")
        await queue_event(ctx, uow, key=key, event_type=FINISHED, minigroup=minigroup)


async def _past_uploads(uow: UnitOfWork, minigroup: Minigroup) -> bool:
    """Adjusted or transcoded: an upload now (a replay, a late duplicate) would bring back
    recordings and clear `transcoded_at`, with no conversion ever asked again."""
    if minigroup.modified_event_room_id is not None:
        return True
    recordings = await uow.recordings.list_live(minigroup.id)
    return any(r.adjusted_at is not None or r.transcoded_at is not None for r in recordings)


async def handle_stream_converted(ctx: Context, item: InboxItem, event: StreamConverted) -> None:
    """Store the stream; once every recording is converted, ask the event service to adjust.

    Until the last conversion, the event is concluded in the unit of work that stores it: one
    transaction. The last one asks the event service for the host first, between two.
    """
    async with ctx.store.unit_of_work() as uow:
        minigroup = await _store_conversion(uow, event)
        recordings = [] if minigroup is None else await uow.recordings.list_live(minigroup.id)
        converted = minigroup is not None and all(r.is_ready for r in recordings)
        if not converted:
            await conclude(ctx, uow, item)
        await uow.commit()
    if minigroup is None or not converted:
        return
    host = host_agent(await list_all_events(ctx.events, minigroup.event_room_id, "host"))
    async with concluding(ctx, item) as uow:
        host_recording = next((r for r in recordings if r.created_by == host), None)
        if host_recording is None:  # no host, or the host not recorded
            return
        await _request_adjust(ctx, uow, minigroup, host_recording)


async def _store_conversion(uow: UnitOfWork, event: StreamConverted) -> Minigroup | None:
    """In `uow`, with the minigroup's row locked (so the recordings read next in it include
    every conversion committed before); None for an unknown room."""
    minigroup = await uow.minigroups.find_by_room(
        "conference_room_id", event.conference_room_id, lock=True
    )
    if minigroup is None:
        log.info("conversion for unknown room %s ignored", event.conference_room_id)
        return None
    about_minigroup(minigroup.id)
    try:
        parsed = parse_segments(event.segments)
    except SegmentsMalformed:
        log.warning("unreadable segments of stream %s: recording dropped", event.stream_id)
        await uow.recordings.remove(minigroup.id, event.stream_id)
    else:
        stored = await uow.recordings.set_converted(
            minigroup.id, event.stream_id, event.stream_uri, parsed.segments, parsed.started_at
        )
        if not stored:
            raise EventOutOfOrder(f"no live recording of stream {event.stream_id} yet")
    return minigroup


async def _request_adjust(
    ctx: Context, uow: UnitOfWork, minigroup: Minigroup, host: Recording
) -> None:
    """Keyed by the host stream's data: concurrent last conversions ask for one adjust only."""
    if host.segments is None or host.started_at is None:  # is_ready says they are set
        raise EventOutOfOrder(f"the host recording {host.id} is not converted yet")
    started_at = to_unix_ms(host.started_at)
    fingerprint = repr((host.rtc_id, started_at, host.segments)).encode()
    digest = hashlib.sha256(fingerprint).hexdigest()[:32]
    await request_adjust(
        ctx,
        uow,
        f"room.adjust:{minigroup.event_room_id}:{digest}",
        room_id=minigroup.event_room_id,
        started_at=started_at,
        segments=host.segments,
        offset=ctx.options.preroll_offset(minigroup.audience),
    )
