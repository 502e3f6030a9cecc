"""Numbers tq reports back: a conversion's segments string (D17) and a transcoding's duration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal

from minigroups.domain.errors import RecordingDurationMalformed, SegmentsMalformed
from minigroups.domain.minigroup import Segments

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_I64_MAX = 2**63 - 1
_MS_PATTERN = re.compile(r"[+-]?[0-9]+")
# What Rust's float parser reads, minus `inf`/`nan`: sign, digits with an optional point, exponent.
_DECIMAL_PATTERN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# 10**19 s is beyond any i64 of milliseconds; bounding the exponent also bounds the arithmetic.
_MAX_ADJUSTED_EXPONENT = 18
# Enough digits that rounding a bounded duration to an integer is exact.
_CONTEXT = Context(prec=64)


@dataclass(frozen=True, slots=True)
class ParsedSegments:
    """A converted stream's start (unix ms) and its segments in ms relative to that start."""

    started_at_ms: int
    segments: Segments

    @property
    def started_at(self) -> datetime:
        """The start as a UTC datetime (ms precision); `parse_segments` checked it is in range."""
        return _EPOCH + timedelta(milliseconds=self.started_at_ms)


def parse_segments(text: str) -> ParsedSegments:
    """Read `<unix ms>,<duration s>` lines (upstream §6.3 step 2) with exact arithmetic (D17).

    Blank lines are skipped; any other unreadable line, or no line at all, is `SegmentsMalformed`.
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.split("\n"), start=1)]
    entries = [_parse_line(number, line) for number, line in lines if line]
    if not entries:
        raise SegmentsMalformed("the segments string has no line")
    t0 = entries[0][0]
    _check_start(t0)
    segments: Segments = []
    for number, (at_ms, duration_ms) in enumerate(entries, start=1):
        start = at_ms - t0
        end = start + duration_ms
        if abs(start) > _I64_MAX or end > _I64_MAX:
            raise SegmentsMalformed(f"segment {number} lies outside the 64-bit range")
        segments.append((start, end))
    return ParsedSegments(t0, segments)


def stream_duration(recording_duration: str) -> int:
    """Whole seconds of a transcoded stream (upstream §6.5 step 2), ties away from zero."""
    value = _parse_decimal(recording_duration)
    if value is None or value < 0:
        raise RecordingDurationMalformed(
            "`recording_duration` must be a non-negative decimal number of seconds, "
            f"got {recording_duration!r}"
        )
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=_CONTEXT))


def _parse_line(number: int, line: str) -> tuple[int, int]:
    """One line as (unix ms, duration truncated to whole ms)."""
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != 2:
        raise SegmentsMalformed(f"line {number} is not `<unix ms>,<duration seconds>`")
    at_text, duration_text = fields
    if _MS_PATTERN.fullmatch(at_text) is None:
        raise SegmentsMalformed(f"line {number}: `{at_text}` is not an integer of milliseconds")
    at_ms = int(at_text)
    if abs(at_ms) > _I64_MAX:
        raise SegmentsMalformed(f"line {number}: `{at_text}` lies outside the 64-bit range")
    duration = _parse_decimal(duration_text)
    if duration is None or duration < 0:
        raise SegmentsMalformed(
            f"line {number}: `{duration_text}` is not a non-negative number of seconds"
        )
    return at_ms, _truncated_ms(duration)


def _parse_decimal(text: str) -> Decimal | None:
    """A finite decimal of bounded magnitude, or None when the text is not one."""
    text = text.strip()
    if _DECIMAL_PATTERN.fullmatch(text) is None:
        return None
    value = Decimal(text)
    if value and value.adjusted() > _MAX_ADJUSTED_EXPONENT:
        return None
    return value


def _truncated_ms(seconds: Decimal) -> int:
    """`trunc(seconds * 1000)` computed exactly (the reference multiplies in f32)."""
    if not seconds or seconds.adjusted() < -3:
        return 0  # below one millisecond: also keeps a huge negative exponent cheap
    numerator, denominator = seconds.as_integer_ratio()
    return numerator * 1000 // denominator  # non-negative, so floor is truncation


def _check_start(t0: int) -> None:
    """The first line's time must be a representable datetime (it becomes `started_at`)."""
    try:
        _EPOCH + timedelta(milliseconds=t0)
    except OverflowError as exc:
        raise SegmentsMalformed(f"line 1: {t0} ms is outside the supported date range") from exc
