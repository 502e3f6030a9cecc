"""`minigroups sandbox finish`: a lesson takes place in the sandbox, so the pipeline can run."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from minigroups.domain.errors import InvalidPayload
from minigroups.domain.minigroup import Minigroup
from minigroups.ports import RoomColumn
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


async def minigroup_of_room(ctx: Context, room_id: UUID) -> Minigroup | None:
    """The stored class whose event or conference room is `room_id` (the sandbox restores the
    rooms of such a class after a restart)."""
    columns: tuple[RoomColumn, ...] = ("event_room_id", "conference_room_id")
    async with ctx.store.unit_of_work(read_only=True) as uow:
        for column in columns:
            found = await uow.minigroups.find_by_room(column, room_id)
            if found is not None:
                return found
    return None
