"""Readiness: can this instance serve? The database answers, and (ulms) the broker is connected.

The answer names each dependency as "up" or "down", never where it lives (hosts stay out of a
body that anyone may read without a token). Why a dependency is down is in the log lines of the
background loops, which meet the same outage.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from minigroups.domain.errors import MinigroupsError
from minigroups.services.context import Context

log = logging.getLogger(__name__)

# A database slower than this to answer `SELECT 1` counts as down (probes time out around 1-5 s).
PING_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Readiness:
    """Each dependency: True when up; `broker` is None when the instance needs none."""

    database: bool
    broker: bool | None = None

    @property
    def ready(self) -> bool:
        return self.database and self.broker is not False

    def report(self) -> dict[str, str]:
        """`{"status": "ready"|"unready", "database": "up"|"down"[, "broker": ...]}`."""
        body = {"status": "ready" if self.ready else "unready", "database": _state(self.database)}
        if self.broker is not None:
            body["broker"] = _state(self.broker)
        return body


async def check_readiness(ctx: Context, *, timeout: float = PING_TIMEOUT_SECONDS) -> Readiness:  # noqa: ASYNC109
    broker = None if ctx.broker is None else ctx.broker.connected
    return Readiness(database=await _database_answers(ctx, timeout), broker=broker)


async def _database_answers(ctx: Context, timeout: float) -> bool:  # noqa: ASYNC109
    """A database that is unreachable, refuses connections or fails `SELECT 1` is down."""
    try:
        async with asyncio.timeout(timeout):
            await ctx.store.ping()
    except (MinigroupsError, TimeoutError) as exc:
        log.debug("readiness: the database is down: %s", exc)
        return False
    return True


def _state(up: bool) -> str:
    return "up" if up else "down"
