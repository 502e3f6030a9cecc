"""contract.md HTTP §3 step 6 with D4: status and on-demand versions from the first recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from minigroups.domain.minigroup import (
    Minigroup,
    Recording,
    Status,
    clamp_position,
    describe_playback,
    filter_properties,
)
from minigroups.domain.timerange import TimeRange

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _minigroup(**changes: object) -> Minigroup:
    values: dict[str, object] = {
        "id": uuid4(),
        "scope": "s",
        "audience": "a",
        "time": TimeRange(None, None),
        "created_at": NOW,
        "event_room_id": uuid4(),
        "conference_room_id": uuid4(),
    }
    values.update(changes)
    return Minigroup(**values)  # type: ignore[arg-type]


def _recording(created: int, rtc: UUID | None = None, **changes: object) -> Recording:
    values: dict[str, object] = {
        "id": uuid4(),
        "class_id": uuid4(),
        "rtc_id": rtc or uuid4(),
        "created_by": "web.u.a",
        "created_at": NOW + timedelta(seconds=created),
    }
    values.update(changes)
    return Recording(**values)  # type: ignore[arg-type]


def test_no_recordings_real_time_until_the_end_passes() -> None:
    assert describe_playback(_minigroup(), [], NOW).status is Status.REAL_TIME
    ended = _minigroup(time=TimeRange(None, NOW - timedelta(seconds=1)))
    assert describe_playback(ended, [], NOW).status is Status.CLOSED
    ends_now = _minigroup(time=TimeRange(None, NOW))
    assert describe_playback(ends_now, [], NOW).status is Status.REAL_TIME


def test_status_comes_from_the_earliest_recording_whatever_the_list_order() -> None:
    first_rtc = uuid4()
    first = _recording(0, first_rtc, adjusted_at=NOW)
    later = _recording(10, transcoded_at=NOW)
    playback = describe_playback(_minigroup(), [later, first], NOW)
    assert playback.status is Status.ADJUSTED
    assert playback.rtc_id == first_rtc
    assert describe_playback(_minigroup(), [_recording(0)], NOW).status is Status.FINISHED


def test_transcoded_lists_original_then_modified_and_shows_position() -> None:
    original, modified, rtc = uuid4(), uuid4(), uuid4()
    minigroup = _minigroup(
        original_event_room_id=original, modified_event_room_id=modified, room_events_uri="s3://x"
    )
    playback = describe_playback(minigroup, [_recording(0, rtc, transcoded_at=NOW)], NOW)
    assert playback.status is Status.TRANSCODED
    assert playback.shows_position
    assert [
        (v.version, v.event_room_id, v.stream_id, v.room_events_uri) for v in playback.versions
    ] == [
        ("original", original, rtc, None),
        ("modified", modified, rtc, "s3://x"),
    ]


def test_adjusted_shows_only_the_original_version() -> None:
    minigroup = _minigroup(original_event_room_id=uuid4(), modified_event_room_id=uuid4())
    playback = describe_playback(minigroup, [_recording(0, adjusted_at=NOW)], NOW)
    assert [v.version for v in playback.versions] == ["original"]
    assert not playback.shows_position


def test_property_filter_and_position_clamp() -> None:
    properties = {"a": 1, "b": None, "c": {"d": 2}}
    assert filter_properties(properties, None) == {}
    assert filter_properties(properties, ["b", "x", "c", "b"]) == {"b": None, "c": {"d": 2}}
    assert clamp_position(-5) == 0
    assert clamp_position(10**30) == 86_400
    assert clamp_position(50) == 50
