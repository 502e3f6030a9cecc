"""What the use cases read and report about the running process: the time, counters, and the
state of the broker connection."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC time (timezone-aware)."""
        ...


class Metrics(Protocol):
    """Counters and gauges the use cases report (compensations, dropped work, backlogs);
    adapters export them. Names are logical (`inbox_events_total`); the adapter declares them."""

    def increment(self, name: str, **labels: str) -> None: ...

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        """The current value of a gauge (e.g. `inbox_pending_events`)."""
        ...


class BrokerLink(Protocol):
    """The connection to the platform's broker (`upstream = "ulms"`), as readiness sees it."""

    @property
    def connected(self) -> bool:
        """True while the connection is up (the agent reconnects by itself when it drops)."""
        ...
