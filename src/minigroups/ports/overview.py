"""Counts over the whole database for operators: the queues' backlog and minigroups by stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

# The pipeline stages a minigroup is counted in (`minigroups_by_stage`), in pipeline order.
STAGES: Final = ("real_time", "closed", "finished", "adjusted", "transcoded")


@dataclass(frozen=True, slots=True)
class Backlog:
    """A queue's rows still waiting: pending ones (and the oldest's arrival), dead letters."""

    pending: int
    dead: int
    oldest_pending_at: datetime | None


class OverviewRepository(Protocol):
    """Cheap aggregate reads (indexed by status), refreshed every few seconds for /metrics."""

    async def inbox_backlog(self) -> Backlog:
        """Pending and dead inbox events; the oldest pending one by `received_at`."""
        ...

    async def outbox_backlog(self) -> Backlog:
        """Pending outbox messages (an outbox has no dead letters); oldest by `created_at`."""
        ...

    async def minigroups_by_stage(self, now: datetime) -> Mapping[str, int]:
        """Established minigroups per stage of `STAGES` (stages without any may be missing)."""
        ...
