"""What the simulated peers put on the wire that the service itself never sends."""

from __future__ import annotations

from minigroups.adapters.ulms.envelope import Envelope, to_text
from minigroups.domain.json_value import JsonValue


def requests_filter(account_id: str) -> str:
    """What a peer subscribes to for requests from any agent."""
    return f"agents/+/api/+/out/{account_id}"


def response(*, status: int, correlation_data: str, body: JsonValue, timestamp: str) -> Envelope:
    """A response as the peers send it."""
    return Envelope(
        to_text(body),
        {
            "type": "response",
            "status": str(status),
            "correlation_data": correlation_data,
            "timestamp": timestamp,
        },
    )
