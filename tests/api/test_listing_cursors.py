"""Listing cursors: a walk survives creates and updates; a bad or foreign cursor is 400."""

from __future__ import annotations

import base64
import itertools
import time
from typing import Any

import pytest

from tests.api.conftest import MEDIA, Api
from tests.api.listing import Params, ok_page, page, schedule_key, scopes

DAY = 86_400
NOW = int(time.time())

WALK_FILTERS: list[Params] = [
    {},
    {"status": ["real-time", "closed"]},
    {"status": "real-time", "from": NOW - 10 * DAY},
    {"to": NOW + 400 * DAY, "scope_prefix": "w"},
]


def _time(index: int) -> list[int | None] | None:
    """Unbounded, half-open, running now, past and future windows, with ties."""
    kind = index % 6
    if kind == 0:
        return None
    if kind == 1:
        return [None, NOW + (index - 20) * 7 * DAY]
    if kind == 2:
        return [NOW - 3600, NOW + index * DAY]
    start = NOW + ((index % 9) - 4) * 30 * DAY  # repeats: ties broken by id
    return [start, start + 3600]


async def _create(api: Api, scope: str, window: list[int] | list[int | None] | None) -> Any:
    if window is None:
        return await api.create(scope=scope)
    return await api.create(scope=scope, time=window)


async def _move(api: Api, created: dict[str, Any], start: int) -> None:
    url = f"/api/v1/minigroups/{created['id']}"
    response = await api.client.put(url, json={"time": [start, start + 60]}, headers=api.auth())
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("params", WALK_FILTERS)
async def test_a_walk_never_repeats_nor_skips_an_unchanged_minigroup(
    api: Api, params: Params
) -> None:
    existing = [await _create(api, f"w-{i:02d}", _time(i)) for i in range(24)]
    changed: set[str] = set()
    fresh = itertools.count()
    seen: list[str] = []
    cursor = None
    for step in range(100):
        body = await ok_page(api, {**params, "limit": 4, **({"cursor": cursor} if cursor else {})})
        seen.extend(scopes(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # Between pages: creates before and after the cursor, and updates that move minigroups
        # (one already listed, one not yet) to the far past and the far future.
        for window in ([NOW - 900 * DAY, NOW - 899 * DAY], [NOW + 900 * DAY, NOW + 901 * DAY]):
            await _create(api, f"w-new-{next(fresh)}", window)
        for created, start in ((existing[step], NOW + 800 * DAY), (existing[-1 - step], 10**9)):
            if created["scope"] not in changed:
                changed.add(created["scope"])
                await _move(api, created, start)
    unchanged = {created["scope"] for created in existing} - changed
    everything_now = await _walk_all(api, params)
    wanted = [scope for scope in everything_now if scope in unchanged]
    assert [scope for scope in seen if scope in unchanged] == wanted
    assert len(wanted) > 3  # the filter keeps enough of them for the test to mean something
    repeated = {scope for scope in seen if seen.count(scope) > 1}
    assert repeated <= changed  # only a minigroup moved past the cursor can come again


async def _walk_all(api: Api, params: Params) -> list[str]:
    body = await ok_page(api, {**params, "limit": 100})
    assert body["next_cursor"] is None
    return scopes(body["items"])


async def test_a_page_ends_exactly_where_the_next_begins_across_ties(api: Api) -> None:
    """Many minigroups with the same start: the id breaks the tie, pages of 1 lose none."""
    created = [await api.create(time=[NOW, NOW + 60]) for _ in range(7)]
    created += [await api.create() for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        body = await ok_page(api, {"limit": 1, **({"cursor": cursor} if cursor else {})})
        seen.extend(item["class_id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ordered = sorted(created, key=lambda c: schedule_key(c["time"], c["id"]))
    assert seen == [c["id"] for c in ordered]


def _flip(text: str, at: int) -> str:
    replacement = "A" if text[at] != "A" else "B"
    return text[:at] + replacement + text[at + 1 :]


async def test_a_malformed_or_altered_cursor_is_400(api: Api) -> None:
    for index in range(3):
        await api.create(time=[NOW + index, NOW + index + 60])
    cursor = (await ok_page(api, {"limit": 1}))["next_cursor"]
    assert cursor is not None
    payload, _, mac = cursor.partition(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    edited = base64.urlsafe_b64encode(decoded.replace(b'"v":1', b'"v":2')).rstrip(b"=")
    bad = [
        "abc",
        "!!!.!!!",
        payload,
        f"{payload}.",
        f".{mac}",
        cursor[:-3],
        cursor + "A",
        _flip(cursor, 10),
        _flip(cursor, len(cursor) - 2),
        f"{edited.decode()}.{mac}",
        cursor + "." + mac,
        "e" * 600,
        "\u00e9" + cursor,
        f"{payload}=.{mac}",
    ]
    for value in bad:
        response = await page(api, {"limit": 1, "cursor": value})
        assert response.status_code == 400, (value, response.text)
        assert response.json()["type"] == "invalid_cursor", value
    assert (await page(api, {"limit": 1, "cursor": cursor})).status_code == 200


async def test_a_cursor_of_another_audience_or_other_filters_is_400(api: Api) -> None:
    for audience in (MEDIA, "usr.example.org"):
        for index in range(3):
            start = NOW + (index + 1) * DAY  # real-time however long the run takes
            await api.create(audience=audience, time=[start, start + 60])
    media_cursor = (await ok_page(api, {"limit": 1}, audience=MEDIA))["next_cursor"]
    foreign = await page(api, {"limit": 1, "cursor": media_cursor})
    assert foreign.status_code == 400
    assert foreign.json() == {
        "type": "invalid_cursor",
        "title": "Invalid cursor",
        "detail": "The cursor belongs to another audience",
    }
    closed = (await ok_page(api, {"limit": 1, "status": "real-time"}))["next_cursor"]
    for other in (
        {"status": "closed"},
        {"status": ["real-time", "closed"]},
        {},
        {"status": "real-time", "from": NOW},
        {"status": "real-time", "scope_prefix": "l"},
    ):
        response = await page(api, {**other, "limit": 1, "cursor": closed})
        assert response.status_code == 400, other
        assert response.json()["detail"] == "The cursor belongs to other filters"
    # The same filters, in another spelling, and another page size continue the walk.
    same = await page(api, {"status[]": "real-time", "limit": 2, "cursor": closed})
    assert same.status_code == 200
    assert len(same.json()["items"]) == 2
