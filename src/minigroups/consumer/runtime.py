"""The pipeline of one process: intake into the inbox, the inbox worker, the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from minigroups.consumer.intake import record_event
from minigroups.consumer.loops import InboxWorker, LoopOptions, OutboxRelay
from minigroups.services.context import Context

SHARED_GROUP = "loadbalancer"


def lifecycle_topics(
    own_account_id: str, peers: list[tuple[str, str]], tenants: list[str]
) -> list[str]:
    """The shared subscriptions of upstream.md §1.4: each peer's events for each tenant."""
    group = f"{SHARED_GROUP}.{own_account_id}"
    return [
        f"$share/{group}/apps/{account}/api/{version}/audiences/{tenant}/events"
        for tenant in tenants
        for account, version in peers
    ]


class PipelineRuntime:
    """Started with the app and stopped with it; `receive` is what subscriptions call."""

    def __init__(self, ctx: Context, options: LoopOptions) -> None:
        self.ctx = ctx
        self.relay = OutboxRelay(ctx, options)
        self.worker = InboxWorker(ctx, options, after_handled=self.relay.wake)
        self._tasks: list[asyncio.Task[None]] = []

    async def receive(self, topic: str, properties: Mapping[str, str], payload: str) -> None:
        """Record the event durably; returning is the permission to acknowledge it (D18)."""
        if await record_event(self.ctx, topic, properties, payload):
            self.worker.wake()

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
