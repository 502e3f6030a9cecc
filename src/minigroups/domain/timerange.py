"""The `[start, end)` time range of minigroups and rooms, and its wire form (HTTP §2.7)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from minigroups.domain.errors import InvalidPayload

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

WireTime = list[int | None]


def from_unix(seconds: int) -> datetime:
    """A UTC datetime from integer Unix seconds; raises ValueError outside years 1..9999."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"{seconds} is outside the supported date range") from exc


def to_unix(moment: datetime) -> int:
    """Integer Unix seconds, truncated toward the past (floor)."""
    return math.floor((moment - _EPOCH).total_seconds())


def to_unix_ms(moment: datetime) -> int:
    """Integer Unix milliseconds (floor)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Inclusive `start`, exclusive `end`; `None` is unbounded. Always UTC-aware."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def unbounded(cls) -> TimeRange:
        return cls(None, None)

    @classmethod
    def parse(cls, value: object, field: str = "time") -> TimeRange:
        """Parse a wire `[start, end]` pair (D7); raise InvalidPayload naming the field."""
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidPayload(f"`{field}` must be an array of two members [start, end]")
        bounds: list[datetime | None] = []
        for index, member in enumerate(value):
            name = f"{field}[{index}]"
            if member is None:
                bounds.append(None)
                continue
            if isinstance(member, bool) or not isinstance(member, int):
                raise InvalidPayload(f"`{name}` must be an integer number of seconds or null")
            try:
                bounds.append(from_unix(member))
            except ValueError as exc:
                raise InvalidPayload(f"`{name}`: {exc}") from exc
        start, end = bounds
        if start is not None and end is not None and start >= end:
            raise InvalidPayload(f"`{field}` must have start < end")
        return cls(start, end)

    def to_wire(self) -> WireTime:
        return [
            None if self.start is None else to_unix(self.start),
            None if self.end is None else to_unix(self.end),
        ]

    def has_ended(self, now: datetime) -> bool:
        """True when the upper bound exists and lies strictly before `now`."""
        return self.end is not None and now > self.end

    def closed_at(self, now: datetime) -> TimeRange:
        """The range with its end lowered to `now` (an unbounded end becomes `now`)."""
        end = now if self.end is None else min(self.end, now)
        return TimeRange(self.start, end)
