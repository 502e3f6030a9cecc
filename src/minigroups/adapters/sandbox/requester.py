"""The in-process `Requester`: routes requests to the sandbox peers as a broker would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox.sandbox import CONFERENCE, EVENT, Sandbox, SandboxCall
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonObject, JsonValue

PEER_API_VERSION = "v1"
Handle = Callable[[str, JsonObject], Answer]


class InProcessRequester:
    """`Requester` over the sandbox, with the failures a test injects into it.

    Payloads travel as JSON text both ways, so a value that could not cross the wire fails here
    too and neither side can mutate the other's objects. A request to an account no peer serves,
    or with an api version other than v1, is never answered (nobody subscribes to its topic).
    """

    def __init__(
        self, sandbox: Sandbox, *, event_account_id: str, conference_account_id: str
    ) -> None:
        self._sandbox = sandbox
        self._routes: dict[str, tuple[str, Handle]] = {
            event_account_id: (EVENT, sandbox.event.handle),
            conference_account_id: (CONFERENCE, sandbox.conference.handle),
        }

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonObject,
        timeout: float,  # noqa: ASYNC109 - the Requester contract carries it
    ) -> Answer:
        service, handle = self._routes.get(peer, (peer, None))
        if self._sandbox.is_down(service):
            raise UpstreamFailed(
                UpstreamFailureKind.UNAVAILABLE, service, method, f"sandbox outage of {service}"
            )
        sent = _over_the_wire(payload)
        try:
            async with asyncio.timeout(timeout):
                if handle is None or api_version != PEER_API_VERSION:
                    await _never()
                return await self._exchange(service, handle, method, sent)
        except TimeoutError as exc:
            raise UpstreamFailed(
                UpstreamFailureKind.TIMEOUT, service, method, f"no answer within {timeout}s"
            ) from exc

    async def _exchange(
        self, service: str, handle: Handle | None, method: str, sent: JsonObject
    ) -> Answer:
        failure = self._sandbox.intercept(SandboxCall(service, method, sent))
        if failure is not None and failure.silent:
            await _never()
        await asyncio.sleep(0)  # answers arrive later, as from a broker
        if failure is not None:
            answer = failure.answer()
        elif handle is None:  # no peer serves the account: the request waited out its timeout
            await _never()
            raise AssertionError("unreachable")
        else:
            answer = handle(method, sent)
            if await self._sandbox.restore_room_of(answer, sent):  # a restarted sandbox
                answer = handle(method, sent)
        return Answer(answer.status, _over_the_wire(answer.payload))


async def _never() -> None:
    await asyncio.get_running_loop().create_future()


def _over_the_wire(value: JsonValue) -> JsonValue:
    return json.loads(json.dumps(value))
