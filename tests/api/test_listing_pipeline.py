"""A status filter agrees with a read by id through the whole pipeline, and as time passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from tests.api.conftest import Api, serving_api
from tests.api.listing import ok_page
from tests.api.pipeline import ACCOUNTS, Pipeline

STATUSES = ("real-time", "closed", "finished", "adjusted", "transcoded")


async def _listed_under(api: Api, class_id: str) -> list[str]:
    """The status filters whose listing holds the minigroup."""
    found = []
    for status in STATUSES:
        items = (await ok_page(api, {"status": status, "limit": 100}))["items"]
        if class_id in {item["class_id"] for item in items}:
            found.append(status)
    return found


async def _read_status(api: Api, class_id: str) -> str:
    response = await api.client.get(f"/api/v1/minigroups/{class_id}", headers=api.auth())
    status: str = response.json()["status"]
    return status


async def test_each_pipeline_step_is_listed_under_its_status_only(api: Api) -> None:
    pipeline = Pipeline(api)

    async def emit(topic: str, properties: dict[str, str], payload: str) -> None:
        await api.container.runtime.record(topic, properties, payload)

    accounts = Accounts(ACCOUNTS["event"], ACCOUNTS["conference"], ACCOUNTS["tq"])
    autopilot = SandboxAutopilot(api.sandbox, accounts, emit, upload_delay=0)
    minigroup = await api.create()
    bystander = await api.create()  # stays real-time throughout
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        room = await uow.minigroups.get(UUID(minigroup["id"]))
    assert room is not None
    seen: list[str] = []

    async def check() -> None:
        status = await _read_status(api, minigroup["id"])
        assert await _listed_under(api, minigroup["id"]) == [status]
        assert await _listed_under(api, bystander["id"]) == ["real-time"]
        if not seen or seen[-1] != status:
            seen.append(status)

    await check()
    await autopilot.finish(room, participants=2)
    await pipeline.settle()
    await check()
    for _ in range(20):
        await pipeline.settle()
        await check()
        if not await autopilot.step():
            break
    assert seen == ["real-time", "closed", "finished", "adjusted", "transcoded"]
    # A recreate retires the recordings: a fresh window is real-time again.
    recreate = f"/api/v1/minigroups/{minigroup['id']}/recreate"
    body = {"time": [1900000000, None]}
    response = await api.client.post(recreate, json=body, headers=api.auth())
    assert response.status_code == 200, response.text
    await check()
    assert seen[-1] == "real-time"


@dataclass
class SettableClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


START = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
async def clocked(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Api, SettableClock]]:
    clock = SettableClock(START - timedelta(days=1))
    async with serving_api(database_url, tmp_path, clock=clock) as running:
        yield running, clock


async def test_real_time_becomes_closed_when_the_window_ends(
    clocked: tuple[Api, SettableClock],
) -> None:
    api, clock = clocked
    start = int(START.timestamp())
    created = await api.create(time=[start, start + 3600])
    open_ended = await api.create(time=[start, None])
    end = START + timedelta(hours=1)
    expected: list[tuple[datetime, list[str]]] = [
        (START - timedelta(days=1), ["real-time"]),
        (START + timedelta(minutes=30), ["real-time"]),
        (end, ["real-time"]),  # the end itself has not passed yet
        (end + timedelta(microseconds=1), ["closed"]),
        (end + timedelta(days=400), ["closed"]),
    ]
    for moment, statuses in expected:
        clock.moment = moment
        assert await _listed_under(api, created["id"]) == statuses, moment
        assert [await _read_status(api, created["id"])] == statuses
        assert await _listed_under(api, open_ended["id"]) == ["real-time"]
        windows = ({"status": "real-time", "from": start}, {"status": "closed", "to": start + 1})
        for params in windows:
            items: list[dict[str, Any]] = (await ok_page(api, params))["items"]
            listed = created["id"] in {item["class_id"] for item in items}
            assert listed == (params["status"] in statuses), (moment, params)


async def test_a_room_closed_before_its_start_is_listed_as_closed(api: Api) -> None:
    """`room.close` before the scheduled start leaves an inverted window (end before start)."""
    pipeline = Pipeline(api)
    start = int(datetime.now(UTC).timestamp()) + 30 * 86_400
    early = await api.create(time=[start, start + 3600])
    later = await api.create(time=[start + 60, start + 3660])
    close = {
        "id": early["conference_room_id"],
        "audience": early["audience"],
        "time": [start, start + 3600],
        "timed_out": False,
    }
    assert await pipeline.deliver("room.close", close)
    await pipeline.settle()
    read = await api.client.get(f"/api/v1/minigroups/{early['id']}", headers=api.auth())
    assert read.json()["status"] == "closed"
    assert await _listed_under(api, early["id"]) == ["closed"]
    closed = (await ok_page(api, {"status": "closed", "from": start - 86_400}))["items"]
    assert [item["class_id"] for item in closed] == []  # it ended now, before `from`
    both = (await ok_page(api, {"status": ["closed", "real-time"], "limit": 1}))["items"]
    assert [item["class_id"] for item in both] == [early["id"]]  # still ordered by its start
    assert await _listed_under(api, later["id"]) == ["real-time"]
