"""What the log lines of the current task are about (issue 11): key-values held in structlog's
context variables, which the logging setup adds to every line of the task.

The HTTP layer binds `request_id` (and `account` once authenticated) for each request; a pipeline
handler binds `minigroup_id` once it knows the minigroup. The MQTT agent reads the request id
into the tracking properties of the requests it sends (adapters/ulms/tracking.py).
"""

from __future__ import annotations

from uuid import UUID

import structlog

REQUEST_ID = "request_id"
ACCOUNT = "account"
MINIGROUP_ID = "minigroup_id"


def current_request_id() -> str | None:
    """The id of the HTTP request this task is serving, if any."""
    value = structlog.contextvars.get_contextvars().get(REQUEST_ID)
    return value if isinstance(value, str) else None


def about_minigroup(minigroup_id: UUID) -> None:
    """The rest of this task's log lines (a pipeline item's outcome included) name the minigroup."""
    structlog.contextvars.bind_contextvars(**{MINIGROUP_ID: str(minigroup_id)})
