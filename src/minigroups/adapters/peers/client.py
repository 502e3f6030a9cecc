"""What both svc-agent peer clients share: one request with the client's peer and timeout."""

from __future__ import annotations

from collections.abc import Collection

from minigroups.adapters.peers.answers import check_status
from minigroups.adapters.peers.transport import Requester
from minigroups.domain.json_value import JsonObject, JsonValue


class PeerClient:
    """Sends to one peer account; subclasses name the `service` in their errors."""

    service = "peer"

    def __init__(
        self, requester: Requester, *, account_id: str, api_version: str = "v1", timeout: float
    ) -> None:
        self._requester = requester
        self._account_id = account_id
        self._api_version = api_version
        self._timeout = timeout

    async def _call(self, method: str, payload: JsonObject, expected: Collection[int]) -> JsonValue:
        """The answer's payload when its status is expected (D8); UpstreamFailed otherwise."""
        answer = await self._requester.request(
            peer=self._account_id,
            api_version=self._api_version,
            method=method,
            payload=payload,
            timeout=self._timeout,
        )
        check_status(answer, expected, self.service, method)
        return answer.payload
