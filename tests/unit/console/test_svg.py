"""The console's SVG pictures: what they draw, where, and what they say to a screen reader."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from minigroups.console.svg import (
    LABELS,
    TrackView,
    activity_chart,
    compressed_axis,
    lesson_clock,
    nice_ceiling,
    pipeline_timeline,
    recording_tracks,
    tick_step,
)
from minigroups.domain.timeline import Stage, StageState

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def _floats(element: ET.Element, name: str) -> float:
    return float(element.attrib[name])


def test_the_activity_chart_draws_one_bar_per_minute_scaled_to_a_round_maximum() -> None:
    counts = [0] * 58 + [3, 7]
    root = _parse(activity_chart(counts, T0))
    assert root.attrib["role"] == "img"
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 60
    heights = [_floats(bar, "height") for bar in bars]
    assert heights[-1] > heights[-2] > 0 == heights[0]
    assert heights[-1] / heights[-2] == 7 / 3  # linear in the count
    assert [bar.find(f"{SVG}title").text for bar in bars[-2:]] == [  # type: ignore[union-attr]
        "09:59: 3 handled",
        "10:00: 7 handled",
    ]
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == (
        "10 events handled from 09:01 to 10:00 UTC; the busiest minute was 10:00 with 7"
    )
    ticks = [t.text for t in root.findall(f"{SVG}text") if t.text and t.text.isdigit()]
    assert ticks == ["0", "5", "10"]  # whole numbers only: a scale of 5 has no middle tick
    five = _parse(activity_chart([5], T0))
    assert [t.text for t in five.findall(f"{SVG}text") if t.text and t.text.isdigit()] == [
        "0",
        "5",
    ]


def test_round_maxima_and_ticks() -> None:
    assert [nice_ceiling(n) for n in (0, 1, 2, 3, 7, 11, 240, 1000)] == [
        1, 1, 2, 5, 10, 20, 500, 1000,
    ]  # fmt: skip
    assert tick_step(30 * 60_000) == 5 * 60_000
    assert tick_step(4 * 60_000) == 60_000
    assert lesson_clock(0) == "0:00"
    assert lesson_clock(65_000) == "1:05"
    assert lesson_clock(3_725_000) == "1:02:05"


def test_the_compressed_axis_keeps_order_and_gives_long_gaps_more_room() -> None:
    times = [T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2), T0 + timedelta(days=2)]
    xs = compressed_axis(times, 500)
    positions = [xs[t] for t in times]
    assert positions == sorted(positions)
    assert positions[0] == 0
    assert positions[-1] == 500
    assert positions[1] - positions[0] == positions[2] - positions[1] > 0
    assert positions[3] - positions[2] > 5 * (positions[2] - positions[1])  # days, not seconds
    assert compressed_axis([], 500) == {}


def _stage(key: str, state: StageState, **more: object) -> Stage:
    return Stage(key, key, state, **more)  # type: ignore[arg-type]


def test_the_timeline_marks_done_stages_and_shows_how_long_a_stuck_one_waited() -> None:
    now = T0 + timedelta(minutes=20)
    stages = [
        _stage("created", StageState.DONE, at=T0),
        _stage("closed", StageState.DONE, at=T0 + timedelta(minutes=1)),
        _stage("uploaded", StageState.DONE, at=None),
        _stage(
            "adjusted",
            StageState.STUCK,
            waiting_since=T0 + timedelta(minutes=1),
            waited=timedelta(minutes=19),
            note="dead letter room.adjust: boom",
        ),
        _stage("ready", StageState.UPCOMING),
    ]
    root = _parse(pipeline_timeline(stages, now))
    rows = {g.attrib["data-stage"]: g for g in root.iter(f"{SVG}g")}
    assert [(key, g.attrib["data-state"]) for key, g in rows.items()] == [
        ("created", "done"),
        ("closed", "done"),
        ("uploaded", "done"),
        ("adjusted", "stuck"),
        ("ready", "upcoming"),
    ]
    created, closed = rows["created"].find(f"{SVG}circle"), rows["closed"].find(f"{SVG}circle")
    assert created is not None
    assert closed is not None
    assert _floats(created, "cx") < _floats(closed, "cx")
    texts = ["".join(g.itertext()) for g in rows.values()]
    assert "10:00:00" in texts[0]
    assert "time was not kept" in texts[2]
    bar = rows["adjusted"].find(f"{SVG}rect")
    assert bar is not None
    assert bar.attrib["class"] == "stuck"
    assert _floats(bar, "x") == _floats(closed, "cx")  # waiting since the close
    assert "stuck: waiting 19 min" in texts[3]
    assert "dead letter room.adjust: boom" in texts[3]
    assert "not yet" in texts[4]
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert "adjusted: stuck" in desc.text


def test_the_recordings_draw_a_bar_per_segment_on_one_lesson_axis() -> None:
    tracks = [
        TrackView("web.p1", 0, [(0, 600_000), (660_000, 1_800_000)], pins=[(0, 60_000)]),
        TrackView(
            "web.p2",
            120_000,
            [(0, 1_680_000)],
            video_mutes=[(300_000, 360_000)],
            audio_mutes=[(400_000, 500_000)],
        ),
    ]
    root = _parse(recording_tracks(tracks))
    rows = [g for g in root.iter(f"{SVG}g") if "data-track" in g.attrib]
    assert [g.attrib["data-track"] for g in rows] == ["web.p1", "web.p2"]
    segments = [
        [r for r in g.findall(f"{SVG}rect") if r.attrib["class"] == "segment"] for g in rows
    ]
    assert [len(s) for s in segments] == [2, 1]
    # One axis: p2 starts 2 min later, and both end at 30:00 of the lesson.
    first_end = _floats(segments[0][1], "x") + _floats(segments[0][1], "width")
    second_end = _floats(segments[1][0], "x") + _floats(segments[1][0], "width")
    assert abs(first_end - second_end) < 0.2
    assert _floats(segments[1][0], "x") > _floats(segments[0][0], "x") == LABELS
    classes = [r.attrib["class"] for g in rows for r in g.findall(f"{SVG}rect")]
    assert classes.count("pin") == 1
    assert classes.count("mute-video") == 1
    assert classes.count("mute-audio") == 1
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert desc.text.startswith("2 recordings, 3 segments over 30:00")


def test_text_in_the_pictures_is_escaped() -> None:
    markup = recording_tracks([TrackView('<script>"x"</script>', 0, [(0, 1000)])])
    assert "<script>" not in markup
    assert re.search(r"&lt;script&gt;", markup)
    _parse(markup)  # still well-formed
