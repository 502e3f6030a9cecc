"""The interfaces the use cases need from the outside world; adapters implement them.

Upstream ports mirror the peer methods of upstream.md §3-§5: arguments and answers are plain data
in wire shape (times as `[start, end]` Unix-second pairs, ids as UUIDs, JSON as dicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Literal, Protocol, Self
from uuid import UUID

from minigroups.domain.ids import AccountId
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.minigroup import Minigroup, Recording, Segments
from minigroups.domain.timerange import TimeRange, WireTime


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC time (timezone-aware)."""
        ...


class Metrics(Protocol):
    """Counters the use cases report (compensations, dropped work); adapters export them."""

    def increment(self, name: str, **labels: str) -> None: ...


# --- storage --------------------------------------------------------------------------------------


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
        self, new: NewMinigroup, claim: UUID, stale_before: datetime
    ) -> Dummy | None:
        """Insert a dummy, or take over a dummy created before `stale_before`.

        Returns None when the (audience, scope) is established or another create holds a fresh
        dummy for it (D13).
        """
        ...

    async def establish(
        self, dummy: Dummy, event_room_id: UUID, conference_room_id: UUID
    ) -> Minigroup | None:
        """Set the rooms and mark established, if the dummy is still held by `dummy.claim`."""
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


class RecordingRepository(Protocol):
    async def list_live(self, class_id: UUID) -> list[Recording]:
        """Recordings not soft-deleted, ordered by (created_at, id) (D4)."""
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


class AccountRepository(Protocol):
    async def get_properties(self, account_id: AccountId) -> JsonObject | None:
        """The account's properties, or None when the account has none stored."""
        ...

    async def get_viewer(self, account_id: AccountId, class_id: UUID) -> Viewer:
        """Properties and viewing position of the account in one round trip."""
        ...

    async def lock_properties(self, account_id: AccountId) -> JsonObject:
        """Create the account row if missing and hold it until the unit of work ends."""
        ...

    async def set_properties(self, account_id: AccountId, properties: JsonObject) -> None: ...


class PositionRepository(Protocol):
    async def get(self, class_id: UUID, account_id: AccountId) -> int | None: ...

    async def save(self, class_id: UUID, account_id: AccountId, position_secs: int) -> None:
        """Insert or replace the viewing position."""
        ...


# --- durable message paths: the inbox of lifecycle events, the outbox of side effects ---------


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
    status: str  # pending | done | dead
    attempts: int
    lease: UUID | None = None
    last_error: str | None = None


class InboxRepository(Protocol):
    async def add(self, event: IncomingEvent) -> bool:
        """Record the event; False when its key is already known (a redelivery)."""
        ...

    async def claim_due(
        self, now: datetime, lease: UUID, until: datetime, limit: int
    ) -> list[InboxItem]:
        """Pending events due now and not leased by a live worker; ours until `until`."""
        ...

    async def complete(self, item: InboxItem, now: datetime) -> None:
        """Mark handled, in the unit of work that stores the handler's effects.

        Raises LeaseLost when another worker has taken the event over meanwhile.
        """
        ...

    async def retry_later(self, item: InboxItem, error: str, at: datetime) -> None: ...

    async def bury(self, item: InboxItem, error: str) -> None:
        """A dead letter: kept with its error until an operator replays it."""
        ...

    async def list(self, *, status: str | None, limit: int) -> list[InboxItem]: ...

    async def revive(self, item_id: UUID, now: datetime) -> bool:
        """Replay: a dead (or done) event becomes pending again with its attempts reset."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A side effect to perform after commit; `key` makes it happen once however often written."""

    key: str
    kind: str  # notify | tq_task | event_request
    payload: JsonObject


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: UUID
    key: str
    kind: str
    payload: JsonObject
    attempts: int
    lease: UUID | None = None


class OutboxRepository(Protocol):
    async def add(self, message: OutgoingMessage, now: datetime) -> bool:
        """Queue the message; False when a message with its key was queued before."""
        ...

    async def claim_due(
        self, now: datetime, lease: UUID, until: datetime, limit: int
    ) -> list[OutboxItem]: ...

    async def mark_sent(self, item: OutboxItem, now: datetime) -> None: ...

    async def retry_later(self, item: OutboxItem, error: str, at: datetime) -> None: ...

    async def pending(self, limit: int) -> list[OutboxItem]: ...


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

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class Store(Protocol):
    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; read-only ones never take write locks."""
        ...

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless the database answers."""
        ...

    async def close(self) -> None: ...


# --- authorization --------------------------------------------------------------------------------


Action = Literal["create", "read", "update", "download"]


class Authorizer(Protocol):
    async def authorize(
        self, audience: str, subject: AccountId, object_: Sequence[str], action: Action
    ) -> None:
        """Return when allowed; raise AccessDenied, or AuthorizationUnavailable (D6)."""
        ...


# --- peer services (upstream.md §3-§5) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Room:
    """A room as the event or conference service answers it (only what we read)."""

    id: UUID
    time: WireTime
    tags: JsonValue = None


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """An element of `event.list` (host and pin events)."""

    id: UUID
    room_id: UUID
    kind: Literal["host", "pin"]
    set: str
    label: str | None
    agent_id: str | None
    occurred_at: int  # ns since the room opened
    created_by: str
    created_at: int  # unix ms


@dataclass(frozen=True, slots=True)
class WriterConfigSnapshot:
    rtc_id: UUID
    send_video: bool | None
    send_audio: bool | None
    created_at: int  # unix ms


class EventService(Protocol):
    """The event service's room and event methods (upstream.md §3)."""

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        preserve_history: bool,
        tags: JsonValue,
        classroom_id: UUID,
        kind: str,
    ) -> Room: ...

    async def update_room(self, *, room_id: UUID, time: WireTime) -> Room: ...

    async def lock_types(self, *, room_id: UUID, locked_types: Mapping[str, bool]) -> Room: ...

    async def read_room(self, *, room_id: UUID) -> Room: ...

    async def adjust_room(
        self, *, room_id: UUID, started_at: int, segments: Sequence[Sequence[int]], offset: int
    ) -> None: ...

    async def commit_edition(self, *, edition_id: UUID, offset: int) -> None: ...

    async def dump_events(self, *, room_id: UUID) -> None: ...

    async def list_events(
        self,
        *,
        room_id: UUID,
        kind: Literal["host", "pin"],
        last_occurred_at: int | None = None,
        limit: int = 100,
    ) -> list[RoomEvent]: ...

    async def create_event(self, *, event: JsonObject) -> JsonObject:
        """`event.create` with the event object as given (it carries `room_id`)."""
        ...


class ConferenceService(Protocol):
    """The conference service's methods (upstream.md §4)."""

    async def create_room(
        self,
        *,
        audience: str,
        time: WireTime,
        rtc_sharing_policy: str,
        reserve: int | None,
        tags: JsonValue,
        classroom_id: UUID,
    ) -> Room: ...

    async def update_room(
        self, *, room_id: UUID, time: WireTime | None, reserve: int | None, host: str | None
    ) -> None: ...

    async def read_writer_config_snapshots(
        self, *, room_id: UUID
    ) -> list[WriterConfigSnapshot]: ...


class TaskQueue(Protocol):
    """tq's task creation over HTTP (upstream.md §5.1)."""

    async def create_task(
        self, *, audience: str, task_id: str, classroom_id: UUID, task: JsonObject
    ) -> None:
        """POST the task body (audience, tags, priority, template, bindings); success is 200."""
        ...


class Notifier(Protocol):
    """Broadcasts the service's own events to the platform (upstream.md §1.4, §1.5)."""

    async def notify(self, *, audience: str, label: str, payload: JsonObject) -> None:
        """Publish a `type=event` message with `label` to the audience's events topic (QoS 1)."""
        ...


class LessonSimulator(Protocol):
    """The sandbox's stand-in for a lesson that took place (only with `upstream = "sandbox"`)."""

    async def finish(self, minigroup: Minigroup, participants: int) -> None:
        """The conference closes the room and uploads `participants` recordings."""
        ...
