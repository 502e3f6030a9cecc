"""List an audience's minigroups as a schedule, one keyset page at a time (ours, not R1-R16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from minigroups.domain.ids import AccountId
from minigroups.domain.listing import (
    ListingFilter,
    Position,
    branches,
    decode_cursor,
    encode_cursor,
)
from minigroups.domain.minigroup import Minigroup, describe_playback
from minigroups.ports import PageQuery, UnitOfWork
from minigroups.services.access import Guard
from minigroups.services.context import Context
from minigroups.services.minigroups import MinigroupView, pick_turn_host

LIST_OBJECT = ("classrooms",)  # the authorization object: every class of the audience


@dataclass(frozen=True, slots=True)
class ListMinigroups:
    audience: str
    filter: ListingFilter
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class MinigroupPage:
    items: list[MinigroupView]
    next_cursor: str | None


async def list_minigroups(ctx: Context, guard: Guard, request: ListMinigroups) -> MinigroupPage:
    """A page of read views, each as the caller's read by id shows it without property keys.

    At most three statements whatever the page size: the page, the live recordings of its
    minigroups, and the caller's positions in those that show one (only transcoded ones do).
    """
    await ctx.authorizer.authorize(request.audience, guard.caller, list(LIST_OBJECT), guard.action)
    after = None
    if request.cursor is not None:
        after = decode_cursor(request.cursor, request.audience, request.filter)
    now = ctx.clock.now()
    query = PageQuery(
        audience=request.audience,
        branches=branches(request.filter, now),
        limit=request.limit + 1,  # one more: is there a next page?
        start_before=request.filter.to,
        scope_prefix=request.filter.scope_prefix,
        after=after,
    )
    async with ctx.store.unit_of_work(read_only=True) as uow:
        rows = await uow.minigroups.list_page(query)
        items = await _views(ctx, uow, rows[: request.limit], guard.caller, now)
    next_cursor = None
    if len(rows) > request.limit:
        last = items[-1].minigroup
        position = Position(last.time.start, last.id)
        next_cursor = encode_cursor(request.audience, request.filter, position)
    return MinigroupPage(items, next_cursor)


async def _views(
    ctx: Context, uow: UnitOfWork, page: list[Minigroup], caller: AccountId, now: datetime
) -> list[MinigroupView]:
    recordings = await uow.recordings.list_live_of([m.id for m in page])
    playbacks = {m.id: describe_playback(m, recordings.get(m.id, []), now) for m in page}
    watched = [key for key, playback in playbacks.items() if playback.shows_position]
    positions = await uow.positions.get_many(watched, caller) if watched else {}
    return [
        MinigroupView(
            minigroup=minigroup,
            turn_host=pick_turn_host(ctx),
            properties={},
            account_properties={},
            playback=playbacks[minigroup.id],
            position=positions.get(minigroup.id),
        )
        for minigroup in page
    ]
