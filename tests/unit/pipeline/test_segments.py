"""Upstream §6.3 step 2 with D17 (exact decimal segments) and §6.5 step 2 (stream duration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minigroups.domain.errors import (
    MinigroupsError,
    RecordingDurationMalformed,
    SegmentsMalformed,
)
from minigroups.domain.segments import ParsedSegments, parse_segments, stream_duration
from minigroups.domain.timerange import to_unix_ms
from tests.unit.pipeline.support import NOW


def test_the_example_of_6_13() -> None:
    parsed = parse_segments("1690000000000,1500.0\n1690001800000,1200.0")

    assert parsed == ParsedSegments(1690000000000, [(0, 1500000), (1800000, 3000000)])
    assert parsed.started_at == datetime(2023, 7, 22, 4, 26, 40, tzinfo=UTC)
    assert to_unix_ms(parsed.started_at) == 1690000000000


def test_the_streams_of_the_reference_upload_test() -> None:
    """Upstream §10 item 1: rtc1 from now-1h with [0,1.5M),[1.8M,3M); rtc2 now-50min, [0,2.7M)."""
    t1 = to_unix_ms(NOW) - 3_600_000
    t2 = to_unix_ms(NOW) - 3_000_000

    rtc1 = parse_segments(f"{t1},1500.0\n{t1 + 1_800_000},1200.0")
    rtc2 = parse_segments(f"{t2},2700")

    assert rtc1 == ParsedSegments(t1, [(0, 1_500_000), (1_800_000, 3_000_000)])
    assert rtc2 == ParsedSegments(t2, [(0, 2_700_000)])
    assert rtc1.started_at.microsecond % 1000 == 0


@pytest.mark.parametrize(
    ("duration", "f32_ms", "exact_ms"),
    [
        ("0.251", 250, 251),
        ("1.004", 1003, 1004),
        ("16777.217", 16777216, 16777217),  # past 2**24 ms f32 cannot hold every millisecond
    ],
)
def test_durations_are_exact_where_the_reference_f32_was_not(
    duration: str, f32_ms: int, exact_ms: int
) -> None:
    assert f32_ms != exact_ms  # what the reference (f32 product, truncated) would have stored
    assert parse_segments(f"1000,{duration}").segments == [(0, exact_ms)]


def test_durations_truncate_toward_zero_below_a_millisecond() -> None:
    text = "1000,0.0019999\n2000,1e-9\n3000,0\n4000,.5\n5000,7.\n6000,2.5E3"
    assert parse_segments(text).segments == [
        (0, 1),
        (1000, 1000),
        (2000, 2000),
        (3000, 3500),
        (4000, 11000),
        (5000, 2505000),
    ]


def test_a_trailing_newline_is_ignored() -> None:
    """D17: the reference deleted the recording for this."""
    assert parse_segments("1000,1.5\n").segments == [(0, 1500)]
    assert parse_segments("1000,1.5\r\n2000,1\r\n").segments == [(0, 1500), (1000, 2000)]


def test_blank_and_whitespace_lines_anywhere_are_ignored() -> None:
    parsed = parse_segments("\n  \n1000,1.5\n\n\t\n3000, 2.0 \n\n")
    assert parsed == ParsedSegments(1000, [(0, 1500), (2000, 4000)])


def test_t0_is_the_first_line_even_when_a_later_line_is_earlier() -> None:
    assert parse_segments("5000,1\n4000,1").segments == [(0, 1000), (-1000, 0)]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "  \n\t\n",
        "1000",
        "1000,1.5,2",
        "1000;1.5",
        ",1.5",
        "1000,",
        "1000.5,1.5",
        "1e3,1.5",
        "abc,1.5",
        "1_000,1.5",
        "1000,abc",
        "1000,-1.5",
        "1000,-0.001",
        "1000,NaN",
        "1000,nan",
        "1000,inf",
        "1000,Infinity",
        "1000,1_5",
        "1000,1e30",
        "1000,0x10",
        "\u0661\u0660\u0660\u0660,1",  # Arabic-Indic digits
        "1000,1.5\n2000",
        "1000,1.5\n\nbroken",
        "9223372036854775808,1",
        "99999999999999999,1",
        f"0,1\n{2**63 - 1},1",
    ],
)
def test_truly_malformed_strings_are_rejected(text: str) -> None:
    with pytest.raises(SegmentsMalformed):
        parse_segments(text)


def test_the_malformed_error_names_the_line() -> None:
    with pytest.raises(SegmentsMalformed, match="line 3"):
        parse_segments("1000,1\n\nx,1")
    assert issubclass(SegmentsMalformed, MinigroupsError)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3000.0", 3000),
        ("3000", 3000),
        ("2.5", 3),
        ("3.5", 4),
        ("2.4999", 2),
        ("2.4999999999999999999999", 2),  # f64 would read 2.5 and give 3
        ("0.5", 1),
        ("0.49", 0),
        ("0", 0),
        ("-0", 0),
        (" 12.0 ", 12),
        ("1e3", 1000),
    ],
)
def test_stream_duration_rounds_half_away_from_zero(text: str, seconds: int) -> None:
    assert stream_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "abc", "-1", "-0.4", "NaN", "inf", "3000s", "3,000", "1e40", "0x10"]
)
def test_a_malformed_stream_duration_is_rejected(text: str) -> None:
    with pytest.raises(RecordingDurationMalformed):
        stream_duration(text)
