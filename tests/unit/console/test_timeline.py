"""The pipeline stages as the console places them: done, waiting, stuck, upcoming."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from minigroups.domain.timeline import StageFact, StageState, describe_duration, place_stages

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
STUCK_AFTER = timedelta(minutes=10)


def _states(steps: list[list[StageFact]], now: datetime) -> list[tuple[str, StageState]]:
    return [(s.key, s.state) for s in place_stages(steps, now=now, stuck_after=STUCK_AFTER)]


def _lesson(**closed: object) -> list[list[StageFact]]:
    return [
        [StageFact("created", "created", done=True, at=T0)],
        [StageFact("closed", "closed", clock_bound=True, **closed)],  # type: ignore[arg-type]
        [StageFact("uploaded", "uploaded")],
    ]


def test_a_lesson_still_on_is_not_waiting_for_its_close() -> None:
    steps = _lesson(waits_for=T0 + timedelta(hours=1))
    assert _states(steps, T0 + timedelta(minutes=30)) == [
        ("created", StageState.DONE),
        ("closed", StageState.UPCOMING),
        ("uploaded", StageState.UPCOMING),
    ]
    [_, closed, _] = place_stages(steps, now=T0, stuck_after=STUCK_AFTER)
    assert closed.note == "the lesson is on"


def test_a_lesson_without_an_end_never_waits_for_its_close() -> None:
    assert _states(_lesson(waits_for=None), T0 + timedelta(days=3))[1] == (
        "closed",
        StageState.UPCOMING,
    )


def test_a_close_is_waited_for_from_the_lessons_end_and_stuck_past_the_limit() -> None:
    end = T0 + timedelta(hours=1)
    waiting = place_stages(
        _lesson(waits_for=end), now=end + timedelta(minutes=5), stuck_after=STUCK_AFTER
    )[1]
    assert waiting.state is StageState.WAITING
    assert waiting.waiting_since == end
    assert waiting.waited == timedelta(minutes=5)
    stuck = place_stages(
        _lesson(waits_for=end), now=end + timedelta(minutes=11), stuck_after=STUCK_AFTER
    )[1]
    assert stuck.state is StageState.STUCK
    assert stuck.waited == timedelta(minutes=11)


def test_parallel_stages_wait_since_the_last_step_and_the_next_step_is_upcoming() -> None:
    uploaded = T0 + timedelta(minutes=1)
    steps = [
        [StageFact("uploaded", "uploaded", done=True, at=uploaded)],
        [
            StageFact("converted:a", "a", done=True, at=uploaded + timedelta(seconds=30)),
            StageFact("converted:b", "b"),
        ],
        [StageFact("adjusted", "adjusted")],
    ]
    placed = place_stages(steps, now=uploaded + timedelta(minutes=2), stuck_after=STUCK_AFTER)
    assert [(s.key, s.state) for s in placed] == [
        ("uploaded", StageState.DONE),
        ("converted:a", StageState.DONE),
        ("converted:b", StageState.WAITING),
        ("adjusted", StageState.UPCOMING),
    ]
    assert placed[2].waiting_since == uploaded  # its own step's times do not count


def test_a_failure_makes_a_stage_stuck_at_once() -> None:
    steps = [
        [StageFact("created", "created", done=True, at=T0)],
        [StageFact("adjusted", "adjusted", failure="dead letter room.adjust: boom")],
    ]
    [_, adjusted] = place_stages(steps, now=T0 + timedelta(seconds=2), stuck_after=STUCK_AFTER)
    assert adjusted.state is StageState.STUCK
    assert adjusted.note == "dead letter room.adjust: boom"
    assert adjusted.waited == timedelta(seconds=2)


def test_a_done_stage_whose_time_was_purged_stays_done() -> None:
    steps = [
        [StageFact("created", "created", done=True, at=T0)],
        [StageFact("ready", "ready", done=True, at=None)],
    ]
    [_, ready] = place_stages(steps, now=T0, stuck_after=STUCK_AFTER)
    assert ready.state is StageState.DONE
    assert ready.at is None


def test_durations_read_in_their_two_largest_units() -> None:
    assert describe_duration(timedelta(seconds=45)) == "45 s"
    assert describe_duration(timedelta(minutes=12, seconds=5)) == "12 min"
    assert describe_duration(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert describe_duration(timedelta(hours=3)) == "3 h"
    assert describe_duration(timedelta(days=2, hours=4)) == "2 d 4 h"
