"""Room pairs in the peer services: create, close again on failure (D14), lock interaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from minigroups.domain.errors import ServicesRequestFailed, UpstreamFailed
from minigroups.domain.json_value import JsonValue
from minigroups.domain.timerange import TimeRange, to_unix
from minigroups.ports import Room
from minigroups.services.context import Context

log = logging.getLogger(__name__)

EVENT_ROOM_KIND = "Minigroup"  # the Rust variant name the event service parses (D24)


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """What both rooms of a minigroup are created from."""

    classroom_id: UUID
    audience: str
    time: TimeRange
    tags: JsonValue
    reserve: int | None


@dataclass(frozen=True, slots=True)
class RoomPair:
    event: Room
    conference: Room


@dataclass(frozen=True, slots=True)
class Locks:
    """The interaction types locked in a fresh event room (R9 step 8)."""

    chat: bool = True
    questions: bool = True


async def create_rooms(ctx: Context, spec: RoomSpec) -> RoomPair:
    """Event room, then conference room; a conference failure closes the event room again."""
    now = to_unix(ctx.clock.now())
    try:
        event = await ctx.events.create_room(
            audience=spec.audience,
            time=[now, None],
            preserve_history=True,
            tags=spec.tags,
            classroom_id=spec.classroom_id,
            kind=EVENT_ROOM_KIND,
        )
    except UpstreamFailed as exc:
        raise ServicesRequestFailed(exc, "Request to event") from exc
    start = now if spec.time.start is None else to_unix(spec.time.start)
    try:
        conference = await ctx.conferences.create_room(
            audience=spec.audience,
            time=[start, None],
            rtc_sharing_policy="owned",
            reserve=spec.reserve,
            tags=spec.tags,
            classroom_id=spec.classroom_id,
        )
    except UpstreamFailed as exc:
        await close_rooms(ctx, event=event)
        raise ServicesRequestFailed(exc, "Request to conference") from exc
    return RoomPair(event, conference)


async def close_rooms(
    ctx: Context, *, event: Room | None = None, conference: Room | None = None
) -> None:
    """Best effort: end the rooms now, so an abandoned create leaves no open room (D14)."""
    now = to_unix(ctx.clock.now())
    if event is not None:
        try:
            await ctx.events.update_room(room_id=event.id, time=_closed(event, now))
            ctx.metrics.increment("rooms_compensated_total", service="event", outcome="closed")
        except UpstreamFailed:
            log.exception("could not close orphaned event room %s", event.id)
            ctx.metrics.increment("rooms_compensated_total", service="event", outcome="failed")
    if conference is not None:
        try:
            await ctx.conferences.update_room(
                room_id=conference.id, time=_closed(conference, now), reserve=None, host=None
            )
            ctx.metrics.increment("rooms_compensated_total", service="conference", outcome="closed")
        except UpstreamFailed:
            log.exception("could not close orphaned conference room %s", conference.id)
            ctx.metrics.increment("rooms_compensated_total", service="conference", outcome="failed")


def _closed(room: Room, now: int) -> list[int | None]:
    """The room's time with its end at now; never an empty range (end stays after start)."""
    start = room.time[0] if room.time else None
    end = now if start is None else max(now, start + 1)
    return [start, end]


async def lock_interaction(ctx: Context, event_room_id: UUID, locks: Locks) -> None:
    """Lock chat/questions in the event room; failure is logged, never fatal (R9 step 8)."""
    if not (locks.chat or locks.questions):
        return
    try:
        await ctx.events.lock_types(
            room_id=event_room_id,
            locked_types={
                "message": locks.chat,
                "reaction": locks.chat,
                "question": locks.questions,
                "question_reaction": locks.questions,
            },
        )
    except UpstreamFailed:
        log.warning(
            "could not lock interaction types in event room %s", event_room_id, exc_info=True
        )
        ctx.metrics.increment("room_locks_failed_total")
