"""Driving the recording pipeline in tests: deliver lifecycle events, let the loops settle."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from minigroups.adapters.peers.lifecycle import LifecycleWire
from minigroups.adapters.sandbox.notifier import Notification, SandboxNotifier
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
        self.worker = InboxWorker(self.ctx, self.options, LifecycleWire())
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
        return await self.api.container.runtime.record(topic, properties, text)

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
        notifier = self.api.container.ctx.notifier
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


def host(api: Api, room_id: str, author: str) -> None:
    api.sandbox.event.add_event(
        UUID(room_id), type_="host", data={"agent_id": author}, created_by=author
    )


async def uploaded(pipeline: Pipeline, minigroup: dict[str, Any], rtcs: list[UUID]) -> None:
    payload = {
        "id": minigroup["conference_room_id"],
        "rtcs": [ready_rtc(rtc, user(n)) for n, rtc in enumerate(rtcs, start=1)],
    }
    assert await pipeline.deliver("room.upload", payload, audience=minigroup["audience"])
    await pipeline.settle()


async def recorded(pipeline: Pipeline, *, tags: Any = None) -> tuple[dict[str, Any], UUID, UUID]:
    """A minigroup with host rec1 (user1, started now-1h) and rec2 (user2, now-50min), converted."""
    api = pipeline.api
    minigroup = await api.create(scope="minigroup-abc", tags=tags)
    host(api, minigroup["event_room_id"], user(1))
    rtc1, rtc2 = uuid4(), uuid4()
    await uploaded(pipeline, minigroup, [rtc1, rtc2])
    now_ms = int(time.time() * 1000)
    text1 = segments_text(now_ms - HOUR_MS, (0, "1500.0"), (1_800_000, "1200.0"))
    text2 = segments_text(now_ms - 50 * 60_000, (0, "2700.0"))
    for rtc, text in ((rtc1, text1), (rtc2, text2)):
        await pipeline.deliver("task.complete", converted(minigroup, rtc, text), source="tq")
    await pipeline.settle()
    return minigroup, rtc1, rtc2


def modified_room(api: Api, minigroup: dict[str, Any], pins: list[tuple[int | None, int]]) -> UUID:
    """The room adjust made: opened an hour ago, closed 10 minutes ago, with host and pin events."""
    now = int(time.time())
    room = api.sandbox.event.add_room(
        audience=minigroup["audience"],
        time=[now - 3600, now - 600],
        classroom_id=UUID(minigroup["id"]),
        source_room_id=UUID(minigroup["event_room_id"]),
    )
    room_id = UUID(room["id"])
    host(api, room["id"], user(1))
    for agent, occurred_at in pins:
        api.sandbox.event.add_event(
            room_id,
            type_="pin",
            data={"agent_id": None if agent is None else user(agent)},
            created_by=user(1),
            occurred_at=occurred_at,
        )
    return room_id


def adjusted(minigroup: dict[str, Any], original: UUID, modified: UUID) -> dict[str, Any]:
    return {
        "room_id": minigroup["event_room_id"],
        "status": "success",
        "tags": {"foo": "bar"},
        "original_room_id": str(original),
        "modified_room_id": str(modified),
        "modified_segments": [[0, 2_697_000]],
        "cut_original_segments": [[3000, 1_500_000], [1_800_000, 3_000_000]],
    }


@dataclass(frozen=True)
class Delivery:
    label: str
    payload: Any
    source: str
    audience: str = AUDIENCE


def lifecycle(minigroup: dict[str, Any], rtcs: list[UUID]) -> list[Delivery]:
    """Close, upload, then conversions: what the peers publish until adjust is asked for.

    The conversions (from index 2) are only published once the upload is handled.
    """
    now_ms = int(time.time() * 1000)
    audience = minigroup["audience"]
    deliveries = [
        Delivery(
            "room.close",
            {"id": minigroup["conference_room_id"], "audience": audience, "time": [None, None]},
            "conference",
            audience,
        ),
        Delivery(
            "room.upload",
            {
                "id": minigroup["conference_room_id"],
                "rtcs": [ready_rtc(rtc, user(n)) for n, rtc in enumerate(rtcs, start=1)],
            },
            "conference",
            audience,
        ),
    ]
    for n, rtc in enumerate(rtcs):
        text = segments_text(now_ms - HOUR_MS + n * 60_000, (0, "1500.0"))
        deliveries.append(
            Delivery("task.complete", converted(minigroup, rtc, text), "tq", audience)
        )
    return deliveries


def results(minigroup: dict[str, Any], original: UUID, modified: UUID) -> list[Delivery]:
    """Adjust, dump and transcoding results, once adjust was asked for."""
    audience = minigroup["audience"]
    dump = {
        "status": "success",
        "result": {"room_id": str(modified), "s3_uri": f"s3://dump/{modified}"},
    }
    transcoded = {
        "tags": {"conference_room_id": minigroup["conference_room_id"]},
        "status": "success",
        "template": "transcode-minigroup-to-hls",
        "recording_duration": "1500.4",
    }
    return [
        Delivery("room.adjust", adjusted(minigroup, original, modified), "event", audience),
        Delivery("room.dump_events", dump, "event", audience),
        Delivery("task.complete", transcoded, "tq", audience),
    ]


async def deliver_all(pipeline: Pipeline, deliveries: list[Delivery], *, times: int = 1) -> None:
    for delivery in deliveries:
        timestamp = _now_ms()
        for _ in range(times):  # the same publish time: a redelivery of one publication
            await pipeline.deliver(
                delivery.label,
                delivery.payload,
                source=delivery.source,
                audience=delivery.audience,
                timestamp=timestamp,
            )
