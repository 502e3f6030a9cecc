"""The console's pictures as inline SVG, built from plain values (pure functions, no I/O).

Each picture is an `<svg role="img">` with a `<title>` and a `<desc>` that say in words what it
shows, and a `<title>` on each mark (a tooltip, and a name for screen readers). Colours come from
classes styled in `static/console.css`, so that the page's style sheet is the only style source.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from minigroups.domain.timeline import Stage, StageState, describe_duration

WIDTH = 1040
LABELS = 250  # the column of row labels
PLOT = WIDTH - LABELS - 20


@dataclass(frozen=True, slots=True)
class TrackView:
    """One participant's row: ms on the lesson's axis; segments, pins, mutes of the recording."""

    name: str
    offset: int
    segments: Sequence[tuple[int, int]]
    pins: Sequence[tuple[int, int]] = ()
    video_mutes: Sequence[tuple[int, int]] = ()
    audio_mutes: Sequence[tuple[int, int]] = ()


def _svg(ident: str, height: int, title: str, desc: str, body: Iterable[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{ident}" class="picture" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text part is escaped


def _text(x: float, y: float, text: str, css: str = "", anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _rect(box: tuple[float, float, float, float], css: str, tip: str) -> str:
    """A rectangle (x, y, width, height) with its tooltip; at least 1 px wide to stay visible."""
    x, y, w, h = box
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.0):.1f}" height="{h:.1f}" '
        f'class="{css}"><title>{escape(tip)}</title></rect>'
    )


def clock(at: datetime, now: datetime) -> str:
    """`14:03:07` today (UTC), else `2026-01-31 14:03`."""
    if at.date() == now.date():
        return at.strftime("%H:%M:%S")
    return at.strftime("%Y-%m-%d %H:%M")


# --- events handled per minute ---------------------------------------------------------------


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 times a power of ten that is at least `value` (and >= 1)."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 < value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def activity_chart(per_minute: Sequence[int], end: datetime) -> Markup:
    """Bars of events handled per minute; the last bar is the minute starting at `end`."""
    height, top, bottom, left = 200, 12, 32, 48
    plot_w, plot_h = WIDTH - left - 12, height - top - bottom
    scale = nice_ceiling(max(per_minute, default=0))
    count = len(per_minute)
    slot = plot_w / max(count, 1)
    start = end - timedelta(minutes=count - 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 12}" y2="{top + plot_h}" '
        'class="axis"/>'
    ]
    for fraction in (0.0, 0.5, 1.0) if scale % 2 == 0 else (0.0, 1.0):
        y = top + plot_h * (1 - fraction)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 12}" y2="{y:.1f}" class="grid"/>')
        body.append(_text(left - 6, y + 4, f"{scale * fraction:g}", "tick", "end"))
    for index, value in enumerate(per_minute):
        minute = start + timedelta(minutes=index)
        bar_h = plot_h * value / scale
        tip = f"{minute:%H:%M}: {value} handled"
        body.append(
            _rect((left + index * slot + 1, top + plot_h - bar_h, slot - 2, bar_h), "bar", tip)
        )
        if index % 15 == 0 or index == count - 1:
            body.append(
                _text(left + (index + 0.5) * slot, height - 12, f"{minute:%H:%M}", "tick", "middle")
            )
    total = sum(per_minute)
    busiest = max(range(count), key=lambda i: per_minute[i], default=None)
    desc = f"{total} events handled from {start:%H:%M} to {end:%H:%M} UTC"
    if busiest is not None and per_minute[busiest]:
        peak = start + timedelta(minutes=busiest)
        desc += f"; the busiest minute was {peak:%H:%M} with {per_minute[busiest]}"
    return _svg("activity", height, "Lifecycle events handled per minute, last hour", desc, body)


# --- the pipeline timeline ---------------------------------------------------------------------


def compressed_axis(instants: Iterable[datetime], width: float) -> dict[datetime, float]:
    """x of each instant: in time order, each gap as wide as log(1 + seconds) plus a minimum,
    so that seconds apart and days apart both stay readable on one axis."""
    ordered = sorted(set(instants))
    if not ordered:
        return {}
    steps = [0.0]
    for before, after in itertools.pairwise(ordered):
        steps.append(steps[-1] + 0.6 + math.log1p((after - before).total_seconds()))
    span = steps[-1] or 1.0
    return {at: width * step / span for at, step in zip(ordered, steps, strict=True)}


_STATE_WORDS = {
    StageState.DONE: "done",
    StageState.WAITING: "waiting",
    StageState.STUCK: "stuck",
    StageState.UPCOMING: "not yet",
}


def pipeline_timeline(stages: Sequence[Stage], now: datetime) -> Markup:
    """One row per stage on a shared (compressed) time axis: a dot where it was reached, a bar
    from when a waiting stage became due until now, red when it is stuck."""
    row, top = 30, 34
    height = top + row * len(stages) + 24
    waiting = [s for s in stages if s.state in (StageState.WAITING, StageState.STUCK)]
    instants = [s.at for s in stages if s.at is not None]
    instants += [s.waiting_since for s in waiting if s.waiting_since is not None]
    if waiting:
        instants.append(now)
    xs = {at: LABELS + x for at, x in compressed_axis(instants, PLOT - 150).items()}
    body = [_text(LABELS, 16, "times in UTC; gaps drawn on a log scale", "note")]
    body.append(
        f'<line x1="{LABELS}" y1="{top - 8}" x2="{LABELS}" y2="{height - 16}" class="axis"/>'
    )
    path = [
        f"{xs[s.at]:.1f},{top + i * row + row / 2:.1f}"
        for i, s in enumerate(stages)
        if s.at is not None and s.state is StageState.DONE
    ]
    if len(path) > 1:
        body.append(f'<polyline points="{" ".join(path)}" class="path"/>')
    for index, stage in enumerate(stages):
        body.append(_stage_row(stage, top + index * row, row, xs, now))
    states = ", ".join(f"{s.label}: {_STATE_WORDS[s.state]}" for s in stages)
    return _svg("timeline", height, "The pipeline of this minigroup", states, body)


def _stage_row(stage: Stage, y: float, row: float, xs: dict[datetime, float], now: datetime) -> str:
    middle = y + row / 2
    state = stage.state.value
    parts = [
        f'<g class="stage stage-{state}" data-stage="{escape(stage.key)}" data-state="{state}">',
        _text(LABELS - 10, middle + 4, stage.label, "label", "end"),
    ]
    if stage.state is StageState.DONE and stage.at is not None:
        x = xs[stage.at]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{middle:.1f}" r="6" class="mark">'
            f"<title>{escape(stage.label)} at {stage.at:%Y-%m-%d %H:%M:%S} UTC</title>"
            "</circle>"
        )
        parts.append(_text(x + 10, middle + 4, clock(stage.at, now), "time"))
    elif stage.state is StageState.DONE:
        parts.append(_text(LABELS + 8, middle + 4, "done (its time was not kept)", "time"))
    elif stage.state is StageState.UPCOMING:
        parts.append(_text(LABELS + 8, middle + 4, stage.note or "not yet", "pending"))
    else:
        parts.append(_waiting_bar(stage, middle, xs, now))
    parts.append("</g>")
    return "".join(parts)


def _waiting_bar(stage: Stage, middle: float, xs: dict[datetime, float], now: datetime) -> str:
    start = xs.get(stage.waiting_since) if stage.waiting_since is not None else None
    end = xs.get(now, LABELS + PLOT - 150)
    start = LABELS if start is None else start
    waited = "" if stage.waited is None else f" {describe_duration(stage.waited)}"
    words = f"stuck: waiting{waited}" if stage.state is StageState.STUCK else f"waiting{waited}"
    css = "stuck" if stage.state is StageState.STUCK else "waiting"
    tip = words if stage.note is None else f"{words} ({stage.note})"
    return _rect((start, middle - 7, end - start, 14), css, tip) + _text(
        end + 8, middle + 4, words, f"{css}-text"
    )


# --- the participants' recordings ----------------------------------------------------------------


def tick_step(span_ms: int, ticks: int = 6) -> int:
    """A round tick interval (1, 2, 5, 10, 15, 30 min ...) giving about `ticks` ticks."""
    for minutes in (1, 2, 5, 10, 15, 30, 60, 120, 240):
        if span_ms / (minutes * 60_000) <= ticks:
            return minutes * 60_000
    return 480 * 60_000


def lesson_clock(ms: int) -> str:
    minutes, seconds = divmod(ms // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def recording_tracks(tracks: Sequence[TrackView]) -> Markup:
    """Each participant's recording on the lesson's axis (from the earliest start): a bar per
    segment, pins above it, video and audio mutes below it."""
    row, top = 40, 34
    height = top + row * len(tracks) + 30
    span = max((t.offset + seg[1] for t in tracks for seg in t.segments), default=0) or 1
    scale = PLOT / span
    body = [_text(LABELS, 16, "the lesson's time from the first recording's start", "note")]
    step = tick_step(span)
    for tick in range(0, span + 1, step):
        x = LABELS + tick * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" class="grid"/>'
        )
        body.append(_text(x, height - 8, lesson_clock(tick), "tick", "middle"))
    for index, track in enumerate(tracks):
        body.append(_track_row(track, top + index * row, scale))
    segments = sum(len(t.segments) for t in tracks)
    desc = f"{len(tracks)} recordings, {segments} segments over {lesson_clock(span)}; " + "; ".join(
        _track_words(t) for t in tracks
    )
    return _svg("recordings", height, "The participants' recordings", desc, body)


def _track_words(track: TrackView) -> str:
    return (
        f"{track.name}: {len(track.segments)} segments, {len(track.pins)} pins, "
        f"{len(track.video_mutes)} video mutes, {len(track.audio_mutes)} audio mutes"
    )


def _track_row(track: TrackView, y: float, scale: float) -> str:
    def x(ms: int) -> float:
        return LABELS + (track.offset + ms) * scale

    parts = [
        f'<g class="track" data-track="{escape(track.name)}">',
        _text(LABELS - 10, y + 20, track.name, "label", "end"),
    ]
    for start, end in track.segments:
        tip = f"{track.name}: recorded {lesson_clock(start)} to {lesson_clock(end)}"
        parts.append(_rect((x(start), y + 10, x(end) - x(start), 14), "segment", tip))
    for start, end in track.pins:
        tip = f"{track.name}: pinned {lesson_clock(start)} to {lesson_clock(end)}"
        parts.append(_rect((x(start), y + 2, x(end) - x(start), 6), "pin", tip))
    for css, what, marks in (
        ("mute-video", "video muted", track.video_mutes),
        ("mute-audio", "audio muted", track.audio_mutes),
    ):
        lane = y + 26 if css == "mute-video" else y + 31
        for start, end in marks:
            tip = f"{track.name}: {what} {lesson_clock(start)} to {lesson_clock(end)}"
            parts.append(_rect((x(start), lane, x(end) - x(start), 4), css, tip))
    parts.append("</g>")
    return "".join(parts)
