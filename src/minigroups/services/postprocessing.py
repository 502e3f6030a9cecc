"""Operator routes into the pipeline: restart transcoding (R13, D12) and commit an edition."""

from __future__ import annotations

from uuid import UUID, uuid4

from minigroups.domain.errors import EditionCommitFailed, TranscodingFlowFailed, UpstreamFailed
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


async def commit_edition(
    ctx: Context, guard: Guard, audience: str, scope: str, edition_id: UUID
) -> None:
    """HTTP appendix A: ask the event service to commit; its result arrives as `edition.commit`."""
    await load_authorized(ctx, guard, ByScope(audience, scope))
    try:
        await ctx.events.commit_edition(
            edition_id=edition_id, offset=ctx.options.preroll_offset(audience)
        )
    except UpstreamFailed as exc:
        raise EditionCommitFailed(exc, "Failed to commit edition") from exc
