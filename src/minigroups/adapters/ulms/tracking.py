"""The platform's tracking properties on the MQTT requests made while serving an HTTP request.

svc-agent's `tracking_id` is `<tracking label>.<agent session label>.<broker session label>`
(three UUIDs) and `session_tracking_label` a space-separated list of `<agent>.<broker>` session
ids. mqtt-gateway keeps a `tracking_id` that arrives with a `session_tracking_label` (and adds its
own session to the list); without one, it makes a new `tracking_id`. So both are sent, with the
request id as the tracking label: the peers then log and pass on the same id as our access line.
A request id that is a UUID (lower-case, hyphenated: what we generate) is the label itself; any
other is mapped to `uuid5(NAMESPACE_URL, request id)`.
"""

from __future__ import annotations

import functools
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from minigroups.services.trail import current_request_id


@functools.lru_cache(maxsize=256)  # a create asks three times, among other requests in flight
def tracking_label(request_id: str) -> str:
    """The UUID that stands for the request id in `tracking_id`."""
    try:
        if str(UUID(request_id)) == request_id:
            return request_id
    except ValueError:
        pass
    return str(uuid5(NAMESPACE_URL, request_id))


class Tracking:
    """One agent's session (two UUIDs made when it is built) and the current request's label."""

    def __init__(self) -> None:
        self.session = f"{uuid4()}.{uuid4()}"

    def properties(self) -> dict[str, str]:
        """`tracking_id` and `session_tracking_label` while an HTTP request is served, else none
        (the pipeline's own requests start no trail)."""
        request_id = current_request_id()
        if request_id is None:
            return {}
        return {
            "tracking_id": f"{tracking_label(request_id)}.{self.session}",
            "session_tracking_label": self.session,
        }
