"""Operator routes into the pipeline: restart transcoding (R13, D12) and commit an edition."""

from __future__ import annotations

from uuid import UUID, uuid4

from minigroups.domain.errors import (
    EditionCommitFailed,
    EditionNotFound,
    TranscodingFlowFailed,
    UpstreamFailed,
)
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.tasks import Priority
from minigroups.services.access import ById, ByScope, Guard, load_authorized
from minigroups.services.context import Context
from minigroups.services.pipeline.transcoding import prepare_transcoding, queue_transcoding


async def restart_transcoding(
    ctx: Context, guard: Guard, minigroup_id: UUID, priority: Priority
) -> None:
    """Submit the transcoding again; every failed precondition is 422 with a detail (D12)."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id, any_kind=True))
    if minigroup.kind != "minigroup":
        raise TranscodingFlowFailed("Invalid class type")
    modified_room_id = minigroup.modified_event_room_id
    if modified_room_id is None:
        raise TranscodingFlowFailed("Not adjusted yet")
    task = await prepare_transcoding(ctx, minigroup, modified_room_id, priority)
    if task is None:
        raise TranscodingFlowFailed("No host event in the modified event room")
    async with ctx.store.unit_of_work() as uow:
        key = f"restart:{uuid4()}"  # every restart is a new submission
        await queue_transcoding(ctx, uow, key, minigroup, task=task, room_id=modified_room_id)
        await uow.commit()


# The ownership check reads `edition.list` pages of this size, at most this many of them.
EDITION_PAGE = 25
MAX_EDITION_PAGES = 40


async def commit_edition(
    ctx: Context, guard: Guard, audience: str, scope: str, edition_id: UUID
) -> None:
    """HTTP appendix A: ask the event service to commit; its result arrives as `edition.commit`.

    The edition must be one of this class's original event room: the result rewrites the class
    whose original room is the edition's source, so any other edition would let an `update` on
    this class change another class (or dead-letter). Anything else is `404 edition_not_found`.
    """
    minigroup = await load_authorized(ctx, guard, ByScope(audience, scope))
    try:
        if not await _has_edition(ctx, minigroup, edition_id):
            raise EditionNotFound("The edition is not one of this class's event room")
        await ctx.events.commit_edition(
            edition_id=edition_id, offset=ctx.options.preroll_offset(audience)
        )
    except UpstreamFailed as exc:
        raise EditionCommitFailed(exc, "Failed to commit edition") from exc


async def _has_edition(ctx: Context, minigroup: Minigroup, edition_id: UUID) -> bool:
    """Whether `edition.list` of the class's original event room names the edition."""
    room_id = minigroup.original_event_room_id
    if room_id is None:  # not adjusted: nothing to edit yet
        return False
    last_created_at: int | None = None
    for _ in range(MAX_EDITION_PAGES):
        page = await ctx.events.list_editions(
            room_id=room_id, last_created_at=last_created_at, limit=EDITION_PAGE
        )
        if any(e.id == edition_id and e.source_room_id == room_id for e in page):
            return True
        if len(page) < EDITION_PAGE or page[-1].created_at == last_created_at:
            return False
        last_created_at = page[-1].created_at
    return False
