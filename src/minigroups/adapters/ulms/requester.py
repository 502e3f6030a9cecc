"""`MqttRequester`: the peer clients' `Requester` over the agent; agent errors become
`UpstreamFailed` here (TIMEOUT, UNAVAILABLE, MALFORMED)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.ulms.envelope import Envelope, status_of
from minigroups.adapters.ulms.errors import (
    BrokerUnavailable,
    MalformedEnvelope,
    MessageTooLarge,
    RequestTimedOut,
)
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonObject, JsonValue


class RequestingAgent(Protocol):
    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonValue,
        timeout: float,  # noqa: ASYNC109 - the Requester contract carries it
    ) -> Envelope: ...


class MqttRequester:
    """`adapters.peers.transport.Requester` over an MQTT agent.

    `services` names the peer accounts in errors (`event`, `conference`); an unnamed account is
    named by its id.
    """

    def __init__(self, agent: RequestingAgent, *, services: Mapping[str, str]) -> None:
        self._agent = agent
        self._services = dict(services)

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonObject,
        timeout: float,  # noqa: ASYNC109 - the Requester contract carries it
    ) -> Answer:
        service = self._services.get(peer, peer)
        try:
            response = await self._agent.request(
                peer=peer, api_version=api_version, method=method, payload=payload, timeout=timeout
            )
            return Answer(status_of(response), response.body())
        except RequestTimedOut as exc:
            kind, detail = UpstreamFailureKind.TIMEOUT, f"no answer within {timeout}s"
            raise UpstreamFailed(kind, service, method, detail) from exc
        except BrokerUnavailable as exc:
            raise UpstreamFailed(
                UpstreamFailureKind.UNAVAILABLE, service, method, str(exc)
            ) from exc
        except MalformedEnvelope as exc:
            detail = f"unreadable {method} answer: {exc}"
            raise UpstreamFailed(UpstreamFailureKind.MALFORMED, service, method, detail) from exc
        except MessageTooLarge as exc:
            # Nothing was sent; not the caller's fault, and no peer answered: a 502 like REJECTED.
            raise UpstreamFailed(UpstreamFailureKind.REJECTED, service, method, str(exc)) from exc
