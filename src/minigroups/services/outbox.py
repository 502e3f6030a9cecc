"""Performing one queued side effect through the ports (the outbox relay's job, D18)."""

from __future__ import annotations

from uuid import UUID

from minigroups.ports import OutboxItem
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import EVENT_REQUEST, NOTIFY, TQ_TASK


class UnknownOutboxKind(ValueError):
    """An outbox row of a kind this version does not know how to send."""


async def deliver(ctx: Context, item: OutboxItem) -> None:
    """Send it; an exception leaves it queued for a retry."""
    message = item.payload
    if item.kind == NOTIFY:
        await ctx.notifier.notify(
            audience=message["audience"], label=message["label"], payload=message["payload"]
        )
    elif item.kind == TQ_TASK:
        await ctx.tasks.create_task(
            audience=message["audience"],
            task_id=message["task_id"],
            classroom_id=UUID(message["classroom_id"]),
            task=message["task"],
        )
    elif item.kind == EVENT_REQUEST:
        await _event_request(ctx, message["method"], message["params"])
    else:
        raise UnknownOutboxKind(item.kind)


async def _event_request(ctx: Context, method: str, params: dict[str, object]) -> None:
    room_id = UUID(str(params["room_id"]))
    if method == "room.adjust":
        started_at, segments, offset = params["started_at"], params["segments"], params["offset"]
        assert isinstance(started_at, int) and isinstance(offset, int)  # noqa: PT018
        assert isinstance(segments, list)
        await ctx.events.adjust_room(
            room_id=room_id, started_at=started_at, segments=segments, offset=offset
        )
    elif method == "room.dump_events":
        await ctx.events.dump_events(room_id=room_id)
    else:
        raise UnknownOutboxKind(f"{EVENT_REQUEST} {method}")
