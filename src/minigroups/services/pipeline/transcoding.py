"""The transcoding submission (contract.md HTTP §7.4), after adjust and on restart (R13)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from minigroups.domain.errors import TranscodingFlowFailed
from minigroups.domain.minigroup import Minigroup, Recording
from minigroups.domain.streams import build_streams, host_agent, host_recording, require_ready
from minigroups.domain.tasks import Priority, TqTask, transcode_task
from minigroups.ports import UnitOfWork
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import request_dump, submit_task
from minigroups.services.pipeline.history import list_all_events


async def prepare_transcoding(
    ctx: Context,
    minigroup: Minigroup,
    modified_room_id: UUID,
    priority: Priority,
    *,
    host: str | None = None,
    recordings: Sequence[Recording] | None = None,
) -> TqTask | None:
    """Every read the tq task needs; None when the modified room has no host event. `host`:
    the room's host, when the caller has just read it (one event.list fewer); `recordings`: the
    minigroup's live recordings, when the caller has just stored them (one unit of work fewer;
    an upload after the adjustment is ignored, `uploads._past_uploads`)."""
    if host is None:
        host = host_agent(await list_all_events(ctx.events, modified_room_id, "host"))
    if host is None:
        return None
    if recordings is None:
        async with ctx.store.unit_of_work(read_only=True) as uow:
            recordings = await uow.recordings.list_live(minigroup.id)
    require_ready(recordings)
    host_stream = host_recording(recordings, host)
    room = await ctx.events.read_room(room_id=modified_room_id)
    if not room.time or room.time[0] is None:
        raise TranscodingFlowFailed("Wrong event room opening time")
    pins = await list_all_events(ctx.events, modified_room_id, "pin")
    snapshots = await ctx.conferences.read_writer_config_snapshots(
        room_id=minigroup.conference_room_id
    )
    streams = build_streams(
        recordings,
        host_stream,
        preroll_offset=ctx.options.preroll_offset(minigroup.audience),
        pins=pins,
        snapshots=snapshots,
    )
    return transcode_task(
        minigroup,
        streams,
        host_stream.rtc_id,
        priority=priority,
        audience_settings=ctx.options.audience_media.get(minigroup.audience),
    )


async def queue_transcoding(
    ctx: Context,
    uow: UnitOfWork,
    key: str,
    minigroup: Minigroup,
    *,
    task: TqTask,
    room_id: UUID,
) -> None:
    """Dump the modified room's events and submit the task, both through the outbox."""
    await request_dump(ctx, uow, f"{key}:dump", room_id)
    await submit_task(ctx, uow, f"{key}:transcode", minigroup, task)
