"""The sandbox: the three in-process peers, one clock, and the seam through which tests watch
and disturb their traffic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import problems as p
from minigroups.adapters.sandbox.conference_peer import SandboxConferencePeer
from minigroups.adapters.sandbox.event_peer import SandboxEventPeer
from minigroups.adapters.sandbox.tq import SandboxTq
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.timerange import to_unix

EVENT = "event"
CONFERENCE = "conference"
TQ = "tq"
DEFAULT_AGENT_ID = "sandbox.dispatcher.svc.example.org"


@dataclass(frozen=True, slots=True)
class SandboxCall:
    """One request that reached a sandbox peer: the payload exactly as sent (tq: the body)."""

    service: str
    method: str
    payload: JsonValue
    path: str | None = None  # tq only: the request path


@dataclass(slots=True)
class Failure:
    """An injected failure: an error answer, or no answer at all (`silent`)."""

    silent: bool
    status: int = 500
    problem: JsonObject = field(default_factory=dict)
    remaining: int | None = None  # None: until reset

    def answer(self) -> Answer:
        return Answer(self.status, dict(self.problem))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SandboxFaults(Protocol):
    """What a test passes in to watch the sandbox's traffic and disturb it.

    The production sandbox runs without one; the tests' `Faults` (tests/support/faults.py)
    keeps the call log and the injected failures.
    """

    def is_down(self, service: str) -> bool:
        """The transport to `service` is down: calls fail at once and never reach the peer."""
        ...

    def intercept(self, call: SandboxCall) -> Failure | None:
        """See a call as it reaches its peer; a failure replaces the peer's answer."""
        ...


class Sandbox:
    """Owns the peers, their clock and, in tests, the faults that disturb their traffic."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        agent_id: str = DEFAULT_AGENT_ID,
        faults: SandboxFaults | None = None,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.event = SandboxEventPeer(self.clock, agent_id=agent_id)
        self.conference = SandboxConferencePeer(self.clock, agent_id=agent_id)
        self.tq = SandboxTq()
        self._faults = faults
        # The stored minigroup that owns a room, if any (bootstrap connects it to the database).
        self.stored_minigroup: Callable[[UUID], Awaitable[Minigroup | None]] | None = None

    def restore_rooms(self, minigroup: Minigroup) -> None:
        """Recreate the rooms of a stored minigroup this sandbox does not know.

        The sandbox keeps its rooms in memory, so after a restart the minigroups in the database
        name rooms it never saw; they come back under their ids, as the service created them:
        the event room open since the creation, the conference room over the minigroup's time.
        """
        created = to_unix(minigroup.created_at)
        if minigroup.event_room_id not in self.event.rooms:
            self.event.add_room(
                audience=minigroup.audience,
                time=[created, None],
                classroom_id=minigroup.id,
                tags=minigroup.tags,
                room_id=minigroup.event_room_id,
            )
        if minigroup.conference_room_id not in self.conference.rooms:
            start = minigroup.time.start
            self.conference.add_room(
                audience=minigroup.audience,
                time=[created if start is None else to_unix(start), None],
                classroom_id=minigroup.id,
                reserve=minigroup.reserve,
                tags=minigroup.tags,
                room_id=minigroup.conference_room_id,
            )

    async def restore_room_of(self, answer: Answer, payload: JsonObject) -> bool:
        """After a `room_not_found` answer: restore the rooms of the stored minigroup that owns
        the payload's room (`id` or `room_id`); True when there was one, so ask again."""
        kind = answer.payload.get("type") if isinstance(answer.payload, dict) else None
        room = payload.get("room_id", payload.get("id"))
        if kind != p.ROOM_NOT_FOUND.type or self.stored_minigroup is None:
            return False
        try:
            room_id = UUID(str(room))
        except ValueError:
            return False
        minigroup = await self.stored_minigroup(room_id)
        if minigroup is None:
            return False
        self.restore_rooms(minigroup)
        return True

    def is_down(self, service: str) -> bool:
        return self._faults is not None and self._faults.is_down(service)

    def intercept(self, call: SandboxCall) -> Failure | None:
        """The failure that replaces this call's answer, if a test injected one."""
        return None if self._faults is None else self._faults.intercept(call)
