"""What the log lines of the current task are about (issue 11): key-values held in structlog's
context variables, which the logging setup adds to every line of the task.

The HTTP layer binds `request_id` (and `account` once authenticated) for each request; a pipeline
handler binds `minigroup_id` once it knows the minigroup. The MQTT agent reads the request id
into the tracking properties of the requests it sends (adapters/ulms/tracking.py).
"""

from __future__ import annotations

import random
from uuid import UUID

import structlog

REQUEST_ID = "request_id"
ACCOUNT = "account"
MINIGROUP_ID = "minigroup_id"
# A version-4 UUID's fixed bits: the version nibble (4) and the variant's two bits (10).
_UUID4_CLEAR = ~(0xF000 << 64 | 0xC000 << 48)
_UUID4_SET = 0x4000 << 64 | 0x8000 << 48


def new_request_id() -> str:
    """A random version-4 UUID's text, drawn from `random` (seeded from the system's source at
    start and again in a forked child) rather than `uuid.uuid4`'s `os.urandom`: a request id
    needs to be distinct, not secret, and the system call cost 2% of a read (issue 12)."""
    text = f"{random.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def current_request_id() -> str | None:
    """The id of the HTTP request this task is serving, if any."""
    value = structlog.contextvars.get_contextvars().get(REQUEST_ID)
    return value if isinstance(value, str) else None


def about_minigroup(minigroup_id: UUID) -> None:
    """The rest of this task's log lines (a pipeline item's outcome included) name the minigroup."""
    structlog.contextvars.bind_contextvars(**{MINIGROUP_ID: str(minigroup_id)})
