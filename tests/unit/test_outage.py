"""`Backoff` and `Outage`: capped, jittered delays; one line per failure, one recovery line."""

from __future__ import annotations

import logging

import pytest

from minigroups.domain.errors import DatabaseUnavailable
from minigroups.services.outage import Backoff, Outage

LOGGER = "minigroups.test.outage"


def test_delays_double_up_to_the_cap_each_shortened_by_at_most_the_jitter() -> None:
    backoff = Backoff(initial=1.0, cap=30.0, jitter=0.2)
    for step, nominal in enumerate([1, 2, 4, 8, 16, 30, 30, 30], start=1):
        delays = {backoff.delay(step) for _ in range(50)}
        assert all(0.8 * nominal <= delay <= nominal for delay in delays)
        assert len(delays) > 1  # jittered: instances do not retry in lockstep


def test_the_default_cap_is_ten_seconds() -> None:
    assert 8.0 <= Backoff(initial=1.0).delay(20) <= 10.0


def test_an_initial_delay_above_the_cap_is_kept() -> None:
    assert Backoff(initial=5.0, cap=1.0, jitter=0.0).delay(3) == 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _outage(clock: Clock) -> Outage:
    return Outage(
        "loop: claiming", Backoff(1.0, jitter=0.0), logging.getLogger(LOGGER), clock=clock
    )


def test_each_failure_is_one_line_without_traceback_and_recovery_is_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    clock = Clock()
    outage = _outage(clock)
    outage.recovered()  # not failing: nothing to say
    delays = [outage.failed(DatabaseUnavailable("database unavailable: refused")) for _ in range(3)]
    clock.now += 7.0
    outage.recovered()
    outage.recovered()
    assert delays == [1.0, 2.0, 4.0]
    assert [r.getMessage() for r in caplog.records] == [
        "loop: claiming failed (1 in a row, retrying in 1 s): "
        "DatabaseUnavailable: database unavailable: refused",
        "loop: claiming failed (2 in a row, retrying in 2 s): "
        "DatabaseUnavailable: database unavailable: refused",
        "loop: claiming failed (3 in a row, retrying in 4 s): "
        "DatabaseUnavailable: database unavailable: refused",
        "loop: claiming recovered after 3 failed attempts in 7.0 s",
    ]
    assert [r.exc_info for r in caplog.records] == [None] * 4
    assert not outage.failing
    assert outage.failed(DatabaseUnavailable("again")) == 1.0  # a new outage starts over


def test_an_unexpected_error_shows_its_traceback_once_per_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    outage = _outage(Clock())
    for error in [KeyError("a"), KeyError("a"), TypeError("b"), KeyError("a")]:
        try:
            _fail(error)
        except Exception as exc:
            outage.failed(exc)
    assert [r.exc_info is not None for r in caplog.records] == [True, False, True, False]


def _fail(error: Exception) -> None:
    raise error
