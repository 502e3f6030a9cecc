"""`minigroups sandbox finish`: a lesson takes place in the sandbox, so the pipeline can run."""

from __future__ import annotations

from uuid import UUID

from minigroups.domain.errors import InvalidPayload
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context

MAX_PARTICIPANTS = 50


class NoSimulator(Exception):
    """The service runs against the real platform: there is no lesson to simulate."""


async def finish_lesson(ctx: Context, guard: Guard, minigroup_id: UUID, participants: int) -> None:
    if ctx.simulator is None:
        raise NoSimulator("only the sandbox upstream can finish a lesson")
    if not 1 <= participants <= MAX_PARTICIPANTS:
        raise InvalidPayload(f"`participants` must be between 1 and {MAX_PARTICIPANTS}")
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id))
    await ctx.simulator.finish(minigroup, participants)
