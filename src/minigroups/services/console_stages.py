"""Which stage of a minigroup's pipeline each stored row speaks of, and the facts it gives.

Times come from the rows themselves: the class's `created_at`; the handled time of its
`room.close`, `room.upload` and conversion events; the recordings' `created_at` (the upload),
`adjusted_at` and `transcoded_at`; the `minigroup.ready` notification's `sent_at`. An event purged
by retention leaves its stage done without a time (or with the time the class row keeps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from minigroups.domain.errors import MinigroupsError
from minigroups.domain.minigroup import Minigroup, Recording
from minigroups.domain.tasks import TRANSCODE_TEMPLATE
from minigroups.domain.timeline import StageFact
from minigroups.ports import InboxEntry, OutboxEntry
from minigroups.services.pipeline.events import (
    LifecycleDecoder,
    MinigroupTranscoded,
    PipelineEvent,
    RoomAdjusted,
    RoomClosed,
    RoomUploaded,
    StreamConverted,
    TaskFailed,
)

CONVERTED = "converted"
# What a label says when its payload cannot be read (a poison message).
_BY_LABEL = {
    "room.close": "closed",
    "room.upload": "uploaded",
    "room.adjust": "adjusted",
    "edition.commit": "adjusted",
}


_BY_TYPE: tuple[tuple[type, str], ...] = (
    (RoomClosed, "closed"),
    (RoomUploaded, "uploaded"),
    (RoomAdjusted, "adjusted"),
    (MinigroupTranscoded, "transcoded"),
)


@dataclass
class StageEvents:
    """The events of one stage: when the first arrived and was handled, and why one failed."""

    handled_at: datetime | None = None
    received_at: datetime | None = None
    failure: str | None = None


@dataclass
class EventStages:
    by_stage: dict[str, StageEvents] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)  # every dead letter, as "label: error"

    @classmethod
    def sorted_out(cls, decoder: LifecycleDecoder, entries: Sequence[InboxEntry]) -> EventStages:
        sorted_out = cls()
        for entry in sorted(entries, key=lambda e: e.received_at):
            event = _decode(decoder, entry)
            stage = stage_of(entry.label, event)
            if stage is not None:
                sorted_out.add(stage, entry, event)
        return sorted_out

    def add(self, stage: str, entry: InboxEntry, event: PipelineEvent | None) -> None:
        found = self.by_stage.setdefault(stage, StageEvents())
        if found.received_at is None:
            found.received_at = entry.received_at
        if entry.status == "dead":
            found.failure = f"dead letter: {entry.last_error or 'no error kept'}"
            self.dead.append(f"dead letter {entry.label}: {entry.last_error or 'no error kept'}")
        elif isinstance(event, TaskFailed) and entry.status == "done":
            found.failure = f"tq reported a failure: {event.error!r}"
        elif entry.status == "done" and found.handled_at is None:
            found.handled_at = entry.handled_at

    def get(self, stage: str) -> StageEvents:
        return self.by_stage.get(stage, StageEvents())


def _decode(decoder: LifecycleDecoder, entry: InboxEntry) -> PipelineEvent | None:
    try:
        return decoder.decode(entry.label, entry.source, entry.payload)
    except (ValueError, MinigroupsError):  # a poison payload: its label still tells
        return None


def stage_of(label: str, event: PipelineEvent | None) -> str | None:
    """The stage an event reports: `converted:<rtc id>` for one recording's conversion."""
    if isinstance(event, StreamConverted):
        return f"{CONVERTED}:{event.stream_id}"
    if isinstance(event, TaskFailed):
        return "transcoded" if event.template == TRANSCODE_TEMPLATE else CONVERTED
    for kind, stage in _BY_TYPE:
        if isinstance(event, kind):
            return stage
    return _BY_LABEL.get(label)


def pipeline_steps(
    minigroup: Minigroup,
    recordings: Sequence[Recording],
    events: EventStages,
    outbox: Sequence[OutboxEntry],
) -> list[list[StageFact]]:
    """created, closed, uploaded, the conversions (side by side), adjusted, transcoded, ready.

    A dead letter blocks the pipeline even when its own stage got done (a conversion stored
    before asking for the adjust that failed): the first unfinished stage then names it.
    """
    steps = _steps(minigroup, recordings, events, outbox)
    if events.dead:
        blocked = next((f for step in steps for f in step if not f.done), None)
        if blocked is not None and blocked.failure is None:
            steps = [
                [replace(f, failure=events.dead[-1]) if f is blocked else f for f in step]
                for step in steps
            ]
    return steps


def _steps(
    minigroup: Minigroup,
    recordings: Sequence[Recording],
    events: EventStages,
    outbox: Sequence[OutboxEntry],
) -> list[list[StageFact]]:
    first = recordings[0] if recordings else None
    closed = events.get("closed")
    uploaded = events.get("uploaded")
    adjusted = events.get("adjusted")
    transcoded = events.get("transcoded")
    adjusted_times = [r.adjusted_at for r in recordings if r.adjusted_at is not None]
    return [
        [StageFact("created", "created", done=True, at=minigroup.created_at)],
        [
            StageFact(
                "closed",
                "closed",
                done=closed.handled_at is not None or bool(recordings),
                at=closed.handled_at or (minigroup.time.end if recordings else None),
                failure=closed.failure,
                clock_bound=True,
                waits_for=minigroup.time.end,
            )
        ],
        [
            StageFact(
                "uploaded",
                "uploaded",
                done=bool(recordings),
                at=min(r.created_at for r in recordings) if recordings else uploaded.handled_at,
                failure=None if recordings else uploaded.failure,
            )
        ],
        _conversions(recordings, events, minigroup.audience),
        [
            StageFact(
                "adjusted",
                "adjusted",
                done=bool(adjusted_times),
                at=max(adjusted_times) if adjusted_times else None,
                failure=None if adjusted_times else adjusted.failure,
            )
        ],
        [
            StageFact(
                "transcoded",
                "transcoded",
                done=first is not None and first.transcoded_at is not None,
                at=None if first is None else first.transcoded_at,
                failure=transcoded.failure,
            )
        ],
        [_ready(outbox, transcoded_at=None if first is None else first.transcoded_at)],
    ]


def short_author(agent_id: str, audience: str) -> str:
    """`web.participant1` for `web.participant1.<audience>` of the minigroup's own audience."""
    return agent_id.removesuffix(f".{audience}")


def _conversions(
    recordings: Sequence[Recording], events: EventStages, minigroup_audience: str
) -> list[StageFact]:
    if not recordings:
        return [StageFact(CONVERTED, "converted", failure=events.get(CONVERTED).failure)]
    facts = []
    for recording in recordings:
        found = events.get(f"{CONVERTED}:{recording.rtc_id}")
        failure = found.failure or events.get(CONVERTED).failure
        facts.append(
            StageFact(
                f"{CONVERTED}:{recording.rtc_id}",
                f"converted: {short_author(recording.created_by, minigroup_audience)}",
                done=recording.is_ready,
                # A conversion stored by an event that failed afterwards: when it arrived.
                at=(found.handled_at or found.received_at) if recording.is_ready else None,
                failure=None if recording.is_ready else failure,
            )
        )
    return facts


def _ready(outbox: Sequence[OutboxEntry], *, transcoded_at: datetime | None) -> StageFact:
    """`minigroup.ready` sent; after the retention purge only `transcoded_at` says it was."""
    notices = [entry for entry in outbox if entry.key.startswith("minigroup.ready:")]
    sent = [entry.sent_at for entry in notices if entry.sent_at is not None]
    if sent:
        return StageFact("ready", "ready (notified)", done=True, at=min(sent))
    return StageFact(
        "ready", "ready (notified)", done=transcoded_at is not None and not notices, at=None
    )
