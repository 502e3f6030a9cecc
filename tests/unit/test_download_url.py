"""R10's URL formatting (the storage service parses it)."""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest

from minigroups.services.viewing import set_segment, storage_url
from tests.support.hostile import HOSTILE

SETS = "/api/v2/backends/yandex/sets/"


@pytest.mark.parametrize(
    ("base", "audience", "scope", "expected"),
    [
        (
            "https://storage.example.com",
            "usr.example.com",
            "lesson 42",
            "https://storage.example.com/api/v2/backends/yandex/sets/"
            "ms.webinar.usr.example.com::lesson%2042/objects/mp4",
        ),
        (
            "https://storage.example.com/",
            "a",
            "b",
            "https://storage.example.com/api/v2/backends/yandex/sets/ms.webinar.a::b/objects/mp4",
        ),
        (
            "https://h/x/",
            "a",
            "b",
            "https://h/x//api/v2/backends/yandex/sets/ms.webinar.a::b/objects/mp4",
        ),
        (
            "https://h/x",
            "a",
            '/?#%"\\{}<>`\u00e9',
            "https://h/x/api/v2/backends/yandex/sets/"
            "ms.webinar.a::%2F%3F%23%25%22%5C%7B%7D%3C%3E%60%C3%A9/objects/mp4",
        ),
        (
            "https://h",
            "a",
            "x\ty\rz\n",  # the reference dropped these three (issue 8): now encoded
            "https://h/api/v2/backends/yandex/sets/ms.webinar.a::x%09y%0Dz%0A/objects/mp4",
        ),
    ],
)
def test_storage_url(base: str, audience: str, scope: str, expected: str) -> None:
    assert storage_url(base, audience, scope) == expected


@pytest.mark.parametrize("char", ["\t", "\r", "\n"])
def test_scopes_differing_only_by_tab_cr_or_lf_get_different_urls(char: str) -> None:
    plain = storage_url("https://h", "usr.example.com", "lesson42")
    spliced = storage_url("https://h", "usr.example.com", f"lesson{char}42")
    assert plain != spliced


def test_distinct_audience_and_scope_pairs_never_share_a_url() -> None:
    """`::` separates audience and scope; a `:` of the audience is encoded, so it cannot move."""
    names = ["a", "a:", "a::b", "b", ":b", "::b", "", "c\t", "c"]
    pairs = list(itertools.product(names, names))
    urls = {storage_url("https://h", audience, scope) for audience, scope in pairs}
    assert len(urls) == len(pairs)
    assert set_segment("a::b", "c") == "ms.webinar.a%3A%3Ab::c"
    assert set_segment("a", "b::c") == "ms.webinar.a::b::c"


@pytest.mark.parametrize("scope", HOSTILE)
def test_a_hostile_scope_stays_inside_the_set_segment(scope: str) -> None:
    url = storage_url("https://storage.example.com/base", "usr.example.com", scope)
    parts = urlsplit(url)
    assert (parts.query, parts.fragment) == ("", "")
    assert parts.path.startswith(f"/base{SETS}ms.webinar.usr.example.com::")
    assert parts.path.endswith("/objects/mp4")
    assert parts.path.count("/") == "/base/api/v2/backends/yandex/sets/x/objects/mp4".count("/")
    assert not any(char.isspace() or ord(char) < 0x21 or ord(char) > 0x7E for char in url)
