"""The read-only queries of the operators' console: queue totals, throughput, listings, and the
inbox and outbox rows that mention one minigroup. Nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from minigroups.domain.json_value import JsonValue
from minigroups.domain.minigroup import Minigroup, Status
from minigroups.ports.queues import InboxStatus


@dataclass(frozen=True, slots=True)
class QueueTotals:
    """The backlog: pending and dead inbox events, pending outbox items, and the oldest ones."""

    inbox_pending: int
    inbox_dead: int
    outbox_pending: int
    oldest_inbox_pending: datetime | None = None
    oldest_outbox_pending: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListedMinigroup:
    """A minigroup of a listing with its status (contract.md HTTP §3 step 6)."""

    minigroup: Minigroup
    status: Status


@dataclass(frozen=True, slots=True)
class ListingCursor:
    """Where a page of a listing ends: the last minigroup's (created_at, id); newest first."""

    created_at: datetime
    id: UUID


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """An inbox row as the console shows it: what arrived, when, and what became of it."""

    id: UUID
    label: str
    source: str
    payload: str
    status: InboxStatus
    attempts: int
    received_at: datetime
    next_attempt_at: datetime
    handled_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outbox row as the console shows it: the effect, when it was queued and sent."""

    id: UUID
    key: str
    kind: str
    payload: JsonValue
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None


class ConsoleRepository(Protocol):
    async def queue_totals(self) -> QueueTotals: ...

    async def handled_per_minute(self, since: datetime) -> list[tuple[datetime, int]]:
        """(minute, events handled in it) for the minutes since `since` that had any."""
        ...

    async def list_minigroups(
        self,
        audience: str,
        *,
        status: Status | None,
        after: ListingCursor | None,
        limit: int,
        now: datetime,
    ) -> list[ListedMinigroup]:
        """Established minigroups of the audience, newest first (created_at, id descending),
        of one status when asked (`now` decides real-time against closed)."""
        ...

    async def inbox_mentioning(self, needles: Sequence[str], limit: int) -> list[InboxEntry]:
        """The newest inbox events whose payload contains one of `needles` (room ids)."""
        ...

    async def outbox_mentioning(self, needles: Sequence[str], limit: int) -> list[OutboxEntry]:
        """The newest outbox items whose key contains one of `needles` (a minigroup or room id)."""
        ...

    async def dead_letters(self, limit: int) -> list[InboxEntry]:
        """The newest dead letters."""
        ...
