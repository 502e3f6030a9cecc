"""D27 and the hand-written query strings of front-ends."""

from __future__ import annotations

import pytest

from minigroups.api.query import QueryString
from minigroups.domain.errors import InvalidQueryString


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", None),
        (b"class_keys[]=a&class_keys[]=b", ["a", "b"]),
        (b"class_keys[]=a&class_keys[]=b&", ["a", "b"]),
        (b"&&class_keys[]=a&&", ["a"]),
        (b"class_keys=x", ["x"]),
        (b"class_keys=", None),
        (b"class_keys[]=", [""]),
        (b"class_keys[1]=b&class_keys[0]=a", ["a", "b"]),
        (b"class_keys%5B%5D=a", ["a"]),
        (b"class_keys[]=a+b&class_keys[]=%C3%A9", ["a b", "\u00e9"]),
        (b"foo=1&foo=2&access_token=a&access_token=b&class_keys[]=k", ["k"]),
        (b"bad=%FF&class_keys[]=k", ["k"]),
    ],
)
def test_class_keys_forms(raw: bytes, expected: list[str] | None) -> None:
    assert QueryString(raw).keys("class_keys") == expected


@pytest.mark.parametrize("raw", [b"class_keys[]=%FF", b"class_keys[[b]=1", b"class_keys[x]=1"])
def test_malformed_keys_are_invalid_query_strings(raw: bytes) -> None:
    with pytest.raises(InvalidQueryString):
        QueryString(raw).keys("class_keys")


def test_first_access_token_wins() -> None:
    assert QueryString(b"access_token=a+b&access_token=c").first("access_token") == "a b"
    assert QueryString(b"x=1").first("access_token") is None
