"""R10's URL formatting (the storage service parses it)."""

from __future__ import annotations

import pytest

from minigroups.services.viewing import storage_url


@pytest.mark.parametrize(
    ("base", "set_id", "expected"),
    [
        (
            "https://storage.example.com",
            "ms.webinar.usr.example.com::lesson 42",
            "https://storage.example.com/api/v2/backends/yandex/sets/"
            "ms.webinar.usr.example.com::lesson%2042/objects/mp4",
        ),
        (
            "https://storage.example.com/",
            "ms.webinar.a::b",
            "https://storage.example.com/api/v2/backends/yandex/sets/ms.webinar.a::b/objects/mp4",
        ),
        (
            "https://h/x/",
            "ms.webinar.a::b",
            "https://h/x//api/v2/backends/yandex/sets/ms.webinar.a::b/objects/mp4",
        ),
        (
            "https://h/x",
            'ms.webinar.a::/?#%"\\{}<>`\u00e9\t\n',
            "https://h/x/api/v2/backends/yandex/sets/"
            "ms.webinar.a::%2F%3F%23%25%22%5C%7B%7D%3C%3E%60%C3%A9/objects/mp4",
        ),
    ],
)
def test_storage_url(base: str, set_id: str, expected: str) -> None:
    assert storage_url(base, set_id) == expected
