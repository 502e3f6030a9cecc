"""How a background loop lives through an outage: capped, jittered backoff and quiet logging.

A loop that cannot reach a dependency (the database, the broker) calls `Outage.failed` where it
catches the failure and waits the delay it returns; the next success calls `Outage.recovered`.
The log gets one line per backoff step naming the cause (a traceback only the first time an
unexpected error appears), and one recovery line, instead of a traceback on every poll.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from minigroups.domain.errors import MinigroupsError

DEFAULT_CAP_SECONDS = 10.0  # the longest a loop waits between two attempts during an outage


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential delays from `initial` up to `cap`, each shortened by up to `jitter` (a
    fraction) at random, so that instances do not retry in lockstep."""

    initial: float
    cap: float = DEFAULT_CAP_SECONDS
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, step: int) -> float:
        """The wait after the `step`-th consecutive failure (1 for the first)."""
        nominal = min(self.initial * self.factor ** max(step - 1, 0), max(self.cap, self.initial))
        return nominal * random.uniform(1.0 - self.jitter, 1.0)  # noqa: S311 - not for secrets


def describe(error: BaseException) -> str:
    """One line naming the cause: the error's type and the first line of its message."""
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


class Outage:
    """The failures of one loop's attempts since its last success.

    `what` names the attempt in the log lines (e.g. "inbox: claiming"). `expected` errors (by
    default the product's own, `MinigroupsError`: a database or broker that is down, already
    translated) are logged without a traceback; any other error gets one the first time its cause
    appears.
    """

    def __init__(
        self,
        what: str,
        backoff: Backoff,
        logger: logging.Logger,
        *,
        expected: tuple[type[BaseException], ...] = (MinigroupsError,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.backoff = backoff
        self._log = logger
        self._expected = expected
        self._clock = clock
        self.failures = 0
        self._since = 0.0
        self._causes: set[str] = set()

    @property
    def failing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> float:
        """Count a failure, log its one line, and return how long to wait before the next try."""
        if self.failures == 0:
            self._since = self._clock()
        self.failures += 1
        delay = self.backoff.delay(self.failures)
        cause = describe(error)
        first_sight = cause not in self._causes
        self._causes.add(cause)
        traceback = first_sight and not isinstance(error, self._expected)
        self._log.warning(
            "%s failed (%d in a row, retrying in %.2g s): %s",
            self.what,
            self.failures,
            delay,
            cause,
            exc_info=error if traceback else None,
        )
        return delay

    def recovered(self) -> None:
        """After a success: one recovery line if the attempts were failing, then reset."""
        if self.failures == 0:
            return
        self._log.warning(
            "%s recovered after %d failed attempts in %.1f s",
            self.what,
            self.failures,
            self._clock() - self._since,
        )
        self.failures = 0
        self._causes.clear()
