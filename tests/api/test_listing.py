"""The listing: schedule order, each filter and their combinations, page sizes (both databases).

Expectations are computed here from what the other routes say: the stored window (the DB object
of a create) and the status a read by id answers.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import Api
from tests.api.helpers import add_recording
from tests.api.listing import Params, ok_page, page, schedule_key, scopes, walk

DAY = 86_400
NOW = int(time.time())
PREFIXES = ["alg-", "Alg-", "alg_x-", "al%-", "bio-", "\u00df-", "z\u00ff-"]


@dataclass(frozen=True)
class Row:
    scope: str
    class_id: str
    start: int | None
    end: int | None
    status: str


def _window(rng: random.Random, index: int, previous: list[Row]) -> list[int | None] | None:
    """Past, future, running now, half-open, unbounded, or tied with an earlier start."""
    kind = index % 8
    if kind == 0:
        return None
    if kind == 1:
        return [None, NOW + rng.choice([-1, 1]) * rng.randint(30, 700) * DAY]
    if kind == 2:
        return [NOW + rng.randint(-700, 700) * DAY, None]
    if kind == 3:
        return [NOW - 7200, NOW + rng.randint(1, 30) * DAY]
    if kind == 4 and any(row.start is not None for row in previous):
        start = rng.choice([row.start for row in previous if row.start is not None])
        assert start is not None
        return [start, start + rng.randint(1, 48) * 3600]
    start = NOW + rng.choice([-1, 1]) * rng.randint(30, 700) * DAY
    return [start, start + rng.randint(1, 72) * 3600]


async def _record(api: Api, class_id: str, kind: int) -> None:
    """Recordings whose FIRST one (D4) decides: finished, adjusted or transcoded."""
    earlier = datetime.now(UTC) - timedelta(hours=1)
    first = [{}, {"adjusted_at": earlier}, {"adjusted_at": earlier, "transcoded_at": earlier}]
    await add_recording(api, class_id, created_at=earlier, created_by="a", **first[kind])
    # a later recording that would say otherwise, were it the first
    later = {"adjusted_at": earlier, "transcoded_at": earlier} if kind < 2 else {}
    await add_recording(api, class_id, created_by="b", **later)


@pytest.fixture
async def schedule(api: Api) -> list[Row]:
    """36 minigroups of every kind of window and status, with scopes under several prefixes."""
    rng = random.Random(9)
    rows: list[Row] = []
    for index in range(36):
        window = _window(rng, index, rows)
        body: dict[str, Any] = {"scope": f"{PREFIXES[index % len(PREFIXES)]}{index:02d}"}
        if window is not None:
            body["time"] = window
        created = await api.create(**body)
        if index % 3 == 1 and (window is None or window[1] is None or window[1] < NOW):
            await _record(api, created["id"], rng.randrange(3))
        read = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
        start, end = created["time"]
        rows.append(Row(created["scope"], created["id"], start, end, read.json()["status"]))
    assert {row.status for row in rows} == {
        "real-time",
        "closed",
        "finished",
        "adjusted",
        "transcoded",
    }
    return rows


def expected(rows: list[Row], params: Params) -> list[str]:
    """What the filters say, in schedule order, computed from the rows."""
    statuses = params.get("status")
    if isinstance(statuses, str):
        statuses = [statuses]
    from_, to, prefix = params.get("from"), params.get("to"), params.get("scope_prefix")
    kept = [
        row
        for row in rows
        if (not statuses or row.status in statuses)
        and (from_ is None or row.end is None or row.end > from_)
        and (to is None or row.start is None or row.start < to)
        and (not prefix or row.scope.startswith(prefix))
    ]
    kept.sort(key=lambda row: schedule_key([row.start, row.end], row.class_id))
    return [row.scope for row in kept]


def _boundaries(rows: list[Row]) -> tuple[int, int]:
    """An end and a later start that some minigroups have exactly: `from`/`to` exclude them."""
    end = min(row.end for row in rows if row.end is not None and row.start is not None)
    start = min(row.start for row in rows if row.start is not None and row.start > end)
    return end, start


async def test_the_schedule_order_and_no_filter(api: Api, schedule: list[Row]) -> None:
    everything = await walk(api, limit=100)
    assert scopes(everything) == expected(schedule, {})
    assert [item["id"] for item in everything[:5]] == [
        row.scope for row in sorted(schedule, key=lambda r: (r.start is not None, UUID(r.class_id)))
    ][:5]  # the unbounded starts come first, by id
    assert scopes(await walk(api, limit=1)) == expected(schedule, {})


STATUS_FILTERS: list[Params] = [
    {"status": "real-time"},
    {"status": "closed"},
    {"status": "finished"},
    {"status": "adjusted"},
    {"status": "transcoded"},
    {"status": ["real-time", "closed"]},
    {"status": ["closed", "transcoded"]},
    {"status": ["real-time", "finished", "adjusted"]},
    {"status": ["real-time", "closed", "finished", "adjusted", "transcoded"]},
]


async def test_status_filters(api: Api, schedule: list[Row]) -> None:
    for params in STATUS_FILTERS:
        assert scopes(await walk(api, params)) == expected(schedule, params), params


async def test_windows_prefixes_and_combinations(api: Api, schedule: list[Row]) -> None:
    end, start = _boundaries(schedule)
    windows: list[Params] = [
        {"from": NOW},
        {"from": NOW - 60 * DAY},
        {"to": NOW + 90 * DAY},
        {"from": NOW - 400 * DAY, "to": NOW + 90 * DAY},
        {"from": end},
        {"to": start},
        {"from": end, "to": start + 1},
        {"from": start},  # a window starting exactly there is listed once
        {"from": start, "status": ["real-time", "closed"]},
    ]
    prefixes: list[Params] = [
        {"scope_prefix": prefix} for prefix in ["alg-", "al", "Al", "al%", "alg_", "\u00df", "z"]
    ]
    combinations: list[Params] = [
        {"status": "real-time", "from": NOW + 30 * DAY},
        {"status": "real-time", "from": NOW - 30 * DAY, "to": NOW + 300 * DAY},
        {"status": ["closed", "transcoded"], "from": NOW - 400 * DAY},
        {"status": ["real-time", "closed"], "to": NOW - DAY, "scope_prefix": "al"},
        {"status": ["finished", "adjusted", "transcoded"], "scope_prefix": "a", "from": 0},
        {"status": "closed", "from": end},
    ]
    for params in windows + prefixes + combinations:
        assert scopes(await walk(api, params)) == expected(schedule, params), params
        wanted = expected(schedule, params)
        assert scopes((await ok_page(api, {**params, "limit": 100}))["items"]) == wanted
    assert expected(schedule, {"from": end}) != expected(schedule, {"from": end - 1})
    assert expected(schedule, {"to": start}) != expected(schedule, {"to": start + 1})


async def test_a_window_with_from_not_before_to_is_refused(api: Api) -> None:
    response = await page(api, {"from": NOW, "to": NOW})
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_query_string"


async def test_page_sizes(api: Api) -> None:
    for index in range(21):
        await api.create(scope=f"size-{index:02d}", time=[NOW + index * DAY, NOW + index * DAY + 1])
    first = await ok_page(api)
    assert len(first["items"]) == 20  # the default
    assert first["next_cursor"] is not None
    second = await ok_page(api, {"cursor": first["next_cursor"]})
    assert (len(second["items"]), second["next_cursor"]) == (1, None)
    assert len((await ok_page(api, {"limit": 100}))["items"]) == 21
    assert (await ok_page(api, {"limit": "", "cursor": ""}))["items"] == first["items"]
    one = await ok_page(api, {"limit": 1})
    assert scopes(one["items"]) == ["size-00"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "limit=1.5",
        "limit=5&limit=6",
        "status=live",
        "status=Closed",
        "status[x]=closed",
        "from=soon",
        "to=99999999999999",
        "from=1&from=2",
        "scope_prefix=a%00",
        "status=%FF",
    ],
)
async def test_a_malformed_query_is_400(api: Api, query: str) -> None:
    response = await api.client.get(
        f"/api/v1/audiences/usr.example.org/minigroups?{query}", headers=api.auth()
    )
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "invalid_query_string"


async def test_an_empty_audience_has_an_empty_page(api: Api) -> None:
    assert await ok_page(api) == {"items": [], "next_cursor": None}
