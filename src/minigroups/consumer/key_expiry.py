"""Expired idempotency keys purged in the background, in small batches (`[idempotency]`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from minigroups.consumer.upkeep import purge_in_batches
from minigroups.services.context import Context
from minigroups.services.idempotency import purge_expired_keys

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyExpiryOptions:
    interval: float = 300.0  # seconds between two purges
    batch: int = 500  # keys deleted per transaction


class KeyExpiry:
    """Run by the container from start to close. An expired key is ignored (taken over by its
    next request) before it is purged: the purge only keeps the table small."""

    def __init__(self, ctx: Context, options: KeyExpiryOptions) -> None:
        self.ctx = ctx
        self.options = options

    async def run(self) -> None:
        while True:
            await self._purge_safely()
            await asyncio.sleep(self.options.interval)

    async def purge_once(self) -> int:
        """Purge every key expired by now, a batch per transaction; how many."""
        now = self.ctx.clock.now()
        return await purge_in_batches(lambda: purge_expired_keys(self.ctx, now, self.options.batch))

    async def _purge_safely(self) -> None:
        try:
            purged = await self.purge_once()
        except Exception as exc:  # noqa: BLE001 - the database may be down: next time
            log.warning("idempotency: purging expired keys failed: %s", exc)
        else:
            if purged:
                log.info("idempotency: purged %d expired keys", purged)
