"""A minigroup's pipeline as an operator reads it: which stage is done, waiting, or stuck.

The stages come in steps (created, closed, uploaded, the conversions side by side, adjusted,
transcoded, ready). The first step not done is waiting since the last time its predecessors
reached; it is stuck once it has waited longer than the allowed time, or at once when one of its
events failed for good (a dead letter). The steps after it are upcoming.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class StageState(Enum):
    DONE = "done"
    WAITING = "waiting"
    STUCK = "stuck"
    UPCOMING = "upcoming"


@dataclass(frozen=True, slots=True)
class StageFact:
    """What the stored rows say about one stage.

    `at` is when it was reached (None when done but the time was not kept, e.g. its event was
    purged). `failure` is the error of a dead letter of this stage. A stage that `waits_for` a
    time (the lesson's end, for `closed`) is not expected before it; None there means never.
    """

    key: str
    label: str
    done: bool = False
    at: datetime | None = None
    failure: str | None = None
    clock_bound: bool = False
    waits_for: datetime | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    key: str
    label: str
    state: StageState
    at: datetime | None = None
    waiting_since: datetime | None = None
    waited: timedelta | None = None
    note: str | None = None


def place_stages(
    steps: Sequence[Sequence[StageFact]], *, now: datetime, stuck_after: timedelta
) -> list[Stage]:
    """Each stage's state: done, waiting (or stuck) for the first unfinished step, upcoming."""
    placed: list[Stage] = []
    reached: datetime | None = None
    blocked = False
    for step in steps:
        for fact in step:
            if fact.done:
                placed.append(Stage(fact.key, fact.label, StageState.DONE, fact.at))
            elif blocked:
                placed.append(Stage(fact.key, fact.label, StageState.UPCOMING))
            else:
                placed.append(_waiting(fact, reached, now, stuck_after))
        known = [fact.at for fact in step if fact.at is not None]
        if known:
            reached = max([*known, *([reached] if reached is not None else [])])
        blocked = blocked or not all(fact.done for fact in step)
    return placed


def _waiting(
    fact: StageFact, reached: datetime | None, now: datetime, stuck_after: timedelta
) -> Stage:
    since = reached
    if fact.clock_bound:
        if fact.waits_for is None or fact.waits_for > now:
            return Stage(fact.key, fact.label, StageState.UPCOMING, note="the lesson is on")
        since = fact.waits_for if since is None else max(since, fact.waits_for)
    waited = None if since is None else max(now - since, timedelta(0))
    if fact.failure is not None:
        return Stage(fact.key, fact.label, StageState.STUCK, None, since, waited, fact.failure)
    state = StageState.WAITING
    if waited is not None and waited > stuck_after:
        state = StageState.STUCK
    return Stage(fact.key, fact.label, state, None, since, waited)


def describe_duration(span: timedelta) -> str:
    """`45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`: the largest two units."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"
