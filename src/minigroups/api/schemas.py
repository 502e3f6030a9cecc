"""Request bodies as the public contract states them, and their conversion to use-case inputs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from minigroups.domain.errors import InvalidPayload
from minigroups.domain.ids import AgentId
from minigroups.domain.tasks import Priority, parse_priority
from minigroups.domain.timerange import TimeRange
from minigroups.ports import MinigroupChanges
from minigroups.services.minigroups import CreateMinigroup
from minigroups.services.rooms import Locks

Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


def _time(value: Any) -> TimeRange | None:
    """Absent or null is "not provided"; anything else must be a valid pair (D7)."""
    return None if value is None else TimeRange.parse(value, "time")


class CreateBody(msgspec.Struct):
    """R9. `host` of the old docs is ignored, like every unknown member."""

    scope: str
    audience: str
    time: Any = None
    tags: Any = None
    properties: dict[str, Any] = {}
    reserve: Int32 | None = None
    locked_chat: bool = True
    locked_questions: bool = True

    def to_request(self) -> CreateMinigroup:
        return CreateMinigroup(
            scope=self.scope,
            audience=self.audience,
            time=_time(self.time) or TimeRange.unbounded(),
            tags=self.tags,
            properties=self.properties,
            reserve=self.reserve,
            locks=Locks(chat=self.locked_chat, questions=self.locked_questions),
        )


class UpdateBody(msgspec.Struct):
    """R2/R4: every member optional; null means "keep"."""

    time: Any = None
    reserve: Int32 | None = None
    host: str | None = None

    def to_changes(self) -> MinigroupChanges:
        if self.host is not None:
            try:
                AgentId.parse(self.host)
            except ValueError as exc:
                raise InvalidPayload(f"`host` must be an agent id: {exc}") from exc
        return MinigroupChanges(time=_time(self.time), reserve=self.reserve, host=self.host)


class RecreateBody(msgspec.Struct):
    """R8: an omitted time makes the minigroup unbounded, as the reference documents."""

    time: Any = None
    locked_chat: bool = True
    locked_questions: bool = True

    def time_range(self) -> TimeRange:
        return _time(self.time) or TimeRange.unbounded()

    def locks(self) -> Locks:
        return Locks(chat=self.locked_chat, questions=self.locked_questions)


class PositionBody(msgspec.Struct):
    """R5: any non-negative JSON integer, however large (clamped later, D10)."""

    position: Any

    def seconds(self) -> int:
        value = self.position
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidPayload("`position` must be a non-negative integer")
        return value


def event_object(value: Any) -> dict[str, Any]:
    """R11: an object, or null meaning `{}`; any other JSON is refused (D9)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidPayload("the event must be a JSON object")
    return value


class RestartBody(msgspec.Struct):
    """R13: optional; an unknown priority is refused instead of becoming `normal` (D12)."""

    priority: Any = "normal"

    def parsed_priority(self) -> Priority:
        return parse_priority(self.priority)
