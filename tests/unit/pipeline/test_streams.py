"""Upstream §6.8 / HTTP §7.4 step 9: streams, pins and mutes, with the upstream §10 numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest

from minigroups.domain.errors import NoHostRecording, RecordingsNotReady, TranscodingFlowFailed
from minigroups.domain.minigroup import Recording, Segments
from minigroups.domain.streams import (
    AgentEvent,
    Stream,
    build_streams,
    host_agent,
    host_recording,
    mute_segments,
    pin_segments,
    require_ready,
    stream_binding,
)
from minigroups.domain.timerange import to_unix_ms
from tests.unit.pipeline.support import (
    NOW,
    RTC1,
    RTC2,
    USER1,
    USER2,
    host,
    pin,
    recording,
    snapshot,
    stream_uri_of,
)

CUT: Segments = [(3000, 1_500_000), (1_800_000, 3_000_000)]
REC1_SEGMENTS: Segments = [(0, 1_500_000), (1_800_000, 3_000_000)]
REC2_SEGMENTS: Segments = [(0, 2_700_000)]


def _adjusted() -> tuple[Recording, Recording]:
    """Upstream §10 item 3 after the adjust bookkeeping: rec1 (host) has the cut, rec2 its own."""
    rec1 = recording(
        RTC1,
        USER1,
        started_at=NOW - timedelta(hours=1),
        segments=REC1_SEGMENTS,
        modified_segments=CUT,
    )
    rec2 = recording(
        RTC2,
        USER2,
        started_at=NOW - timedelta(minutes=50),
        segments=REC2_SEGMENTS,
        modified_segments=REC2_SEGMENTS,
        created=1,
    )
    return rec1, rec2


def _streams(pins: Sequence[AgentEvent], *, preroll_offset: int = 0) -> list[Stream]:
    rec1, rec2 = _adjusted()
    return build_streams([rec1, rec2], rec1, preroll_offset=preroll_offset, pins=pins, snapshots=[])


def test_handle_adjust_streams() -> None:
    """Upstream §10 item 3."""
    pins = [pin(USER1, 0), pin(USER2, 1_200_000_000_000), pin(USER1, 1_500_000_000_000)]

    assert _streams(pins) == [
        Stream(
            id=RTC1,
            uri=stream_uri_of(RTC1),
            offset=0,
            segments=REC1_SEGMENTS,
            modified_segments=CUT,
            pin_segments=[(0, 1_200_000), (1_500_000, 3_000_000)],
            video_mute_segments=[],
            audio_mute_segments=[],
        ),
        Stream(
            id=RTC2,
            uri=stream_uri_of(RTC2),
            offset=600_000,
            segments=REC2_SEGMENTS,
            modified_segments=REC2_SEGMENTS,
            pin_segments=[(600_000, 900_000)],
            video_mute_segments=[],
            audio_mute_segments=[],
        ),
    ]


def test_handle_adjust_with_pin_and_unpin() -> None:
    """Upstream §10 item 4: a null pin unpins."""
    rec1, rec2 = _streams([pin(USER1, 0), pin(None, 1_000_000_000_000)])

    assert rec1.pin_segments == [(0, 1_000_000)]
    assert rec2.pin_segments == []


def test_collect_pinned_events_cons_pin() -> None:
    """Upstream §10 item 6: a repeated pin is ignored; positions are whole milliseconds."""
    pins = [pin("A", 2041237463815), pin("A", 2041238581600), pin(None, 2093817792770)]

    assert pin_segments(pins, "A", room_offset=0, recording_end=3_000_000) == [(2041237, 2093817)]


def test_collect_pinned_events_fast_pin_unpin() -> None:
    """Upstream §10 item 7: a pin and unpin in one millisecond give no segment (not even [t, t])."""
    pins = [pin("A", 1_000_000_000_000), pin(None, 1_000_000_000_002)]

    assert pin_segments(pins, "A", room_offset=0, recording_end=3_000_000) == []


def test_invalid_pin_segment_after_video() -> None:
    """Upstream §10 item 8: a pin beyond the recording's end is dropped, never clipped."""
    pins = [pin("A", 2_500_000 * 1_000_000)]

    assert pin_segments(pins, "A", room_offset=-460622, recording_end=2943194) == []
    assert pin_segments(pins, "A", room_offset=0, recording_end=2943194) == [(2_500_000, 2943194)]


def test_pins_outside_the_recording_are_dropped_whole() -> None:
    ms = 1_000_000
    before_start = [pin("A", 100 * ms), pin("B", 900 * ms)]
    past_end = [pin("A", 500 * ms), pin(None, 2500 * ms)]
    inside = [pin("A", 500 * ms), pin("B", 1500 * ms)]

    assert pin_segments(before_start, "A", room_offset=200, recording_end=2000) == []
    assert pin_segments(past_end, "A", room_offset=0, recording_end=2000) == []
    assert pin_segments(inside, "A", room_offset=200, recording_end=2000) == [(300, 1300)]


def test_an_unpin_without_a_pin_and_other_agents_pins_do_nothing() -> None:
    ms = 1_000_000
    pins = [pin(None, 10 * ms), pin("B", 20 * ms), pin("A", 30 * ms), pin("A", 40 * ms)]

    assert pin_segments(pins, "A", room_offset=0, recording_end=100) == [(30, 100)]
    assert pin_segments(pins, "C", room_offset=0, recording_end=100) == []


def test_positions_truncate_toward_zero_like_the_reference() -> None:
    pins = [pin("A", -999_999), pin(None, 5_000_000)]

    assert pin_segments(pins, "A", room_offset=0, recording_end=100) == [(0, 5)]


def test_the_preroll_offset_shifts_every_pin() -> None:
    """The room opened `preroll_offset` ms before the host's recording: positions move back."""
    pins = [pin(USER1, 1_000_000_000), pin(USER2, 1_201_000_000_000)]

    rec1, _ = _streams(pins, preroll_offset=1000)

    assert rec1.pin_segments == [(0, 1_200_000)]


def test_offsets_are_from_the_earliest_start_whatever_the_order() -> None:
    rec1, rec2 = _adjusted()
    rec2 = dataclasses.replace(rec2, started_at=NOW - timedelta(hours=2), modified_segments=None)

    streams = build_streams([rec1, rec2], rec1, preroll_offset=0, pins=[], snapshots=[])

    assert [stream.id for stream in streams] == [RTC1, RTC2]
    assert [stream.offset for stream in streams] == [3_600_000, 0]
    assert streams[1].modified_segments == REC2_SEGMENTS  # falls back to the original ones


def test_mutes_of_video_and_audio() -> None:
    rec1, rec2 = _adjusted()
    assert rec1.started_at is not None
    start = to_unix_ms(rec1.started_at)
    snapshots = [
        snapshot(RTC1, start, video=False),  # at 0: not strictly after the start
        snapshot(RTC1, start - 5, video=False),
        snapshot(RTC1, start + 100, video=False),
        snapshot(RTC2, start + 150, video=True, audio=True),  # another rtc
        snapshot(RTC1, start + 200, audio=False),  # video null: neither
        snapshot(RTC1, start + 300, video=False, audio=None),  # already muted
        snapshot(RTC1, start + 400, video=True),
        snapshot(RTC1, start + 500, video=True),  # not muted
        snapshot(RTC1, start + 600, video=False),
        snapshot(RTC1, start + 3_000_000, audio=True),  # at recording_end: outside
    ]

    streams = build_streams([rec1, rec2], rec1, preroll_offset=0, pins=[], snapshots=snapshots)

    assert streams[0].video_mute_segments == [(100, 400), (600, 3_000_000)]
    assert streams[0].audio_mute_segments == [(200, 3_000_000)]
    assert streams[1].video_mute_segments == []
    assert streams[1].audio_mute_segments == []


def test_mutes_open_and_close_in_list_order() -> None:
    snapshots = [
        snapshot(RTC1, 1010, video=False, audio=False),
        snapshot(RTC1, 1020, video=True, audio=None),
        snapshot(RTC1, 1030, video=None, audio=True),
    ]

    video, audio = mute_segments(snapshots, RTC1, started_at=1000, recording_end=50)

    assert video == [(10, 20)]
    assert audio == [(10, 30)]


@pytest.mark.parametrize(
    "unready",
    [
        lambda r: dataclasses.replace(r, stream_uri=None),
        lambda r: dataclasses.replace(r, segments=None),
        lambda r: dataclasses.replace(r, started_at=None),
    ],
    ids=["stream_uri", "segments", "started_at"],
)
def test_every_recording_must_be_ready(unready: Callable[[Recording], Recording]) -> None:
    rec1, rec2 = _adjusted()
    unready_rec2 = unready(rec2)

    with pytest.raises(RecordingsNotReady, match="Not all recordings are ready"):
        build_streams([rec1, unready_rec2], rec1, preroll_offset=0, pins=[], snapshots=[])
    with pytest.raises(RecordingsNotReady):
        build_streams([rec2], unready(rec1), preroll_offset=0, pins=[], snapshots=[])
    with pytest.raises(RecordingsNotReady):
        require_ready([rec1, unready_rec2])
    require_ready([rec1, rec2])


def test_a_recording_without_segments_has_no_end() -> None:
    rec1, rec2 = _adjusted()

    with pytest.raises(RecordingsNotReady, match="no segments"):
        build_streams(
            [rec1, dataclasses.replace(rec2, segments=[])],
            rec1,
            preroll_offset=0,
            pins=[],
            snapshots=[],
        )


def test_the_host_recording_is_the_hosts_own() -> None:
    rec1, rec2 = _adjusted()

    assert host_recording([rec1, rec2], USER2) is rec2
    with pytest.raises(NoHostRecording, match="No host stream id in room"):
        host_recording([rec1, rec2], "web.user3.dev.usr.example.com")
    assert issubclass(NoHostRecording, TranscodingFlowFailed)
    assert issubclass(RecordingsNotReady, TranscodingFlowFailed)


def test_the_host_is_the_agent_of_the_first_host_event() -> None:
    """D19."""
    assert host_agent([host(USER2, 5), host(USER1, 1)]) == USER2
    assert host_agent([]) is None


def test_a_stream_serialises_as_the_tq_binding() -> None:
    stream = _streams([pin(USER1, 0)])[0]

    assert stream_binding(stream) == {
        "id": str(RTC1),
        "uri": stream_uri_of(RTC1),
        "offset": 0,
        "segments": [[0, 1_500_000], [1_800_000, 3_000_000]],
        "modified_segments": [[3000, 1_500_000], [1_800_000, 3_000_000]],
        "pin_segments": [[0, 3_000_000]],
        "video_mute_segments": [],
        "audio_mute_segments": [],
    }


def test_no_recordings_no_streams() -> None:
    rec1, _ = _adjusted()
    assert build_streams([], rec1, preroll_offset=0, pins=[], snapshots=[]) == []
