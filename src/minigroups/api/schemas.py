"""Request bodies and query strings as the public contract states them, and their conversion to
use-case inputs.

Members that the routes read leniently (`time`, `position`, `priority`: their errors name the
field, D7) are `Any` to the decoder; `Meta(extra_json_schema=...)` tells the OpenAPI document
what they accept.
"""

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

_BOUND: dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
TimeInput = Annotated[
    Any,
    msgspec.Meta(
        description=(
            "[start, end): Unix seconds, start inclusive, end exclusive, start < end when both "
            "are bounded, years 1 to 9999; null bounds are unbounded. Absent or null: not given."
        ),
        extra_json_schema={
            "anyOf": [
                {"type": "array", "minItems": 2, "maxItems": 2, "items": _BOUND},
                {"type": "null"},
            ]
        },
    ),
]
AgentIdInput = Annotated[
    str | None,
    msgspec.Meta(description="An agent id `<agent label>.<account label>.<audience>`"),
]
PositionInput = Annotated[
    Any,
    msgspec.Meta(
        description="Seconds into the recording; values over 86400 are clamped (D10)",
        extra_json_schema={"type": "integer", "minimum": 0},
    ),
]
PriorityInput = Annotated[
    Any,
    msgspec.Meta(
        description="The transcoding task's priority (D12)",
        extra_json_schema={"type": "string", "enum": [p.value for p in Priority]},
    ),
]
# R11: a JSON object, or null meaning `{}`; read as any JSON and checked by `event_object` (D9).
EventBody = dict[str, Any] | None


def _time(value: Any) -> TimeRange | None:
    """Absent or null is "not provided"; anything else must be a valid pair (D7)."""
    return None if value is None else TimeRange.parse(value, "time")


class CreateBody(msgspec.Struct):
    """R9. `host` of the old docs is ignored, like every unknown member."""

    scope: str
    audience: str
    time: TimeInput = None
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

    time: TimeInput = None
    reserve: Int32 | None = None
    host: AgentIdInput = None

    def to_changes(self) -> MinigroupChanges:
        if self.host is not None:
            try:
                AgentId.parse(self.host)
            except ValueError as exc:
                raise InvalidPayload(f"`host` must be an agent id: {exc}") from exc
        return MinigroupChanges(time=_time(self.time), reserve=self.reserve, host=self.host)


class RecreateBody(msgspec.Struct):
    """R8: an omitted time makes the minigroup unbounded, as the reference documents."""

    time: TimeInput = None
    locked_chat: bool = True
    locked_questions: bool = True

    def time_range(self) -> TimeRange:
        return _time(self.time) or TimeRange.unbounded()

    def locks(self) -> Locks:
        return Locks(chat=self.locked_chat, questions=self.locked_questions)


class PositionBody(msgspec.Struct):
    """R5: any non-negative JSON integer, however large (clamped later, D10)."""

    position: PositionInput

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

    priority: PriorityInput = "normal"

    def parsed_priority(self) -> Priority:
        return parse_priority(self.priority)


class ReadQuery(msgspec.Struct):
    """R1/R3: which class and account properties to show (none listed: none shown).

    `class_keys[]=a&class_keys[]=b`; `class_keys=a`, `class_keys[0]=a` and `%5B%5D` work too
    (D27).
    """

    class_keys: list[str] = msgspec.field(name="class_keys[]", default_factory=list)
    account_keys: list[str] = msgspec.field(name="account_keys[]", default_factory=list)
