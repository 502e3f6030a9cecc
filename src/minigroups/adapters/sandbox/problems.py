"""Error answers and payload validation shared by the sandbox peers.

Error objects follow the peers' svc-error form `{"type", "title", "detail"}` with the status and
kind/title pairs of the event and conference services' error tables (contract.md upstream §1.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from minigroups.adapters.peers.transport import Answer
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.timerange import from_unix

WireBounds = tuple[int, int | None]


@dataclass(frozen=True, slots=True)
class Kind:
    """One row of a peer's error table."""

    status: int
    type: str
    title: str


INVALID_PAYLOAD = Kind(400, "invalid_payload", "Invalid payload")
INVALID_ROOM_TIME = Kind(400, "invalid_room_time", "Invalid room time")
ROOM_NOT_FOUND = Kind(404, "room_not_found", "Room not found")
ROOM_CLOSED = Kind(404, "room_closed", "Room closed")
TIME_CHANGE_FORBIDDEN = Kind(422, "room_time_changing_forbidden", "Room time changing forbidden")
UNKNOWN_METHOD = Kind(405, "unknown_method", "Unknown method")
EDITION_NOT_FOUND = Kind(404, "edition_not_found", "Edition not found")


class PeerProblem(Exception):
    """Raised inside a sandbox handler to answer with an error object."""

    def __init__(self, kind: Kind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail

    def to_answer(self) -> Answer:
        return problem_answer(self.kind.status, self.kind.type, self.kind.title, self.detail)


def problem_answer(status: int, type_: str, title: str, detail: str) -> Answer:
    return Answer(status, {"type": type_, "title": title, "detail": detail})


def require(payload: JsonObject, key: str) -> Any:
    if key not in payload:
        raise PeerProblem(INVALID_PAYLOAD, f"missing field `{key}`")
    return payload[key]


def require_str(payload: JsonObject, key: str) -> str:
    value = require(payload, key)
    if not isinstance(value, str):
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be a string")
    return value


def optional_str(payload: JsonObject, key: str) -> str | None:
    value = payload.get(key)
    if value is not None and not isinstance(value, str):
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be a string or null")
    return value


def is_int(value: JsonValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional_int(payload: JsonObject, key: str) -> int | None:
    value = payload.get(key)
    if value is not None and not is_int(value):
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be an integer or null")
    return value


def require_int(payload: JsonObject, key: str) -> int:
    value = optional_int(payload, key)
    if value is None:
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be an integer")
    return value


def require_uuid(payload: JsonObject, key: str) -> UUID:
    value = require(payload, key)
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be a UUID string")


def optional_bool(payload: JsonObject, key: str, default: bool) -> bool:
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be a boolean")
    return value


def parse_wire_time(value: JsonValue, key: str = "time") -> tuple[int | None, int | None]:
    """A `[start, end]` pair of integer seconds or nulls; anything else is invalid_payload."""
    if not isinstance(value, list) or len(value) != 2:
        raise PeerProblem(INVALID_PAYLOAD, f"`{key}` must be an array of two members")
    start, end = value
    for bound in (start, end):
        if bound is not None and not is_int(bound):
            raise PeerProblem(INVALID_PAYLOAD, f"`{key}` members must be integers or null")
    return start, end


def room_time(value: JsonValue, key: str = "time") -> WireBounds:
    """A valid room time: a bounded start and an end after it, or no end."""
    start, end = parse_wire_time(value, key)
    if start is None or (end is not None and end <= start):
        raise PeerProblem(INVALID_ROOM_TIME, f"invalid room time {[start, end]}")
    return start, end


def has_closed(time: list[int | None], now: datetime) -> bool:
    """The room's end lies in the past."""
    end = time[1]
    return end is not None and from_unix(end) < now
