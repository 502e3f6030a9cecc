"""Side effects written to the outbox in the unit of work of the state they follow (D18)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Final
from uuid import UUID

from minigroups.domain.json_value import JsonObject
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.tasks import TqTask
from minigroups.ports import InboxItem, OutgoingMessage, UnitOfWork
from minigroups.services.context import Context

NOTIFY: Final = "notify"
TQ_TASK: Final = "tq_task"
EVENT_REQUEST: Final = "event_request"


@asynccontextmanager
async def concluding(ctx: Context, item: InboxItem) -> AsyncIterator[UnitOfWork]:
    """The unit of work that stores a handler's effects AND marks its event handled, together."""
    async with ctx.store.unit_of_work() as uow:
        yield uow
        await conclude(ctx, uow, item)
        await uow.commit()


async def conclude(ctx: Context, uow: UnitOfWork, item: InboxItem) -> None:
    """Mark the event handled in `uow`, which then commits it with the handler's writes (for a
    handler that finds, within a unit of work it opened anyway, that nothing is left to do)."""
    await uow.inbox.complete(item, ctx.clock.now())


def effect_key(item: InboxItem, minigroup: Minigroup, effect: str) -> str:
    """The outbox key of an effect of this event: the same publication, however often it is
    delivered or replayed, and even when the peer republishes it, gives the effect once."""
    digest = hashlib.sha256(item.payload.encode("utf-8")).hexdigest()[:32]
    return f"{effect}:{minigroup.id}:{item.label}:{digest}"


def notification_payload(minigroup: Minigroup, **extra: object) -> JsonObject:
    """`{tags?, scope, id, ...}` as minigroup.stop and .ready carry it (upstream §6.1, §6.5)."""
    payload: JsonObject = {}
    if minigroup.tags is not None:
        payload["tags"] = minigroup.tags
    payload.update(scope=minigroup.scope, id=str(minigroup.id), **extra)
    return payload


async def notify(
    ctx: Context,
    uow: UnitOfWork,
    key: str,
    minigroup: Minigroup,
    *,
    label: str,
    payload: JsonObject,
) -> None:
    message = {"audience": minigroup.audience, "label": label, "payload": payload}
    await uow.outbox.add(OutgoingMessage(key, NOTIFY, message), ctx.clock.now())


async def submit_task(
    ctx: Context, uow: UnitOfWork, key: str, minigroup: Minigroup, task: TqTask
) -> None:
    message = {
        "audience": minigroup.audience,
        "task_id": task.task_id,
        "classroom_id": str(minigroup.id),
        "task": task.body,
    }
    await uow.outbox.add(OutgoingMessage(key, TQ_TASK, message), ctx.clock.now())


async def request_adjust(
    ctx: Context,
    uow: UnitOfWork,
    key: str,
    *,
    room_id: UUID,
    started_at: int,
    segments: Sequence[Sequence[int]],
    offset: int,
) -> None:
    params = {
        "room_id": str(room_id),
        "started_at": started_at,
        "segments": [list(segment) for segment in segments],
        "offset": offset,
    }
    message = {"method": "room.adjust", "params": params}
    await uow.outbox.add(OutgoingMessage(key, EVENT_REQUEST, message), ctx.clock.now())


async def request_dump(ctx: Context, uow: UnitOfWork, key: str, room_id: UUID) -> None:
    message = {"method": "room.dump_events", "params": {"room_id": str(room_id)}}
    await uow.outbox.add(OutgoingMessage(key, EVENT_REQUEST, message), ctx.clock.now())
