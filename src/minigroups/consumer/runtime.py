"""The pipeline of one process: intake into the inbox, the inbox worker, the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from minigroups.consumer.loops import InboxWorker, LoopOptions, OutboxRelay
from minigroups.services.context import Context
from minigroups.services.inbox import record_event
from minigroups.services.pipeline.events import LifecycleDecoder


class PipelineRuntime:
    """Started with the app and stopped with it; `receive` is what subscriptions call."""

    def __init__(self, ctx: Context, options: LoopOptions, decoder: LifecycleDecoder) -> None:
        self.ctx = ctx
        self.decoder = decoder
        self.relay = OutboxRelay(ctx, options)
        self.worker = InboxWorker(ctx, options, decoder, after_handled=self.relay.wake)
        self._tasks: list[asyncio.Task[None]] = []

    async def receive(self, topic: str, properties: Mapping[str, str], payload: str) -> None:
        """Record the event durably; returning is the permission to acknowledge it (D18)."""
        if await self.record(topic, properties, payload):
            self.worker.wake()

    async def record(self, topic: str, properties: Mapping[str, str], payload: str) -> bool:
        """True when the event is new; labels the pipeline does not handle are not recorded."""
        label = properties.get("label")
        if label not in self.decoder.labels:
            return False
        return await record_event(self.ctx, topic, label, properties, payload)

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self.worker.run(), name="inbox-worker"),
                asyncio.create_task(self.relay.run(), name="outbox-relay"),
            ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
