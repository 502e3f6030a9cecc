"""The call log and failure injection that tests pass into the sandbox (`Sandbox(faults=...)`)."""

from __future__ import annotations

from minigroups.adapters.sandbox.sandbox import CONFERENCE, EVENT, TQ, Failure, SandboxCall
from minigroups.adapters.sandbox.tq import TQ_METHOD
from minigroups.domain.json_value import JsonObject

KNOWN_METHODS: dict[str, frozenset[str]] = {
    EVENT: frozenset(
        {
            "room.create",
            "room.read",
            "room.update",
            "room.locked_types",
            "room.adjust",
            "room.dump_events",
            "edition.create",
            "edition.list",
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


class Faults:
    """Records every call that reaches a sandbox peer and decides whether it answers, errs or
    stays silent; an outage makes the transport to a service fail at once."""

    def __init__(self) -> None:
        self.calls: list[SandboxCall] = []
        self._failures: dict[tuple[str, str], Failure] = {}
        self._down: set[str] = set()

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

    def calls_to(self, service: str, method: str | None = None) -> list[SandboxCall]:
        """The logged calls to a service (and method), in order."""
        return [
            call
            for call in self.calls
            if call.service == service and (method is None or call.method == method)
        ]

    # --- the SandboxFaults protocol -------------------------------------------------------------

    def is_down(self, service: str) -> bool:
        return service in self._down

    def intercept(self, call: SandboxCall) -> Failure | None:
        """Log the call; the failure injected for it, if any, counting it against `times`."""
        self.calls.append(call)
        key = (call.service, call.method)
        failure = self._failures.get(key)
        if failure is None:
            return None
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self._failures[key]
        return failure


def _check(service: str, method: str | None) -> None:
    methods = KNOWN_METHODS.get(service)
    if methods is None:
        raise ValueError(f"unknown sandbox service {service!r}")
    if method is not None and method not in methods:
        raise ValueError(f"unknown {service} method {method!r}")
