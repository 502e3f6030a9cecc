"""`domain/escaping.segment`: caller data stays one URL segment or MQTT topic level (issue 8)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from minigroups.domain.escaping import segment
from tests.support.hostile import HOSTILE

SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_value_becomes_one_inert_segment(text: str) -> None:
    encoded = segment(text)
    assert set(encoded) <= SAFE  # no `/`, `?`, `#`, `+`, whitespace or control left
    assert encoded not in ("", ".", "..")
    assert unquote(encoded, errors="strict") == text  # nothing dropped: the encoding is reversible


@pytest.mark.parametrize(
    "name", ["usr.example.org", "dev.usr.example.com", "lesson-42", "a_b~c", "v1", "X.Y"]
)
def test_platform_names_are_unchanged(name: str) -> None:
    assert segment(name) == name


@pytest.mark.parametrize(
    ("dots", "encoded"), [(".", "%2E"), ("..", "%2E%2E"), ("...", "%2E%2E%2E")]
)
def test_a_segment_of_dots_alone_is_encoded(dots: str, encoded: str) -> None:
    assert segment(dots) == encoded


def test_distinct_values_never_share_an_encoding() -> None:
    values = [*HOSTILE, "a%2Fb", "a b", "a+b", "a\tb", "ab", "a.b", "%2E%2E"]
    assert len({segment(value) for value in values}) == len(set(values))
