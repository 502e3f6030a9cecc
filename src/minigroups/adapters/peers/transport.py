"""The request/response seam between the peer clients and a transport (sandbox or MQTT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from minigroups.domain.json_value import JsonObject, JsonValue


@dataclass(frozen=True, slots=True)
class Answer:
    """A peer's response: the svc-agent `status` property and the decoded payload."""

    status: int
    payload: JsonValue


class Requester(Protocol):
    """Sends one request to a peer account and waits for its answer.

    Raises `UpstreamFailed(TIMEOUT)` when no answer arrives within `timeout` seconds and
    `UpstreamFailed(UNAVAILABLE)` when the transport is down. Statuses are never interpreted
    here: that is the clients' job (D8).
    """

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonObject,
        timeout: float,  # noqa: ASYNC109 - svc-agent's per-peer request timeout is part of it
    ) -> Answer: ...
