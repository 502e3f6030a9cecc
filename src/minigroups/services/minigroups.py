"""Create, read, update and recreate a minigroup (R1-R4, R8, R9)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from minigroups.domain.errors import (
    ClassAlreadyEstablished,
    ClassNotFound,
    InvalidPayload,
    ServicesRequestFailed,
    UpstreamFailed,
    UpstreamFailureKind,
)
from minigroups.domain.ids import AccountId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.limits import Limits
from minigroups.domain.minigroup import Minigroup, Playback, describe_playback, filter_properties
from minigroups.domain.timerange import TimeRange, to_unix
from minigroups.domain.webhooks import CREATED, RECREATED, UPDATED
from minigroups.ports import Dummy, MinigroupChanges, NewMinigroup, Viewer
from minigroups.services.access import Guard, Locator, load_authorized, read_authorized
from minigroups.services.context import Context
from minigroups.services.rooms import (
    Locks,
    RoomPair,
    RoomSpec,
    close_rooms,
    create_rooms,
    lock_interaction,
)
from minigroups.services.webhook_events import queue_event

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CreateMinigroup:
    scope: str
    audience: str
    time: TimeRange = field(default_factory=TimeRange.unbounded)
    tags: JsonValue = None
    properties: JsonObject = field(default_factory=dict)
    reserve: int | None = None
    locks: Locks = field(default_factory=Locks)

    def check(self, limits: Limits) -> None:
        """What is stored or sent to the rooms is within the limits (before anything is made)."""
        limits.check_scope(self.scope)
        limits.check_tags(self.tags)
        limits.check_properties(self.properties)


@dataclass(frozen=True, slots=True)
class MinigroupView:
    """What the read routes show: the row, derived playback, filtered properties, the viewer."""

    minigroup: Minigroup
    turn_host: str
    properties: JsonObject
    account_properties: JsonObject
    playback: Playback | None = None
    position: int | None = None


async def create_minigroup(ctx: Context, caller: AccountId, request: CreateMinigroup) -> Minigroup:
    """R9: claim a dummy row, create both rooms, establish; exactly one concurrent create wins."""
    await ctx.authorizer.authorize(request.audience, caller, ["classrooms"], "create")
    request.check(ctx.options.limits)
    new = NewMinigroup(
        scope=request.scope,
        audience=request.audience,
        time=request.time,
        tags=request.tags,
        properties=request.properties,
        reserve=request.reserve,
    )
    now = ctx.clock.now()
    dummy = await ctx.store.creates.claim_dummy(  # one atomic upsert, committed by itself
        new, uuid4(), now=now, stale_before=now - ctx.options.dummy_stale_after
    )
    if dummy is None:
        raise ClassAlreadyEstablished
    spec = RoomSpec(dummy.id, dummy.audience, dummy.time, dummy.tags, dummy.reserve)
    try:
        rooms = await create_rooms(ctx, spec)
    except ServicesRequestFailed:
        await _forget_dummy(ctx, dummy)
        raise
    try:
        minigroup = await _establish(ctx, dummy, rooms)
    except Exception:
        await close_rooms(ctx, event=rooms.event, conference=rooms.conference)
        await _forget_dummy(ctx, dummy)
        raise
    if minigroup is None:  # our claim went stale and another create took the scope over
        await close_rooms(ctx, event=rooms.event, conference=rooms.conference)
        raise ClassAlreadyEstablished
    await lock_interaction(ctx, minigroup.event_room_id, request.locks)
    return minigroup


async def _establish(ctx: Context, dummy: Dummy, rooms: RoomPair) -> Minigroup | None:
    """Store the room ids and queue `minigroup.created`; None if our claim went stale.

    Without an enabled webhook endpoint in the audience nothing is queued, and the write is one
    statement that looks and writes at once, without a transaction. Otherwise (or when the claim
    went stale) the look, the write and the queued event commit together in a unit of work.
    """
    rooms_ids = (rooms.event.id, rooms.conference.id)
    minigroup = await ctx.store.creates.establish_unobserved(dummy, *rooms_ids)
    if minigroup is not None:
        return minigroup
    async with ctx.store.unit_of_work() as uow:
        minigroup = await uow.minigroups.establish(dummy, *rooms_ids)
        if minigroup is not None:
            key = f"{CREATED}:{minigroup.id}"
            await queue_event(ctx, uow, key=key, event_type=CREATED, minigroup=minigroup)
        await uow.commit()
    return minigroup


async def _forget_dummy(ctx: Context, dummy: Dummy) -> None:
    try:
        async with ctx.store.unit_of_work() as uow:
            await uow.minigroups.delete_dummy(dummy)
            await uow.commit()
    except Exception:  # the stale-claim rule lets the next create take it over anyway
        log.exception("could not delete the dummy of a failed create %s", dummy.id)


async def read_minigroup(
    ctx: Context,
    guard: Guard,
    locator: Locator,
    class_keys: Sequence[str] | None,
    account_keys: Sequence[str] | None,
) -> MinigroupView:
    """R1/R3: the read representation's data, found in one database round trip.

    The viewer's account properties and position are shown only when asked for
    (`account_keys`) or when the playback shows a position, as before they were read only then.
    """
    found = await read_authorized(ctx, guard, locator)
    minigroup = found.minigroup
    playback = describe_playback(minigroup, found.recordings, ctx.clock.now())
    viewer = found.viewer
    if account_keys is None and not playback.shows_position:
        viewer = Viewer(None, None)
    return MinigroupView(
        minigroup=minigroup,
        turn_host=pick_turn_host(ctx),
        properties=filter_properties(minigroup.properties, class_keys),
        account_properties=filter_properties(viewer.properties or {}, account_keys),
        playback=playback,
        position=viewer.position,
    )


def updated_view(ctx: Context, minigroup: Minigroup) -> MinigroupView:
    """R4's answer: the read shape built from the updated row, without the read algorithm."""
    return MinigroupView(
        minigroup=minigroup,
        turn_host=pick_turn_host(ctx),
        properties=dict(minigroup.properties),
        account_properties={},
    )


def pick_turn_host(ctx: Context) -> str:
    """A uniformly random TURN host on every read (minigroups have no scope hashing)."""
    return random.choice(ctx.options.turn_hosts)  # noqa: S311 - load spreading, not secrecy


async def update_minigroup(
    ctx: Context, guard: Guard, locator: Locator, changes: MinigroupChanges
) -> Minigroup:
    """R2/R4: tell the rooms (D15 mapping), then store; properties are kept (D2)."""
    minigroup = await load_authorized(ctx, guard, locator)
    calls: list[Coroutine[Any, Any, object]] = []
    if changes.time is not None:
        now = to_unix(ctx.clock.now())
        calls.append(ctx.events.update_room(room_id=minigroup.event_room_id, time=[now, None]))
    if changes.time is not None or changes.reserve is not None or changes.host is not None:
        calls.append(
            ctx.conferences.update_room(
                room_id=minigroup.conference_room_id,
                time=_conference_time(changes.time),
                reserve=changes.reserve,
                host=changes.host,
            )
        )
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, UpstreamFailed) and _refuses_the_values(result):
            # The caller's time or reserve (D15's `[null, null]` included): its fault, not ours.
            raise InvalidPayload(f"The rooms refused the change: {result.detail}") from result
        if isinstance(result, UpstreamFailed):
            raise ServicesRequestFailed(result, "Services requests") from result
        if isinstance(result, BaseException):
            raise result
    async with ctx.store.unit_of_work() as uow:
        updated = await uow.minigroups.update(minigroup.id, changes)
        if updated is not None:
            key = f"{UPDATED}:{updated.id}:{uuid4()}"
            await queue_event(ctx, uow, key=key, event_type=UPDATED, minigroup=updated)
        await uow.commit()
    if updated is None:
        raise ClassNotFound(locator.not_found_detail)
    return updated


def _refuses_the_values(failure: UpstreamFailed) -> bool:
    """A peer's 400 or 422: it read the request and found the values wrong (as R11 decides);
    or its `room_closed`: the lesson is over, so its time can no longer change."""
    return failure.kind is UpstreamFailureKind.REJECTED and (
        failure.peer_status in (400, 422) or failure.peer_type == "room_closed"
    )


def _conference_time(time: TimeRange | None) -> list[int | None] | None:
    """D15, kept as the upstream contract: an unbounded start sends `[null, null]`."""
    if time is None:
        return None
    if time.start is None:
        return [None, None]
    return time.to_wire()


async def recreate_minigroup(
    ctx: Context, guard: Guard, locator: Locator, time: TimeRange, locks: Locks
) -> Minigroup:
    """R8: a new room pair; old recordings retired; rooms closed again if storing fails (D14)."""
    minigroup = await load_authorized(ctx, guard, locator)
    spec = RoomSpec(minigroup.id, minigroup.audience, time, minigroup.tags, minigroup.reserve)
    rooms = await create_rooms(ctx, spec)
    try:
        updated = await _store_new_rooms(ctx, minigroup, time, rooms)
    except Exception:
        await close_rooms(ctx, event=rooms.event, conference=rooms.conference)
        raise
    await lock_interaction(ctx, updated.event_room_id, locks)
    return updated


async def _store_new_rooms(
    ctx: Context, minigroup: Minigroup, time: TimeRange, rooms: RoomPair
) -> Minigroup:
    async with ctx.store.unit_of_work() as uow:
        updated = await uow.minigroups.replace_rooms(
            minigroup.id, time, rooms.event.id, rooms.conference.id
        )
        if updated is None:
            raise ClassNotFound("Failed to find minigroup")
        await uow.recordings.soft_delete_all(minigroup.id, ctx.clock.now())
        key = f"{RECREATED}:{updated.id}:{uuid4()}"
        await queue_event(ctx, uow, key=key, event_type=RECREATED, minigroup=updated)
        await uow.commit()
    return updated
