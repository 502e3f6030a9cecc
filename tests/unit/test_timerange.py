"""D7: time tuples; HTTP §2.7 wire form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minigroups.domain.errors import InvalidPayload
from minigroups.domain.timerange import TimeRange, to_unix, to_unix_ms


def test_parse_round_trips_bounded_and_unbounded() -> None:
    assert TimeRange.parse([1700000000, 1700003600]).to_wire() == [1700000000, 1700003600]
    assert TimeRange.parse([None, 1700003600]).to_wire() == [None, 1700003600]
    assert TimeRange.parse([1700000000, None]).to_wire() == [1700000000, None]
    assert TimeRange.parse([None, None]) == TimeRange.unbounded()


@pytest.mark.parametrize(
    ("value", "field_fragment"),
    [
        ([1, 2, 3], "`time`"),
        ([1], "`time`"),
        ([], "`time`"),
        ("1,2", "`time`"),
        ({"start": 1}, "`time`"),
        ([1.5, 2], "`time[0]`"),
        ([1, "2"], "`time[1]`"),
        ([True, 2], "`time[0]`"),
        ([2, 1], "start < end"),
        ([5, 5], "start < end"),
        ([10**15, None], "`time[0]`"),
        ([None, -(10**15)], "`time[1]`"),
    ],
)
def test_every_malformed_time_is_invalid_payload_naming_the_field(
    value: object, field_fragment: str
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        TimeRange.parse(value)
    assert field_fragment in (caught.value.detail or "")


def test_status_helpers_use_exclusive_end() -> None:
    time = TimeRange.parse([100, 200])
    assert not time.has_ended(datetime.fromtimestamp(200, UTC))
    assert time.has_ended(datetime.fromtimestamp(200.5, UTC))
    assert TimeRange.parse([100, None]).closed_at(datetime.fromtimestamp(150, UTC)).to_wire() == [
        100,
        150,
    ]


def test_unix_conversions_floor() -> None:
    moment = datetime(2023, 7, 22, 4, 26, 40, 999_999, tzinfo=UTC)
    assert to_unix(moment) == 1690000000
    assert to_unix_ms(moment) == 1690000000999
    assert to_unix(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)) == -1
