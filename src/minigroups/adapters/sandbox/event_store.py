"""The sandbox event service's event table: event objects, `event.list` filters and paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from minigroups.adapters.sandbox import problems as p
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import from_unix, to_unix_ms

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class EventQuery:
    """The filters of one `event.list` request [peer]."""

    types: tuple[str, ...] | None = None
    set: str | None = None
    label: str | None = None
    attribute: str | None = None
    last_occurred_at: int | None = None
    backward: bool = False
    limit: int = MAX_LIMIT

    def matches(self, event: JsonObject) -> bool:
        if self.types is not None and event["type"] not in self.types:
            return False
        for key in ("set", "label", "attribute"):
            wanted = getattr(self, key)
            if wanted is not None and event.get(key) != wanted:
                return False
        last = self.last_occurred_at
        if last is None:
            return True
        occurred_at: int = event["occurred_at"]
        return occurred_at < last if self.backward else occurred_at > last


class EventStore:
    """Events per room, with `occurred_at` in ns since the room opened."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._events: dict[UUID, list[JsonObject]] = {}

    def of_room(self, room_id: UUID) -> list[JsonObject]:
        """The stored events of a room, in creation order."""
        return self._events.get(room_id, [])

    def build(
        self,
        room: JsonObject,
        *,
        type_: str,
        data: JsonValue,
        created_by: str,
        set_: str | None = None,
        label: str | None = None,
        attribute: str | None = None,
        occurred_at: int | None = None,
    ) -> JsonObject:
        """An event object as the event service serialises it (`label` omitted when null)."""
        now = self._clock()
        room_id = UUID(room["id"])
        if occurred_at is None:
            occurred_at = self._next_occurred_at(room, room_id, now)
        event: JsonObject = {"id": str(uuid4()), "room_id": str(room_id), "type": type_}
        event["set"] = type_ if set_ is None else set_
        if label is not None:
            event["label"] = label
        event.update(
            attribute=attribute,
            data=data,
            occurred_at=occurred_at,
            created_by=created_by,
            created_at=to_unix_ms(now),
            original_occurred_at=occurred_at,
            original_created_by=created_by,
            removed=False,
        )
        return event

    def keep(self, event: JsonObject) -> None:
        self._events.setdefault(UUID(event["room_id"]), []).append(event)

    def add(self, room: JsonObject, **fields: JsonValue) -> JsonObject:
        """Build and keep an event (see `build` for the fields)."""
        event = self.build(room, **fields)
        self.keep(event)
        return event

    def list(self, room_id: UUID, query: EventQuery) -> list[JsonObject]:
        """One page: ordered by (occurred_at, created_at), ascending unless backward."""
        found = [event for event in self.of_room(room_id) if query.matches(event)]
        found.sort(key=lambda e: (e["occurred_at"], e["created_at"]), reverse=query.backward)
        return found[: query.limit]

    def _next_occurred_at(self, room: JsonObject, room_id: UUID, now: datetime) -> int:
        # The real service measures ns since the opening; with a frozen sandbox clock that would
        # repeat, and forward paging (`occurred_at > last`) would skip events: keep it increasing.
        start = room["time"][0]
        elapsed = 0 if start is None else max(0, _nanoseconds(now - from_unix(start)))
        previous: list[int] = [event["occurred_at"] for event in self.of_room(room_id)]
        return max([elapsed, *(value + 1 for value in previous)])

    @staticmethod
    def parse_query(payload: JsonObject) -> EventQuery:
        """The filters of an `event.list` payload; a bad one is invalid_payload."""
        types = payload.get("type")
        if isinstance(types, str):
            types = [types]
        if types is not None and not (
            isinstance(types, list) and all(isinstance(t, str) for t in types)
        ):
            raise p.PeerProblem(p.INVALID_PAYLOAD, "`type` must be a string or a list of strings")
        direction = payload.get("direction", "forward")
        if direction not in ("forward", "backward"):
            raise p.PeerProblem(p.INVALID_PAYLOAD, "`direction` must be forward or backward")
        limit = p.optional_int(payload, "limit")
        if limit is not None and limit < 0:
            raise p.PeerProblem(p.INVALID_PAYLOAD, "`limit` must not be negative")
        return EventQuery(
            types=None if types is None else tuple(types),
            set=p.optional_str(payload, "set"),
            label=p.optional_str(payload, "label"),
            attribute=p.optional_str(payload, "attribute"),
            last_occurred_at=p.optional_int(payload, "last_occurred_at"),
            backward=direction == "backward",
            limit=MAX_LIMIT if limit is None else min(limit, MAX_LIMIT),
        )


def _nanoseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
