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
    """Counters the use cases report (compensations, dropped work); adapters export them."""

    def increment(self, name: str, **labels: str) -> None: ...


class BrokerLink(Protocol):
    """The connection to the platform's broker (`upstream = "ulms"`), as readiness sees it."""

    @property
    def connected(self) -> bool:
        """True while the connection is up (the agent reconnects by itself when it drops)."""
        ...
