"""The sandbox: the three in-process peers, one clock, a call log and failure injection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox.conference_peer import SandboxConferencePeer
from minigroups.adapters.sandbox.event_peer import SandboxEventPeer
from minigroups.adapters.sandbox.tq import TQ_METHOD, SandboxTq
from minigroups.domain.json_value import JsonObject, JsonValue

EVENT = "event"
CONFERENCE = "conference"
TQ = "tq"
DEFAULT_AGENT_ID = "sandbox.dispatcher.svc.example.org"

KNOWN_METHODS: dict[str, frozenset[str]] = {
    EVENT: frozenset(
        {
            "room.create",
            "room.read",
            "room.update",
            "room.locked_types",
            "room.adjust",
            "room.dump_events",
            "edition.commit",
            "event.create",
            "event.list",
        }
    ),
    CONFERENCE: frozenset(
        {"room.create", "room.read", "room.update", "writer_config_snapshot.read"}
    ),
    TQ: frozenset({TQ_METHOD}),
}


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


class Sandbox:
    """Owns the peers and decides, per call, whether a peer answers, errs or stays silent."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        agent_id: str = DEFAULT_AGENT_ID,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or _utc_now
        self.event = SandboxEventPeer(self.clock, agent_id=agent_id)
        self.conference = SandboxConferencePeer(self.clock, agent_id=agent_id)
        self.tq = SandboxTq()
        self.calls: list[SandboxCall] = []
        self._failures: dict[tuple[str, str], Failure] = {}
        self._down: set[str] = set()

    # --- failure injection --------------------------------------------------------------------

    def fail(
        self,
        service: str,
        method: str,
        *,
        status: int = 422,
        problem: JsonObject | None = None,
        times: int | None = None,
    ) -> None:
        """Answer `method` with `status` and an error object (`times` calls, or until reset)."""
        _check(service, method)
        if problem is None:
            problem = {
                "type": "sandbox_failure",
                "title": "Injected failure",
                "detail": f"{service} {method} failed on purpose",
            }
        self._failures[service, method] = Failure(False, status, dict(problem), times)

    def silence(self, service: str, method: str, *, times: int | None = None) -> None:
        """Never answer `method`: the caller waits out its timeout."""
        _check(service, method)
        self._failures[service, method] = Failure(True, remaining=times)

    def outage(self, service: str) -> None:
        """The transport to `service` is down: calls fail at once and never reach the peer."""
        _check(service, None)
        self._down.add(service)

    def restore(self, service: str) -> None:
        self._down.discard(service)

    def reset_failures(self) -> None:
        self._failures.clear()
        self._down.clear()

    # --- used by the transports ---------------------------------------------------------------

    def is_down(self, service: str) -> bool:
        return service in self._down

    def take_failure(self, service: str, method: str) -> Failure | None:
        """The failure injected for this call, if any, counting it against `times`."""
        failure = self._failures.get((service, method))
        if failure is None:
            return None
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self._failures[service, method]
        return failure

    def record(self, call: SandboxCall) -> None:
        self.calls.append(call)

    def calls_to(self, service: str, method: str | None = None) -> list[SandboxCall]:
        """The logged calls to a service (and method), in order."""
        return [
            call
            for call in self.calls
            if call.service == service and (method is None or call.method == method)
        ]


def _check(service: str, method: str | None) -> None:
    methods = KNOWN_METHODS.get(service)
    if methods is None:
        raise ValueError(f"unknown sandbox service {service!r}")
    if method is not None and method not in methods:
        raise ValueError(f"unknown {service} method {method!r}")
