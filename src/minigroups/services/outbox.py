"""The outbox's units of work and the sending of one queued side effect through the ports.

The outbox relay (consumer/) decides when; these send, and record the outcome (D18).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from minigroups.ports import OutboxItem, Owner
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import EVENT_REQUEST, NOTIFY, TQ_TASK


class UnknownOutboxKind(ValueError):
    """An outbox row of a kind this version does not know how to send."""


class MalformedEffect(ValueError):
    """An outbox row whose parameters do not have the shape its kind needs."""


async def claim_effects(
    ctx: Context, owner: Owner, until: datetime, limit: int
) -> list[OutboxItem]:
    """Lease up to `limit` due effects to `owner` until `until`."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        items = await uow.outbox.claim_due(ctx.clock.now(), owner, until, limit)
        await uow.commit()
    return items


async def renew_effects(ctx: Context, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
    """Keep the leases of effects still being sent; the ids whose lease is still ours."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        held = await uow.outbox.renew(leases, until)
        await uow.commit()
    return held


async def retry_effect(ctx: Context, item: OutboxItem, error: str, at: datetime) -> None:
    """Release an effect that could not be sent, due again at `at`."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        await uow.outbox.retry_later(item, error, at)
        await uow.commit()


async def mark_sent(ctx: Context, item: OutboxItem) -> None:
    """Raises LeaseLost when another relay took the effect over (it may then be sent twice)."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        await uow.outbox.mark_sent(item, ctx.clock.now())
        await uow.commit()


async def mark_sent_many(ctx: Context, items: Sequence[OutboxItem]) -> set[UUID]:
    """`mark_sent` of effects sent at about the same time, in one statement; the ids marked
    (the others were taken over by another relay, which may send them again)."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        marked = await uow.outbox.mark_sent_many(items, ctx.clock.now())
        await uow.commit()
    return marked


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
        if not (isinstance(started_at, int) and isinstance(offset, int)):
            raise MalformedEffect(f"room.adjust needs integer started_at and offset: {params}")
        if not isinstance(segments, list):
            raise MalformedEffect(f"room.adjust needs a list of segments: {params}")
        await ctx.events.adjust_room(
            room_id=room_id, started_at=started_at, segments=segments, offset=offset
        )
    elif method == "room.dump_events":
        await ctx.events.dump_events(room_id=room_id)
    else:
        raise UnknownOutboxKind(f"{EVENT_REQUEST} {method}")
