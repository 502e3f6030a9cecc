"""A minigroup's page in the console: its pipeline stages and its participants' recordings.

Everything comes from stored rows: the class, its live recordings, the inbox events that name
its rooms and the outbox effects keyed by it. Pins and mutes are read from the event room's
history and the conference's writer config snapshots, as the transcoding task reads them; when
the peers do not answer in time the recordings are drawn without them and the page says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from minigroups.domain.errors import MinigroupsError, NoHostRecording
from minigroups.domain.minigroup import (
    Minigroup,
    Recording,
    Segments,
    Status,
    describe_playback,
    sort_recordings,
)
from minigroups.domain.streams import build_streams, host_agent, host_recording
from minigroups.domain.timeline import Stage, place_stages
from minigroups.domain.timerange import to_unix_ms
from minigroups.ports import InboxEntry, OutboxEntry
from minigroups.services.console_stages import EventStages, pipeline_steps
from minigroups.services.context import Context
from minigroups.services.pipeline.events import LifecycleDecoder
from minigroups.services.pipeline.history import list_all_events

MARKS_TIMEOUT_SECONDS = 3.0
ROWS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Track:
    """One participant's recording on the lesson's axis: all times in ms, the segments, pins and
    mutes relative to the recording's own start, which is `offset` after the earliest one's."""

    author: str
    rtc_id: UUID
    offset: int
    segments: Segments
    pins: Segments = field(default_factory=list)
    video_mutes: Segments = field(default_factory=list)
    audio_mutes: Segments = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MinigroupReport:
    minigroup: Minigroup
    status: Status
    recordings: list[Recording]
    stages: list[Stage]
    tracks: list[Track]
    marks_note: str | None
    inbox: list[InboxEntry]
    outbox: list[OutboxEntry]
    now: datetime


async def minigroup_report(
    ctx: Context, decoder: LifecycleDecoder, minigroup_id: UUID, *, stuck_after: timedelta
) -> MinigroupReport | None:
    """None when no established minigroup has this id."""
    async with ctx.store.unit_of_work(read_only=True) as uow:
        minigroup = await uow.minigroups.get(minigroup_id)
        if minigroup is None:
            return None
        recordings = sort_recordings(await uow.recordings.list_live(minigroup.id))
        inbox = await uow.console.inbox_mentioning(_room_ids(minigroup), ROWS_SHOWN)
        outbox = await uow.console.outbox_mentioning(_effect_keys(minigroup), ROWS_SHOWN)
    now = ctx.clock.now()
    events = EventStages.sorted_out(decoder, inbox)
    steps = pipeline_steps(minigroup, recordings, events, outbox)
    stages = place_stages(steps, now=now, stuck_after=stuck_after)
    tracks, note = await _tracks(ctx, minigroup, recordings)
    status = describe_playback(minigroup, recordings, now).status
    return MinigroupReport(minigroup, status, recordings, stages, tracks, note, inbox, outbox, now)


def _room_ids(minigroup: Minigroup) -> list[str]:
    """What the payloads of its events name: its rooms (and the class id, in `room.close`)."""
    rooms = [
        minigroup.event_room_id,
        minigroup.conference_room_id,
        minigroup.original_event_room_id,
        minigroup.modified_event_room_id,
    ]
    return [str(room) for room in rooms if room is not None]


def _effect_keys(minigroup: Minigroup) -> list[str]:
    """Outbox keys name the minigroup (`<effect>:<id>:...`) or, for adjust, its event room."""
    return [f":{minigroup.id}:", f"room.adjust:{minigroup.event_room_id}:"]


async def _tracks(
    ctx: Context, minigroup: Minigroup, recordings: Sequence[Recording]
) -> tuple[list[Track], str | None]:
    plain = plain_tracks(recordings)
    if not plain or len(plain) < len(recordings):
        return plain, None if not recordings else "not every recording is converted yet"
    try:
        async with asyncio.timeout(MARKS_TIMEOUT_SECONDS):
            return await _marked_tracks(ctx, minigroup, recordings), None
    except (MinigroupsError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        return plain, f"pins and mutes are not shown: {reason}"


def plain_tracks(recordings: Sequence[Recording]) -> list[Track]:
    """The converted recordings' segments, without pins and mutes."""
    converted = [r for r in recordings if r.segments is not None and r.started_at is not None]
    if not converted:
        return []
    earliest = min(to_unix_ms(r.started_at) for r in converted if r.started_at is not None)
    return [
        Track(
            r.created_by,
            r.rtc_id,
            to_unix_ms(r.started_at) - earliest,
            list(r.segments),
        )
        for r in converted
        if r.started_at is not None and r.segments is not None
    ]


async def _marked_tracks(
    ctx: Context, minigroup: Minigroup, recordings: Sequence[Recording]
) -> list[Track]:
    """The transcoding task's own computation (domain/streams.py) of pins and mutes."""
    room = minigroup.modified_event_room_id or minigroup.event_room_id
    host = host_agent(await list_all_events(ctx.events, room, "host"))
    if host is None:
        raise NoHostRecording("the event room has no host event")
    pins = await list_all_events(ctx.events, room, "pin")
    snapshots = await ctx.conferences.read_writer_config_snapshots(
        room_id=minigroup.conference_room_id
    )
    streams = build_streams(
        recordings,
        host_recording(recordings, host),
        preroll_offset=ctx.options.preroll_offset(minigroup.audience),
        pins=pins,
        snapshots=snapshots,
    )
    authors = {r.rtc_id: r.created_by for r in recordings}
    return [
        Track(
            authors[stream.id],
            stream.id,
            stream.offset,
            stream.segments,
            stream.pin_segments,
            stream.video_mute_segments,
            stream.audio_mute_segments,
        )
        for stream in streams
    ]
