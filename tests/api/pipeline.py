"""Driving the recording pipeline in tests: deliver lifecycle events, let the loops settle."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from minigroups.adapters.sandbox.notifier import Notification, SandboxNotifier
from minigroups.consumer.intake import record_event
from minigroups.consumer.loops import InboxWorker, LoopOptions, OutboxRelay
from minigroups.domain.minigroup import Recording
from minigroups.services.context import Context
from tests.api.conftest import AUDIENCE, Api

ACCOUNTS = {
    "conference": "conference.svc.example.org",
    "event": "event.svc.example.org",
    "tq": "tq.svc.example.org",
}
NO_WAIT = LoopOptions(max_attempts=3, retry_base=0.0, retry_max=0.0, lease=30.0, poll=0.01)


@dataclass
class Pipeline:
    api: Api
    options: LoopOptions = NO_WAIT
    worker: InboxWorker = field(init=False)
    relay: OutboxRelay = field(init=False)

    def __post_init__(self) -> None:
        self.worker = InboxWorker(self.ctx, self.options)
        self.relay = OutboxRelay(self.ctx, self.options)

    @property
    def ctx(self) -> Context:
        return self.api.container.ctx

    async def deliver(
        self,
        label: str,
        payload: Any,
        *,
        source: str = "conference",
        audience: str = AUDIENCE,
        timestamp: str | None = None,
    ) -> bool:
        """An event as the broker hands it over; the same `timestamp` makes a redelivery."""
        topic = f"apps/{ACCOUNTS[source]}/api/v1/audiences/{audience}/events"
        properties = {"type": "event", "label": label, "timestamp": timestamp or _now_ms()}
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return await record_event(self.ctx, topic, properties, text)

    async def settle(self) -> None:
        """Run the inbox worker and the outbox relay until neither has anything due."""
        for _ in range(50):
            handled = await self.worker.run_once()
            sent = await self.relay.run_once()
            if not handled and not sent:
                return
        raise AssertionError("the pipeline did not settle")

    async def recordings(self, minigroup_id: str) -> list[Recording]:
        async with self.ctx.store.unit_of_work(read_only=True) as uow:
            return await uow.recordings.list_live(UUID(minigroup_id))

    @property
    def published(self) -> list[Notification]:
        notifier = self.api.container.notifier
        assert isinstance(notifier, SandboxNotifier)
        return notifier.published


_last_ms = 0


def _now_ms() -> str:
    """A fresh publish time per call (two calls in one millisecond still differ)."""
    global _last_ms  # noqa: PLW0603 - a monotonic counter for test events
    _last_ms = max(_last_ms + 1, int(time.time() * 1000))
    return str(_last_ms)


HOUR_MS = 3_600_000


def user(n: int) -> str:
    return f"web.user{n}.usr.example.org"


def ready_rtc(rtc_id: UUID, author: str) -> dict[str, Any]:
    return {
        "status": "ready",
        "id": str(rtc_id),
        "created_by": author,
        "uri": f"s3://origin.example.org/{rtc_id}.source.webm",
        "mjr_dumps_uris": [f"s3://dumps/{rtc_id}-1.mjr", f"s3://dumps/{rtc_id}-2.mjr"],
    }


def converted(
    minigroup: dict[str, Any], rtc_id: UUID, segments: str, **tags: Any
) -> dict[str, Any]:
    return {
        "tags": {**tags, "conference_room_id": minigroup["conference_room_id"]},
        "status": "success",
        "template": "convert-mjr-dumps-to-stream",
        "stream_id": str(rtc_id),
        "stream_uri": f"s3://streams/{rtc_id}.webm",
        "segments": segments,
    }


def segments_text(started_ms: int, *lines: tuple[int, str]) -> str:
    """`<unix ms>,<seconds>` lines; each line's offset is relative to `started_ms`."""
    return "\n".join(f"{started_ms + offset},{seconds}" for offset, seconds in lines)
