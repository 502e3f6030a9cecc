"""Durable message paths: the inbox of lifecycle events, the outbox of side effects (D18)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from minigroups.domain.json_value import JsonObject

InboxStatus = Literal["pending", "done", "dead"]
OutboxKind = Literal["notify", "tq_task", "event_request"]


@dataclass(frozen=True, slots=True)
class Owner:
    """Who claims queue items: an instance, stable across its restarts, and its incarnation, the
    process running it now. A claim of an earlier incarnation is a claim of a dead process."""

    instance: str
    incarnation: UUID


@dataclass(frozen=True, slots=True)
class Holding:
    """A claim taken as items are inserted, for the worker of the inserting process, which has
    `count` free slots: the first `count` items, those of them that are new, are leased to
    `owner` until `until` as a claim would lease them, and handed to the worker without one."""

    owner: Owner
    until: datetime
    count: int


class LeasedQueue(Protocol):
    """What the inbox and the outbox share: leases kept alive, given back, and old rows purged."""

    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
        """Extend the leases (item id -> lease) to `until`; the ids whose lease is still held.

        An id missing from the answer was taken over (or settled) by someone else.
        """
        ...

    async def reclaim(self, owner: Owner) -> int:
        """Release the claims of the owner's earlier incarnations (dead processes); how many."""
        ...

    async def release(self, owner: Owner) -> int:
        """Release this incarnation's own claims, giving their attempt back; how many."""
        ...

    async def purge_settled(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` rows settled (handled, sent) before `before`; how many."""
        ...


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A lifecycle event as received, before anything is parsed (a poison payload is kept as is)."""

    key: str  # recognises redeliveries of the same event (D18)
    source: str  # the topic it arrived on
    label: str
    payload: str  # the envelope's JSON text
    received_at: datetime


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A recorded incoming event, claimed by one worker under `lease` while it is handled."""

    id: UUID
    key: str
    source: str
    label: str
    payload: str
    received_at: datetime
    status: InboxStatus
    attempts: int
    lease: UUID | None = None
    last_error: str | None = None


class InboxRepository(LeasedQueue, Protocol):
    async def add(self, event: IncomingEvent) -> bool:
        """Record the event; False when its key is already known (a redelivery)."""
        ...

    async def add_many(self, events: Sequence[IncomingEvent]) -> set[str]:
        """Record the events in one statement; the keys that were new."""
        ...

    async def add_held(
        self, events: Sequence[IncomingEvent], holding: Holding
    ) -> tuple[set[str], list[InboxItem]]:
        """`add_many`, with the first `holding.count` events claimed in the same statement when
        they are new; the keys that were new, and the items claimed (in the order of `events`)."""
        ...

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int
    ) -> list[InboxItem]:
        """Pending events due now and not leased by a live worker; the owner's until `until`."""
        ...

    async def complete(self, item: InboxItem, now: datetime) -> None:
        """Mark handled, in the unit of work that stores the handler's effects.

        Raises LeaseLost when another worker has taken the event over meanwhile; the outbox
        messages the unit queued before are then not written.
        """
        ...

    async def retry_later(self, item: InboxItem, error: str, at: datetime) -> None: ...

    async def bury(self, item: InboxItem, error: str) -> None:
        """A dead letter: kept with its error until an operator replays it."""
        ...

    async def list(self, *, status: InboxStatus | None, limit: int) -> list[InboxItem]: ...

    async def get(self, item_id: UUID) -> InboxItem | None: ...

    async def revive(self, item_id: UUID, now: datetime, *, handled: bool = False) -> bool:
        """Replay: a dead event (a handled one too with `handled`) becomes pending again with
        its attempts reset; False when there is no such event."""
        ...

    async def purge_dead(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` dead letters received before `before`; how many."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A side effect to perform after commit; `key` makes it happen once however often written."""

    key: str
    kind: OutboxKind
    payload: JsonObject


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: UUID
    key: str
    kind: OutboxKind  # a row of a kind unknown to this version (a newer one's) comes as is
    payload: JsonObject
    attempts: int
    lease: UUID | None = None


class OutboxRepository(LeasedQueue, Protocol):
    async def add(self, message: OutgoingMessage, now: datetime) -> None:
        """Queue the message with the unit of work; a message whose key was queued before is
        not queued again. It is in the outbox when the unit commits, and for the unit's own
        `claim_due` and `pending`; the store may write it with the unit's `inbox.complete`."""
        ...

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int
    ) -> list[OutboxItem]: ...

    async def mark_sent(self, item: OutboxItem, now: datetime) -> None:
        """Raises LeaseLost when another relay has taken the message over meanwhile."""
        ...

    async def mark_sent_many(self, items: Sequence[OutboxItem], now: datetime) -> set[UUID]:
        """Mark sent, in one statement, those whose lease is still held; their ids (an item
        missing from the answer was taken over by another relay)."""
        ...

    async def retry_later(self, item: OutboxItem, error: str, at: datetime) -> None: ...

    async def pending(self, limit: int) -> list[OutboxItem]: ...
