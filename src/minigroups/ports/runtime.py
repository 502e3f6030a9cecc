"""What the use cases read and report about the running process: the time, and counters."""

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
