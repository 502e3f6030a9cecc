"""Requests in flight, matched to their responses by `correlation_data` only (upstream §1.6).

Unlike the reference, a waiter is removed when its request ends for any reason (no leak), and the
correlation values of recently ended requests are remembered, so that a dropped response can be
counted as `late` (its request timed out or failed), `duplicate` (already answered) or `unknown`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Literal

from minigroups.adapters.ulms.envelope import Envelope, new_correlation_data
from minigroups.ports import Metrics

DROPPED = "mqtt_responses_dropped_total"
Ended = Literal["answered", "abandoned"]


class Correlations:
    """The waiter table of one agent; every method runs on the event loop's thread."""

    def __init__(self, metrics: Metrics, *, remember: int = 10_000) -> None:
        self._metrics = metrics
        self._waiting: dict[str, asyncio.Future[Envelope]] = {}
        self._ended: OrderedDict[str, Ended] = OrderedDict()
        self._remember = remember

    def __len__(self) -> int:
        return len(self._waiting)

    def open(self) -> tuple[str, asyncio.Future[Envelope]]:
        """A fresh correlation value (never one in flight) and the future of its response."""
        correlation = new_correlation_data()
        while correlation in self._waiting:  # 62**16 values: practically never
            correlation = new_correlation_data()
        waiter: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._waiting[correlation] = waiter
        return correlation, waiter

    def close(self, correlation: str) -> None:
        """The request ended (answered, timed out, failed, cancelled): forget its waiter."""
        waiter = self._waiting.pop(correlation, None)
        if waiter is None:
            return
        answered = waiter.done() and not waiter.cancelled() and waiter.exception() is None
        self._note_ended(correlation, "answered" if answered else "abandoned")
        if not waiter.done():
            waiter.cancel()

    def resolve(self, envelope: Envelope) -> bool:
        """Hand a response to its waiter; a response nobody waits for is dropped and counted."""
        correlation = envelope.properties.get("correlation_data")
        waiter = None if correlation is None else self._waiting.get(correlation)
        if waiter is None:
            self._metrics.increment(DROPPED, reason=self._drop_reason(correlation))
            return False
        if waiter.done():  # answered (or failed) and not yet closed by its request
            self._metrics.increment(DROPPED, reason="duplicate")
            return False
        waiter.set_result(envelope)
        return True

    def fail_all(self, error: Exception) -> None:
        """Fail every waiting request at once (the connection dropped)."""
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(error)

    def _drop_reason(self, correlation: str | None) -> str:
        ended = None if correlation is None else self._ended.get(correlation)
        if ended == "answered":
            return "duplicate"
        if ended == "abandoned":
            return "late"
        return "unknown"

    def _note_ended(self, correlation: str, how: Ended) -> None:
        self._ended[correlation] = how
        if len(self._ended) > self._remember:
            self._ended.popitem(last=False)
