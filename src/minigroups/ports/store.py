"""Storage: the repositories of a unit of work, the unit of work, and the `Store` that opens it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self
from uuid import UUID

from minigroups.domain.ids import AccountId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.listing import Branch, Position
from minigroups.domain.minigroup import Minigroup, Recording, Segments
from minigroups.domain.timerange import TimeRange
from minigroups.ports.console import ConsoleRepository
from minigroups.ports.idempotency import IdempotencyRepository
from minigroups.ports.overview import OverviewRepository
from minigroups.ports.queues import InboxRepository, OutboxRepository
from minigroups.ports.webhooks import DeliveryQueue, WebhookRepository


@dataclass(frozen=True, slots=True)
class NewMinigroup:
    """What a create request asks to store before the rooms exist."""

    scope: str
    audience: str
    time: TimeRange
    tags: JsonValue = None
    properties: JsonObject = field(default_factory=dict)
    reserve: int | None = None


@dataclass(frozen=True, slots=True)
class Dummy:
    """A not-yet-established minigroup row held by one create (its `claim`)."""

    id: UUID
    claim: UUID
    scope: str
    audience: str
    time: TimeRange
    created_at: datetime
    tags: JsonValue
    properties: JsonObject
    reserve: int | None
    preserve_history: bool = True
    content_id: str | None = None


@dataclass(frozen=True, slots=True)
class MinigroupChanges:
    """Fields of an update; `None` keeps the stored value (R2 step 4, without the wipe: D2)."""

    time: TimeRange | None = None
    reserve: int | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class PageQuery:
    """One page of an audience's established minigroups in schedule order (domain/listing.py).

    A row is on it when it matches one of `branches`, its start is before `start_before` (an
    unbounded start always is), its scope starts with `scope_prefix`, and it comes after `after`.
    """

    audience: str
    branches: Sequence[Branch]
    limit: int
    start_before: datetime | None = None
    scope_prefix: str | None = None
    after: Position | None = None


RoomColumn = Literal["conference_room_id", "event_room_id", "original_event_room_id"]


class MinigroupRepository(Protocol):
    async def get(self, minigroup_id: UUID, *, any_kind: bool = False) -> Minigroup | None:
        """The established class with this id (kind minigroup unless `any_kind`)."""
        ...

    async def get_by_scope(self, audience: str, scope: str) -> Minigroup | None:
        """The established minigroup with this audience and scope."""
        ...

    async def lock(self, minigroup_id: UUID) -> Minigroup | None:
        """Like `get(any_kind=True)`, and holds the row until the unit of work ends."""
        ...

    async def claim_dummy(
        self, new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
    ) -> Dummy | None:
        """Insert a dummy claimed at `now`, or take over a dummy claimed before `stale_before`.

        Both times come from the caller's clock, so that the staleness rule compares like with
        like. Returns None when the (audience, scope) is established or another create holds a
        fresh dummy for it (D13).
        """
        ...

    async def establish(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """Set the rooms and mark established, if the dummy is still held by `dummy.claim`."""
        ...

    async def establish_unobserved(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """`establish`, in the same statement as the look, only if no enabled webhook endpoint
        of the dummy's audience exists; None otherwise (nothing would be queued with it)."""
        ...

    async def delete_dummy(self, dummy: Dummy) -> None:
        """Remove the dummy if it is still held by `dummy.claim` and not established."""
        ...

    async def update(self, minigroup_id: UUID, changes: MinigroupChanges) -> Minigroup | None:
        """Apply the changes; properties are never touched (D2)."""
        ...

    async def replace_rooms(
        self, minigroup_id: UUID, time: TimeRange, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """Recreate: new time and rooms, original/modified room ids cleared."""
        ...

    async def set_properties(self, minigroup_id: UUID, properties: JsonObject) -> None: ...

    async def record_adjustment(
        self, minigroup_id: UUID, original_event_room_id: UUID, modified_event_room_id: UUID
    ) -> None:
        """The pipeline's adjust result: the original and modified event rooms."""
        ...

    async def set_room_events_uri(self, modified_event_room_id: UUID, uri: str) -> None:
        """The pipeline's dump result, for the minigroup whose modified room was dumped."""
        ...

    async def find_by_room(
        self, column: RoomColumn, room_id: UUID, *, lock: bool = False
    ) -> Minigroup | None:
        """The established class (any kind) whose room in `column` is `room_id`; with `lock`,
        the row is held until the unit of work ends."""
        ...

    async def close(self, minigroup_id: UUID, time: TimeRange, timed_out: bool) -> None:
        """`room.close`: the time with its end at the close, and whether it timed out."""
        ...

    async def list_page(self, query: PageQuery) -> list[Minigroup]:
        """Up to `query.limit` minigroups in schedule order, in one statement."""
        ...


class RecordingRepository(Protocol):
    """Recordings of classes. Whatever a unit of work writes here also sets the class's
    `recording_stage` (domain/listing.py) in that unit of work, before it commits."""

    async def list_live(self, class_id: UUID) -> list[Recording]:
        """Recordings not soft-deleted, ordered by (created_at, id) (D4)."""
        ...

    async def list_live_of(self, class_ids: Sequence[UUID]) -> dict[UUID, list[Recording]]:
        """`list_live` of several classes in one statement (classes without any are absent)."""
        ...

    async def soft_delete_all(self, class_id: UUID, now: datetime) -> None: ...

    async def add(self, recording: Recording) -> None:
        """Store a new recording (written by the recording pipeline)."""
        ...

    async def upsert_uploaded(
        self, class_id: UUID, rtc_id: UUID, created_by: str, now: datetime
    ) -> None:
        """`room.upload`: one live recording per author; a new rtc replaces and resets it, the
        same rtc again (a redelivered upload) changes nothing."""
        ...

    async def set_converted(
        self,
        class_id: UUID,
        rtc_id: UUID,
        stream_uri: str,
        segments: Segments,
        started_at: datetime,
    ) -> bool:
        """A conversion's result; False when no live recording has this rtc id."""
        ...

    async def remove(self, class_id: UUID, rtc_id: UUID) -> None:
        """Drop a recording whose conversion result is unreadable (D17)."""
        ...

    async def set_modified_segments(
        self, recording_id: UUID, segments: Segments, adjusted_at: datetime
    ) -> None: ...

    async def mark_transcoded(self, class_id: UUID, now: datetime) -> int:
        """Every live recording transcoded now; returns how many there were."""
        ...


@dataclass(frozen=True, slots=True)
class Viewer:
    """What a reader's account contributes to a read: its properties and saved position."""

    properties: JsonObject | None
    position: int | None


@dataclass(frozen=True, slots=True)
class MinigroupRead:
    """What a read (R1/R3) needs, found together: the minigroup, its live recordings (D4 order)
    and what the reader's account contributes."""

    minigroup: Minigroup
    recordings: list[Recording]
    viewer: Viewer


class AccountRepository(Protocol):
    async def get_properties(self, account_id: AccountId) -> JsonObject | None:
        """The account's properties, or None when the account has none stored."""
        ...

    async def lock_properties(self, account_id: AccountId) -> JsonObject:
        """Create the account row if missing and hold it until the unit of work ends."""
        ...

    async def set_properties(self, account_id: AccountId, properties: JsonObject) -> None: ...


class PositionRepository(Protocol):
    async def get(self, class_id: UUID, account_id: AccountId) -> int | None: ...

    async def get_many(self, class_ids: Sequence[UUID], account_id: AccountId) -> dict[UUID, int]:
        """The account's saved positions in these classes, in one statement."""
        ...

    async def save(self, class_id: UUID, account_id: AccountId, position_secs: int) -> None:
        """Insert or replace the viewing position."""
        ...


class UnitOfWork(Protocol):
    """One database transaction (or, read-only, an autocommit connection).

    Leaving the context without `commit()` rolls back. Repositories only execute statements;
    the use case commits.
    """

    minigroups: MinigroupRepository
    recordings: RecordingRepository
    accounts: AccountRepository
    positions: PositionRepository
    inbox: InboxRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    overview: OverviewRepository
    console: ConsoleRepository  # read-only queries of the operators' console
    webhooks: WebhookRepository
    deliveries: DeliveryQueue

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class MinigroupReader(Protocol):
    """The read path's own lookups (R1/R3), outside any unit of work: one statement each."""

    async def read_by_id(
        self, minigroup_id: UUID, viewer: AccountId, *, any_kind: bool = False
    ) -> MinigroupRead | None:
        """The established class with this id (kind minigroup unless `any_kind`), its live
        recordings and `viewer`'s data, in one statement (the read path, issue 12)."""
        ...

    async def read_by_scope(
        self, audience: str, scope: str, viewer: AccountId
    ) -> MinigroupRead | None:
        """As `read_by_id`, by audience and scope."""
        ...


class MinigroupCreates(Protocol):
    """A create's two writes (R9, D13), outside any unit of work: one atomic statement each,
    committed by itself (issue 12: no transaction, on connections the store picks)."""

    async def claim_dummy(
        self, new: NewMinigroup, claim: UUID, *, now: datetime, stale_before: datetime
    ) -> Dummy | None:
        """As `MinigroupRepository.claim_dummy`."""
        ...

    async def establish_unobserved(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """As `MinigroupRepository.establish_unobserved`: None when the claim went stale or an
        enabled webhook endpoint of the audience exists (then establish in a unit of work)."""
        ...


class Store(Protocol):
    def unit_of_work(
        self, *, read_only: bool = False, single_statement: bool = False
    ) -> UnitOfWork:
        """A new unit of work; read-only ones never take write locks.

        `single_statement`: the work is one write statement, atomic by itself; the store may run
        it without BEGIN/COMMIT (PostgreSQL: two round trips fewer). `commit()` is still called.
        """
        ...

    @property
    def reader(self) -> MinigroupReader:
        """The read path's lookups, on connections of their own."""
        ...

    @property
    def creates(self) -> MinigroupCreates:
        """A create's two writes, each one statement outside any unit of work."""
        ...

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        ...

    async def close(self) -> None: ...
