"""The console's use cases' pure parts: cursors, status filters, minute buckets, stage facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from minigroups.adapters.peers.lifecycle import LifecycleWire
from minigroups.domain.errors import InvalidParameter
from minigroups.domain.minigroup import Minigroup, Recording, Status
from minigroups.domain.timeline import StageState, place_stages
from minigroups.domain.timerange import TimeRange
from minigroups.ports import InboxEntry, ListingCursor
from minigroups.services.console import decode_cursor, encode_cursor, minute_buckets, parse_status
from minigroups.services.console_stages import EventStages, pipeline_steps

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_cursor_comes_back_as_it_was_given() -> None:
    cursor = ListingCursor(T0 + timedelta(microseconds=7), uuid4())
    assert decode_cursor(encode_cursor(cursor)) == cursor


@pytest.mark.parametrize("text", ["", "%%%", "bm90IGEgY3Vyc29y", "MjAyNi0xMi0wMVQxMDowMDowMHx4"])
def test_a_cursor_not_given_out_is_a_bad_parameter(text: str) -> None:
    with pytest.raises(InvalidParameter):
        decode_cursor(text)


def test_statuses_are_the_readers_statuses() -> None:
    assert parse_status("transcoded") is Status.TRANSCODED
    assert parse_status("") is None
    assert parse_status(None) is None
    with pytest.raises(InvalidParameter, match="no status 'done'"):
        parse_status("done")


def test_minutes_without_events_are_zero_and_outside_ones_dropped() -> None:
    counts = [(T0 - timedelta(minutes=1), 9), (T0, 2), (T0 + timedelta(minutes=2), 5)]
    assert minute_buckets(counts, T0, 3) == [2, 0, 5]
    assert minute_buckets([(T0 + timedelta(minutes=3), 1)], T0, 3) == [0, 0, 0]


def _minigroup() -> Minigroup:
    return Minigroup(
        id=uuid4(),
        scope="s",
        audience="usr.example.org",
        time=TimeRange(T0, T0 + timedelta(hours=1)),
        created_at=T0 - timedelta(days=1),
        event_room_id=uuid4(),
        conference_room_id=uuid4(),
    )


def _converted(minigroup: Minigroup, author: str) -> Recording:
    return Recording(
        id=uuid4(),
        class_id=minigroup.id,
        rtc_id=uuid4(),
        created_by=author,
        created_at=T0 + timedelta(hours=1, seconds=5),
        started_at=T0,
        segments=[(0, 1000)],
        stream_uri="s3://x",
    )


def test_a_dead_letter_after_its_stage_was_done_blocks_the_next_stage() -> None:
    """The last conversion is stored, then asking for the adjust fails for good: the
    conversion is done (at the event's arrival) and `adjusted` is stuck, naming the error."""
    minigroup = _minigroup()
    recording = _converted(minigroup, "web.p1.usr.example.org")
    arrived = T0 + timedelta(hours=1, seconds=9)
    dead = InboxEntry(
        id=uuid4(),
        label="task.complete",
        source="apps/tq.svc/api/v1/audiences/usr/events",
        payload=(
            '{"status": "success", "template": "convert-mjr-dumps-to-stream", '
            f'"tags": {{"conference_room_id": "{minigroup.conference_room_id}"}}, '
            f'"stream_id": "{recording.rtc_id}", "stream_uri": "s3://x", "segments": "1,1"}}'
        ),
        status="dead",
        attempts=5,
        received_at=arrived,
        next_attempt_at=arrived,
        last_error="UpstreamFailed: event.list",
    )
    events = EventStages.sorted_out(LifecycleWire(), [dead])
    steps = pipeline_steps(minigroup, [recording], events, [])
    stages = place_stages(steps, now=arrived + timedelta(seconds=3), stuck_after=timedelta(1))
    by_key = {stage.key: stage for stage in stages}
    converted = by_key[f"converted:{recording.rtc_id}"]
    assert converted.state is StageState.DONE
    assert converted.at == arrived
    assert converted.label == "converted: web.p1"
    assert by_key["adjusted"].state is StageState.STUCK
    assert by_key["adjusted"].note == "dead letter task.complete: UpstreamFailed: event.list"
    assert by_key["closed"].at == minigroup.time.end  # no close event kept: the class's end
    assert by_key["transcoded"].state is StageState.UPCOMING


def test_a_poison_event_counts_for_the_stage_its_label_names() -> None:
    minigroup = _minigroup()
    poison = InboxEntry(
        id=uuid4(),
        label="room.upload",
        source="apps/conference.svc/api/v1/audiences/usr/events",
        payload=f"{{not json {minigroup.conference_room_id}",
        status="dead",
        attempts=1,
        received_at=T0,
        next_attempt_at=T0,
        last_error="MalformedEvent: no",
    )
    events = EventStages.sorted_out(LifecycleWire(), [poison])
    assert events.get("uploaded").failure == "dead letter: MalformedEvent: no"
