"""`minigroups sandbox finish`: a lesson takes place in the sandbox, so the pipeline can run."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from minigroups.domain.errors import InvalidPayload
from minigroups.domain.minigroup import Minigroup
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context

MAX_PARTICIPANTS = 50


class LessonSimulator(Protocol):
    """The sandbox's stand-in for a lesson that took place (only with `upstream = "sandbox"`)."""

    async def finish(self, minigroup: Minigroup, participants: int) -> None:
        """The conference closes the room and uploads `participants` recordings."""
        ...


async def finish_lesson(
    ctx: Context, simulator: LessonSimulator, guard: Guard, minigroup_id: UUID, participants: int
) -> None:
    if not 1 <= participants <= MAX_PARTICIPANTS:
        raise InvalidPayload(f"`participants` must be between 1 and {MAX_PARTICIPANTS}")
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id))
    await simulator.finish(minigroup, participants)
