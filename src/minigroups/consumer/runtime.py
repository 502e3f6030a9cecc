"""The pipeline of one process: intake into the inbox, the inbox worker, the outbox relay, the
webhook sender, and their upkeep (claims of a dead incarnation taken back at start, old rows
purged)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from uuid import uuid4

from minigroups.consumer.batching import Batcher
from minigroups.consumer.loops import InboxWorker, LoopOptions, OutboxRelay
from minigroups.consumer.upkeep import PurgeOptions, Upkeep
from minigroups.consumer.webhooks import WebhookSender
from minigroups.domain.errors import DatabaseUnavailable
from minigroups.ports import Holding, InboxItem, Owner
from minigroups.services.context import Context
from minigroups.services.inbox import Received, record_and_claim, record_events
from minigroups.services.pipeline.events import LifecycleDecoder
from minigroups.services.upkeep import release_own_claims

log = logging.getLogger(__name__)

RECORD_RETRY_FIRST_SECONDS = 0.1
RECORD_RETRY_MAX_SECONDS = 2.0
RELEASE_TIMEOUT_SECONDS = 2.0


class PipelineRuntime:
    """Started with the app and stopped with it; `receive` is what subscriptions call."""

    def __init__(
        self,
        ctx: Context,
        options: LoopOptions,
        decoder: LifecycleDecoder,
        *,
        owner: Owner | None = None,
        purge: PurgeOptions | None = None,
        webhooks: LoopOptions | None = None,
    ) -> None:
        self.ctx = ctx
        self.decoder = decoder
        self.options = options
        self.owner = owner or Owner("local", uuid4())
        self.relay = OutboxRelay(ctx, options, owner=self.owner)
        self.webhooks = WebhookSender(ctx, webhooks or options, owner=self.owner)
        self.worker = InboxWorker(
            ctx, options, decoder, owner=self.owner, after_handled=self.relay.wake
        )
        self.upkeep = Upkeep(ctx, self.owner, purge or PurgeOptions(), on_reclaimed=self._wake)
        # Events that arrive together are recorded in one statement (a group commit).
        self._intake: Batcher[Received, bool] = Batcher(self._record)
        self._tasks: list[asyncio.Task[None]] = []

    async def receive(self, topic: str, properties: Mapping[str, str], payload: str) -> None:
        """Record the event durably; returning is the permission to acknowledge it (D18).

        While the database is unavailable the event is kept (unacknowledged) and recording is
        retried: a handler that gave up would leave it with the broker until the next reconnect.
        """
        delay = RECORD_RETRY_FIRST_SECONDS
        while True:
            try:
                await self.record(topic, properties, payload)
            except DatabaseUnavailable as exc:
                if delay == RECORD_RETRY_FIRST_SECONDS:  # one line per event, not per attempt
                    log.warning("pipeline: recording an event failed, retrying: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECORD_RETRY_MAX_SECONDS)
            else:
                break

    async def record(self, topic: str, properties: Mapping[str, str], payload: str) -> bool:
        """True when the event is new; labels the pipeline does not handle are not recorded."""
        label = properties.get("label")
        if label not in self.decoder.labels:
            return False
        return await self._intake.submit(Received(topic, label, properties, payload))

    async def _record(self, batch: Sequence[Received]) -> list[bool]:
        """Record a batch; as many new events as the worker has free slots for are claimed by
        the same statement and handed to it (no claim of their own, decisions.md "Pipeline
        throughput"); for any other new one the worker is woken to claim it."""
        slots = self.worker.reserve(len(batch))
        if not slots:
            new = await record_events(self.ctx, batch)
            held: list[InboxItem] = []
        else:
            holding = Holding(self.owner, self.worker.lease_end(), slots)
            try:
                new, held = await record_and_claim(self.ctx, batch, holding)
            except BaseException:
                self.worker.take([], slots)
                raise
            self.worker.take(held, slots)
        if sum(new) > len(held):
            self.worker.wake()
        return new

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self.worker.run(), name="inbox-worker"),
                asyncio.create_task(self.relay.run(), name="outbox-relay"),
                asyncio.create_task(self.webhooks.run(), name="webhook-sender"),
                asyncio.create_task(self.upkeep.run(), name="pipeline-upkeep"),
            ]

    def begin_stop(self) -> None:
        """Claim nothing more; the items in flight get `grace` seconds to finish (a graceful
        shutdown calls this as soon as it starts, while HTTP requests are still completing)."""
        self.worker.stop()
        self.relay.stop()
        self.webhooks.stop()

    async def stop(self) -> None:
        """Stop the loops, then release what this process still holds for the other instances."""
        self.begin_stop()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        loops, upkeep = tasks[:3], tasks[3:]
        for task in upkeep:
            task.cancel()
        await asyncio.wait(loops, timeout=self.options.grace + 1)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._release()

    async def _release(self) -> None:
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT_SECONDS):
                released = await release_own_claims(self.ctx, self.owner)
        except Exception as exc:  # noqa: BLE001 - the leases then run out instead
            log.warning("pipeline: releasing claims at stop failed: %s", exc)
        else:
            if released:
                log.info("pipeline: released %d claimed items for other instances", released)

    def _wake(self) -> None:
        self.worker.wake()
        self.relay.wake()
        self.webhooks.wake()
