"""The platform's side of the recording pipeline, played in the sandbox.

`finish` makes the conference close a minigroup's room (and, a moment later, upload synthetic
recordings); `step` answers what the service asks: tq completes its tasks, the event service
answers adjust (with an original and a modified room) and dump requests, each by publishing the
lifecycle event a real peer would (upstream §6.13) through `emit`, in process or over a broker.

The sandbox keeps its rooms in memory: `finish` first restores the rooms of a minigroup created
before a restart (`Sandbox.restore_rooms`). A publish that fails (the database is down, the
broker is away) stays due and is tried again on the next step; `run` backs off meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from minigroups.adapters.sandbox.event_peer import PendingResult
from minigroups.adapters.sandbox.sandbox import Sandbox
from minigroups.adapters.sandbox.tq import TqTask
from minigroups.domain.escaping import segment
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.tasks import CONVERT_TEMPLATE, TRANSCODE_TEMPLATE
from minigroups.services.outage import Backoff, Outage

log = logging.getLogger(__name__)

# (topic, envelope properties, payload JSON text) of one published event.
Emit = Callable[[str, dict[str, str], str], Awaitable[None]]

RECORDING_SECONDS = 1800
UPLOAD_DELAY = 0.5  # seconds between the close and the upload: a watcher sees `closed`


@dataclass(frozen=True, slots=True)
class Accounts:
    """The peers' account ids: the second level of the topics they publish on."""

    event: str
    conference: str
    tq: str


class SandboxAutopilot:
    def __init__(
        self,
        sandbox: Sandbox,
        accounts: Accounts,
        emit: Emit | None = None,
        *,
        upload_delay: float = UPLOAD_DELAY,
    ) -> None:
        self.sandbox = sandbox
        self.upload_delay = upload_delay
        self.accounts = accounts
        self.emit = emit  # may be connected later (the service's intake is built after us)
        self._tasks_seen = 0
        self._results_seen = 0
        self._uploads: list[tuple[float, str, dict[str, Any]]] = []  # (due, audience, payload)

    async def finish(self, minigroup: Minigroup, participants: int = 2) -> None:
        """The lesson ends: host event, conference room closed, `participants` recordings."""
        if participants < 1:
            raise ValueError("a finished minigroup has at least one participant")
        self.sandbox.restore_rooms(minigroup)
        audience = minigroup.audience
        authors = [f"web.participant{n}.{audience}" for n in range(1, participants + 1)]
        self.sandbox.event.add_event(
            minigroup.event_room_id,
            type_="host",
            data={"agent_id": authors[0]},
            created_by=authors[0],
        )
        now = int(time.time())
        room = str(minigroup.conference_room_id)
        close = {
            "id": room,
            "audience": audience,
            "time": [now - RECORDING_SECONDS, now],
            "timed_out": False,
            "classroom_id": str(minigroup.id),
        }
        await self._publish(self.accounts.conference, audience, "room.close", close)
        rtcs = [_ready_rtc(minigroup.id, author) for author in authors]
        # The recordings are uploaded a little after the close.
        due = time.monotonic() + self.upload_delay
        self._uploads.append((due, audience, {"id": room, "rtcs": rtcs}))

    async def step(self) -> int:
        """Answer every task and request that arrived before this step; how many.

        Each is marked done only once its event is published, so a failed publish (raised to
        the caller) leaves it, and whatever follows it, due for the next step.
        """
        tasks, results = len(self.sandbox.tq.tasks), len(self.sandbox.event.pending_results)
        now = time.monotonic()
        done = 0
        for upload in [entry for entry in self._uploads if entry[0] <= now]:
            _, audience, payload = upload
            await self._publish(self.accounts.conference, audience, "room.upload", payload)
            self._uploads.remove(upload)
            done += 1
        while self._tasks_seen < tasks:
            await self._complete_task(self.sandbox.tq.tasks[self._tasks_seen])
            self._tasks_seen += 1
            done += 1
        while self._results_seen < results:
            await self._answer(self.sandbox.event.pending_results[self._results_seen])
            self._results_seen += 1
            done += 1
        return done

    async def run(self, pace: float = 0.2) -> None:
        """Step forever, at most once per `pace` seconds, so that a watcher sees each status;
        a failing step backs off from `pace` up to a cap, logging one line per step."""
        outage = Outage("sandbox autopilot: publishing", Backoff(initial=pace), log)
        while True:
            try:
                await self.step()
            except Exception as exc:  # noqa: BLE001 - the service's intake may be down: go on
                await asyncio.sleep(outage.failed(exc))
                continue
            outage.recovered()
            await asyncio.sleep(pace)

    async def _complete_task(self, task: TqTask) -> None:
        body: dict[str, Any] = task.body
        template, bindings = body["template"], body["bindings"]
        result: dict[str, Any] = {"tags": body["tags"], "status": "success", "template": template}
        if template == CONVERT_TEMPLATE:
            started_ms = int(time.time() * 1000) - RECORDING_SECONDS * 1000
            result.update(
                stream_id=bindings["stream_id"],
                stream_uri=bindings["stream_uri"].replace(".source.webm", ".webm"),
                segments=f"{started_ms},{RECORDING_SECONDS}.0",
            )
        elif template == TRANSCODE_TEMPLATE:
            result["recording_duration"] = f"{RECORDING_SECONDS}.0"
        else:
            return
        await self._publish(self.accounts.tq, task.audience, "task.complete", result)

    async def _answer(self, result: PendingResult) -> None:
        payload = result.payload
        if result.method == "edition.commit":
            await self._committed(self.sandbox.event.editions.find(UUID(payload["id"])))
            return
        room = self.sandbox.event.room(UUID(payload["id"]))
        if result.method == "room.adjust":
            await self._adjusted(room, payload["segments"])
        elif result.method == "room.dump_events":
            dump = {
                "status": "success",
                "result": {
                    "room_id": room["id"],
                    "s3_uri": f"s3://eventsdump.minigroup.{room['audience']}/{room['id']}.json",
                },
            }
            await self._publish(self.accounts.event, room["audience"], "room.dump_events", dump)

    async def _adjusted(self, room: dict[str, Any], segments: list[list[int]]) -> None:
        """Like the event service: an original and a modified copy of the real-time room."""
        copies = [self._copy_room(room) for _ in range(2)]
        adjust = {
            "room_id": room["id"],
            "status": "success",
            "original_room_id": copies[0]["id"],
            "modified_room_id": copies[1]["id"],
            "modified_segments": segments,
            "cut_original_segments": segments,
        }
        await self._publish(self.accounts.event, room["audience"], "room.adjust", adjust)

    async def _committed(self, edition: dict[str, Any]) -> None:
        """Like the event service: the edition's source room copied into a committed room."""
        source = self.sandbox.event.room(UUID(edition["source_room_id"]))
        committed = self._copy_room(source)
        commit = {
            "status": "success",
            "source_room_id": source["id"],
            "committed_room_id": committed["id"],
            "modified_segments": [],
        }
        await self._publish(self.accounts.event, source["audience"], "edition.commit", commit)

    def _copy_room(self, room: dict[str, Any]) -> dict[str, Any]:
        """A closed copy of `room`, with its host and pin events."""
        room_id = UUID(room["id"])
        copy = self.sandbox.event.add_room(
            audience=room["audience"],
            time=[room["time"][0], int(time.time())],
            classroom_id=UUID(room["classroom_id"]),
            source_room_id=room_id,
        )
        for event in self.sandbox.event.store.of_room(room_id):
            if event["type"] in ("host", "pin"):
                self.sandbox.event.add_event(
                    UUID(copy["id"]),
                    type_=event["type"],
                    data=event["data"],
                    created_by=event["created_by"],
                )
        return copy

    async def _publish(self, account: str, audience: str, label: str, payload: Any) -> None:
        topic = f"apps/{segment(account)}/api/v1/audiences/{segment(audience)}/events"
        properties = {
            "type": "event",
            "label": label,
            "timestamp": str(time.time_ns() // 1_000_000),
        }
        if self.emit is None:
            raise RuntimeError("the autopilot publishes nowhere: connect its emit first")
        await self.emit(topic, properties, json.dumps(payload))


def _ready_rtc(classroom_id: UUID, author: str) -> dict[str, Any]:
    rtc_id = uuid4()
    return {
        "status": "ready",
        "id": str(rtc_id),
        "created_by": author,
        "uri": f"s3://origin.sandbox/{classroom_id}/{rtc_id}.source.webm",
        "mjr_dumps_uris": [f"s3://dumps.sandbox/{rtc_id}.mjr"],
    }
