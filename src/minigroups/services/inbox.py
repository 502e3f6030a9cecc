"""The inbox's units of work: recording lifecycle events, claiming them, retrying, burying.

The inbox worker (consumer/) decides when; these decide what is written, each in one
transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from minigroups.ports import Holding, InboxItem, IncomingEvent, Owner
from minigroups.services.context import Context
from minigroups.services.pipeline.effects import concluding


def event_key(topic: str, properties: Mapping[str, str], payload: str) -> str:
    """Equal for redeliveries of one publication: publisher, label, publish time and payload."""
    parts = [topic, properties.get("label", ""), properties.get("timestamp", ""), payload]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


async def record_event(
    ctx: Context, topic: str, label: str, properties: Mapping[str, str], payload: str
) -> bool:
    """Store the event durably; True when it is new. Only then may it be acknowledged (D18)."""
    event = IncomingEvent(
        key=event_key(topic, properties, payload),
        source=topic,
        label=label,
        payload=payload,
        received_at=ctx.clock.now(),
    )
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        added = await uow.inbox.add(event)
        await uow.commit()
    return added


@dataclass(frozen=True, slots=True)
class Received:
    """A lifecycle event as it came off the subscription, before it is recorded."""

    topic: str
    label: str
    properties: Mapping[str, str]
    payload: str


async def record_events(ctx: Context, received: Sequence[Received]) -> list[bool]:
    """Store the events durably in one statement (a group commit of the events that arrived
    together); for each, True when it is new. Only then may they be acknowledged (D18)."""
    events = _incoming(ctx, received)
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        added = await uow.inbox.add_many(events)
        await uow.commit()
    return _answers(events, added)


async def record_and_claim(
    ctx: Context, received: Sequence[Received], holding: Holding
) -> tuple[list[bool], list[InboxItem]]:
    """`record_events`, with the first `holding.count` new events claimed for `holding.owner`
    by the same statement (the worker of this process has that many free slots): for each
    event, True when it is new, and the events claimed."""
    events = _incoming(ctx, received)
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        added, held = await uow.inbox.add_held(events, holding)
        await uow.commit()
    return _answers(events, added), held


def _incoming(ctx: Context, received: Sequence[Received]) -> list[IncomingEvent]:
    now = ctx.clock.now()
    return [
        IncomingEvent(
            key=event_key(r.topic, r.properties, r.payload),
            source=r.topic,
            label=r.label,
            payload=r.payload,
            received_at=now,
        )
        for r in received
    ]


def _answers(events: Sequence[IncomingEvent], added: set[str]) -> list[bool]:
    answers = []
    for event in events:  # a key twice in one batch (a quick redelivery) is new only once
        answers.append(event.key in added)
        added.discard(event.key)
    return answers


async def claim_events(ctx: Context, owner: Owner, until: datetime, limit: int) -> list[InboxItem]:
    """Lease up to `limit` due events to `owner` until `until`."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        items = await uow.inbox.claim_due(ctx.clock.now(), owner, until, limit)
        await uow.commit()
    return items


async def renew_events(ctx: Context, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
    """Keep the leases of events still being handled; the ids whose lease is still ours."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        held = await uow.inbox.renew(leases, until)
        await uow.commit()
    return held


async def retry_event(ctx: Context, item: InboxItem, error: str, at: datetime) -> None:
    """Release a failed event, due again at `at`."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        await uow.inbox.retry_later(item, error, at)
        await uow.commit()


async def bury_event(ctx: Context, item: InboxItem, error: str) -> None:
    """Keep a failed event as a dead letter until an operator replays it."""
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        await uow.inbox.bury(item, error)
        await uow.commit()


async def ignore_event(ctx: Context, item: InboxItem) -> None:
    """Mark an event handled that asks nothing of the pipeline."""
    async with concluding(ctx, item):
        pass
