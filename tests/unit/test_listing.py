"""The listing's pure rules: filters, their branches, cursors, scope prefixes as ranges."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from minigroups.adapters.db.listing import prefix_upper_bound
from minigroups.domain.errors import InvalidCursor, InvalidQueryString
from minigroups.domain.listing import (
    NO_RECORDING,
    Branch,
    EndBound,
    ListingFilter,
    Position,
    branches,
    decode_cursor,
    encode_cursor,
    recording_stage,
)
from minigroups.domain.minigroup import Minigroup, Recording, Status, describe_playback
from minigroups.domain.timerange import TimeRange

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
AUDIENCE = "usr.example.org"


def test_every_status_is_no_status_filter_and_an_empty_prefix_is_none() -> None:
    assert ListingFilter.build(list(Status), None, None, "") == ListingFilter()
    assert ListingFilter.build([], None, None, None) == ListingFilter()
    with pytest.raises(InvalidQueryString):
        ListingFilter.build(None, NOW, NOW, None)


def test_branches_of_each_status() -> None:
    real_time = ListingFilter(frozenset({Status.REAL_TIME}))
    assert branches(real_time, NOW) == [Branch(NO_RECORDING, EndBound(NOW, inclusive=True))]
    closed = ListingFilter(frozenset({Status.CLOSED}))
    assert branches(closed, NOW) == [Branch(NO_RECORDING, None, end_before=NOW)]
    stages = ListingFilter(frozenset({Status.TRANSCODED, Status.FINISHED}))
    assert branches(stages, NOW) == [Branch("finished"), Branch("transcoded")]
    assert branches(ListingFilter(from_=NOW), NOW) == [Branch(None, EndBound(NOW, False))]


@pytest.mark.parametrize(
    ("from_", "bound"),
    [
        (NOW - timedelta(days=1), EndBound(NOW, inclusive=True)),  # now is stricter
        (NOW, EndBound(NOW, inclusive=False)),  # same instant: the strict one
        (LATER, EndBound(LATER, inclusive=False)),  # from is stricter
    ],
)
def test_real_time_with_from_keeps_the_stricter_end_bound(from_: datetime, bound: EndBound) -> None:
    listing = ListingFilter(frozenset({Status.REAL_TIME}), from_=from_)
    assert branches(listing, NOW) == [Branch(NO_RECORDING, bound)]


def _recording(created_at: datetime, **fields: datetime) -> Recording:
    return Recording(uuid4(), uuid4(), uuid4(), "web.u.usr", created_at, **fields)  # type: ignore[arg-type]


UNBOUNDED = Minigroup(uuid4(), "s", AUDIENCE, TimeRange(), NOW, uuid4(), uuid4())


def test_the_stage_is_the_status_a_read_shows_when_there_are_recordings() -> None:
    rng = random.Random(3)
    for _ in range(200):
        recordings = [
            _recording(
                NOW + timedelta(seconds=rng.randrange(5)),
                **{name: NOW for name in ("adjusted_at", "transcoded_at") if rng.random() < 0.5},
            )
            for _ in range(rng.randrange(4))
        ]
        playback = describe_playback(UNBOUNDED, recordings, NOW)
        stage = recording_stage(recordings)
        if recordings:
            assert stage == playback.status.value
        else:
            assert stage == NO_RECORDING


def test_a_cursor_round_trips_and_is_bound_to_audience_and_filters() -> None:
    listing = ListingFilter(frozenset({Status.CLOSED}), NOW, LATER, "alg")
    for start in (None, NOW, datetime(1, 1, 1, tzinfo=UTC), NOW + timedelta(microseconds=7)):
        position = Position(start, uuid4())
        cursor = encode_cursor(AUDIENCE, listing, position)
        assert cursor.isascii()
        assert "=" not in cursor
        assert decode_cursor(cursor, AUDIENCE, listing) == position
    cursor = encode_cursor(AUDIENCE, listing, Position(NOW, UUID(int=1)))
    with pytest.raises(InvalidCursor, match="another audience"):
        decode_cursor(cursor, "other.example.org", listing)
    for other in (
        ListingFilter(frozenset({Status.CLOSED}), NOW, LATER, "al"),
        ListingFilter(frozenset({Status.CLOSED}), NOW, None, "alg"),
        ListingFilter(frozenset({Status.CLOSED, Status.REAL_TIME}), NOW, LATER, "alg"),
        ListingFilter(None, NOW, LATER, "alg"),
    ):
        with pytest.raises(InvalidCursor, match="other filters"):
            decode_cursor(cursor, AUDIENCE, other)


def test_every_altered_character_of_a_cursor_is_refused() -> None:
    listing = ListingFilter()
    cursor = encode_cursor(AUDIENCE, listing, Position(NOW, UUID(int=5)))
    for index in range(len(cursor)):
        for replacement in ("A", "_", "."):
            if cursor[index] == replacement:
                continue
            altered = cursor[:index] + replacement + cursor[index + 1 :]
            with pytest.raises(InvalidCursor):
                decode_cursor(altered, AUDIENCE, listing)


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("abc", "abd"),
        ("a", "b"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("", None),
        ("x\ud7ff", "x\ue000"),
    ],
)
def test_a_prefix_upper_bound(prefix: str, upper: str | None) -> None:
    assert prefix_upper_bound(prefix) == upper


def test_a_prefix_range_is_exactly_the_strings_that_start_with_it() -> None:
    rng = random.Random(5)
    alphabet = ["a", "b", "z", "\u00ff", "\u0100", "\ud7ff", "\ue000", "\U0010ffff", "%", "_"]
    words = {"".join(rng.choices(alphabet, k=rng.randrange(5))) for _ in range(3000)}
    for prefix in sorted(words)[::50]:
        upper = prefix_upper_bound(prefix)
        for word in words:
            in_range = prefix <= word and (upper is None or word < upper)
            assert in_range == word.startswith(prefix), (prefix, word)
