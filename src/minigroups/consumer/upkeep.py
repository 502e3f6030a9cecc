"""The pipeline's upkeep in the background: claims of dead incarnations back at start, old
handled events and sent effects purged in small batches (`[pipeline] retention_days`), and the
backlog gauges refreshed (`[pipeline] gauge_interval_seconds`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from minigroups.ports import Owner
from minigroups.services.context import Context
from minigroups.services.outage import Backoff, Outage
from minigroups.services.upkeep import (
    purge_deliveries,
    purge_settled,
    reclaim_earlier_claims,
    refresh_gauges,
)

log = logging.getLogger(__name__)

RECLAIM_RETRY_SECONDS = 1.0  # while the database is unavailable at start
PAUSE_BETWEEN_BATCHES = 0.05  # lets other writers in between two purge transactions


async def purge_in_batches(purge_batch: Callable[[], Awaitable[int]]) -> int:
    """`purge_batch()` (one transaction, how many rows it deleted) until it deletes none, with a
    pause between batches; how many rows in all."""
    total = 0
    while purged := await purge_batch():
        total += purged
        await asyncio.sleep(PAUSE_BETWEEN_BATCHES)
    return total


@dataclass(frozen=True, slots=True)
class PurgeOptions:
    retention: timedelta = timedelta(days=7)  # handled and sent rows older than this go
    interval: float = 600.0  # seconds between two purges
    batch: int = 500  # rows per table per transaction
    gauge_interval: float = 15.0  # seconds between two refreshes of the backlog gauges
    deliveries: timedelta = timedelta(days=30)  # settled webhook deliveries older than this go


class Upkeep:
    """Run by the pipeline runtime from start to stop."""

    def __init__(
        self,
        ctx: Context,
        owner: Owner,
        purge: PurgeOptions,
        *,
        on_reclaimed: Callable[[], None] = lambda: None,
    ) -> None:
        self.ctx = ctx
        self.owner = owner
        self.purge = purge
        self._on_reclaimed = on_reclaimed
        interval = purge.gauge_interval
        self._gauges = Outage("pipeline: refreshing gauges", Backoff(interval, interval), log)

    async def run(self) -> None:
        gauges = asyncio.create_task(self.refresh_gauges_forever(), name="pipeline-gauges")
        try:
            await self.reclaim()
            while True:
                await self._purge_safely()
                await asyncio.sleep(self.purge.interval)
        finally:
            gauges.cancel()
            await asyncio.gather(gauges, return_exceptions=True)

    async def refresh_gauges_forever(self) -> None:
        """Every `gauge_interval` seconds; a failure logs one line per attempt (no traceback for
        an unavailable database) and one when it works again."""
        while True:
            try:
                await refresh_gauges(self.ctx)
            except Exception as exc:  # noqa: BLE001 - the database may be down: next time
                await asyncio.sleep(self._gauges.failed(exc))
                continue
            self._gauges.recovered()
            await asyncio.sleep(self.purge.gauge_interval)

    async def reclaim(self) -> None:
        """Take back at once what this instance's earlier (dead) incarnations held, retrying
        until the database answers."""
        while True:
            try:
                released = await reclaim_earlier_claims(self.ctx, self.owner)
            except Exception as exc:  # noqa: BLE001 - the database may be down: try again
                log.warning("pipeline: taking back earlier claims failed: %s", exc)
                await asyncio.sleep(RECLAIM_RETRY_SECONDS)
            else:
                if released:
                    log.info("pipeline: took back %d items claimed before a restart", released)
                    self._on_reclaimed()
                return

    async def purge_once(self) -> int:
        """Purge everything past retention, a batch per table per transaction; how many rows."""
        now = self.ctx.clock.now()
        before = now - self.purge.retention
        total = await purge_in_batches(lambda: purge_settled(self.ctx, before, self.purge.batch))
        delivered_before = now - self.purge.deliveries
        return total + await purge_in_batches(
            lambda: purge_deliveries(self.ctx, delivered_before, self.purge.batch)
        )

    async def _purge_safely(self) -> None:
        try:
            purged = await self.purge_once()
        except Exception as exc:  # noqa: BLE001 - the database may be down: next time
            log.warning("pipeline: purging old rows failed: %s", exc)
        else:
            if purged:
                log.info(
                    "pipeline: purged %d handled events, sent effects and webhook deliveries",
                    purged,
                )
