"""R2/R4 update: D2 (properties kept), D15 (outbound time mapping), shapes, failures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import AUDIENCE, Api


async def test_update_by_id_answers_the_db_object_and_keeps_properties(api: Api) -> None:
    created = await api.create(properties={"keep": "me"}, reserve=20, tags={"t": 1})
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}",
        json={"time": [1900000000, None], "host": "web.teacher.usr.example.org", "properties": {}},
        headers=api.auth(),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["time"] == [1900000000, None]
    assert body["reserve"] == 20  # unchanged
    assert body["host"] == "web.teacher.usr.example.org"
    assert body["properties"] == {"keep": "me"}  # D2: never wiped
    assert body["event_room_id"] == created["event_room_id"]
    read = await api.client.get(
        f"/api/v1/minigroups/{created['id']}?class_keys[]=keep", headers=api.auth()
    )
    assert read.json()["properties"] == {"keep": "me"}


async def test_update_by_scope_answers_the_partial_read_representation(api: Api) -> None:
    created = await api.create(scope="by-scope", properties={"p": 1})
    response = await api.client.put(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/by-scope", json={"reserve": 5}, headers=api.auth()
    )
    assert response.status_code == 200
    assert response.json() == {
        "class_id": created["id"],
        "id": "by-scope",
        "real_time": {
            "conference_room_id": created["conference_room_id"],
            "event_room_id": created["event_room_id"],
        },
        "timed_out": False,
        "turn_host": "turn0",
        "content_id": created["id"],
        "properties": {"p": 1},
        "account_properties": {},
    }
    missing = await api.client.put(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/none", json={}, headers=api.auth()
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Failed to find minigroup by scope"


@pytest.mark.parametrize(
    ("body", "conference_time"),
    [
        ({"time": [1900000000, 1900003600]}, [1900000000, 1900003600]),
        ({"time": [1900000000, None]}, [1900000000, None]),
    ],
)
async def test_time_update_payloads_follow_d15(
    api: Api, body: dict[str, Any], conference_time: list[int | None]
) -> None:
    created = await api.create()
    before = int(time.time())
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json=body, headers=api.auth()
    )
    assert response.status_code == 200
    assert response.json()["time"] == body["time"]
    event_update = api.faults.calls_to("event", "room.update")
    assert len(event_update) == 1
    assert event_update[0].payload["id"] == created["event_room_id"]
    assert set(event_update[0].payload) == {"id", "time"}
    start, end = event_update[0].payload["time"]
    assert before - 1 <= start <= int(time.time()) + 1  # the event room reopens now
    assert end is None
    assert [call.payload for call in api.faults.calls_to("conference", "room.update")] == [
        {"id": created["conference_room_id"], "time": conference_time, "reserve": None}
    ]


@pytest.mark.parametrize("time_body", [[None, 1900003600], [None, None]])
async def test_unbounded_start_sends_null_null_which_the_conference_refuses(
    api: Api, time_body: list[int | None]
) -> None:
    """D15 keeps the upstream contract: `[null, null]`; the conference answers 400 to it, which
    is the caller's time at fault: 400 (issue 8: no 5xx for a caller's input)."""
    created = await api.create(time=[1900000000, 1900003600])
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json={"time": time_body}, headers=api.auth()
    )
    assert [call.payload for call in api.faults.calls_to("conference", "room.update")] == [
        {"id": created["conference_room_id"], "time": [None, None], "reserve": None}
    ]
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_payload"
    assert "invalid room time" in response.json()["detail"].lower()
    unchanged = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json={}, headers=api.auth()
    )
    assert unchanged.json()["time"] == [1900000000, 1900003600]


async def test_reserve_and_host_only_touch_the_conference_room(api: Api) -> None:
    created = await api.create()
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}",
        json={"reserve": 7, "host": "web.teacher.usr.example.org"},
        headers=api.auth(),
    )
    assert response.status_code == 200
    assert api.faults.calls_to("event", "room.update") == []
    assert [call.payload for call in api.faults.calls_to("conference", "room.update")] == [
        {
            "id": created["conference_room_id"],
            "time": None,
            "reserve": 7,
            "host": "web.teacher.usr.example.org",
        }
    ]


async def test_empty_update_calls_nobody_and_changes_nothing(api: Api) -> None:
    created = await api.create(properties={"a": 1})
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json={}, headers=api.auth()
    )
    assert response.status_code == 200
    assert response.json() == created
    assert api.faults.calls_to("event", "room.update") == []
    assert api.faults.calls_to("conference", "room.update") == []


@pytest.mark.parametrize(("inject", "status"), [("fail", 502), ("silence", 504)])
async def test_upstream_failure_leaves_the_database_untouched(
    api: Api, inject: str, status: int
) -> None:
    created = await api.create(reserve=1)
    if inject == "fail":
        api.faults.fail("conference", "room.update", status=500)
    else:
        api.faults.silence("conference", "room.update")
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json={"reserve": 9}, headers=api.auth()
    )
    assert response.status_code == status
    assert response.json()["type"] == "mqtt_request_failed"
    assert response.json()["detail"] == "Services requests"
    api.faults.reset_failures()
    unchanged = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json={}, headers=api.auth()
    )
    assert unchanged.json()["reserve"] == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"host": "nodots"}, "`host`"),
        ({"host": "one.dot"}, "`host`"),
        ({"host": 5}, "$.host"),
        ({"time": [5, 1]}, "start < end"),
        ({"time": [1, 2.5]}, "time[1]"),
        ({"reserve": "5"}, "$.reserve"),
    ],
)
async def test_invalid_update_bodies(api: Api, body: dict[str, Any], fragment: str) -> None:
    created = await api.create()
    response = await api.client.put(
        f"/api/v1/minigroups/{created['id']}", json=body, headers=api.auth()
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_payload"
    assert fragment in response.json()["detail"]
    assert api.faults.calls_to("conference", "room.update") == []


async def test_update_of_unknown_minigroup_is_404(api: Api) -> None:
    response = await api.client.put(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000", json={}, headers=api.auth()
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "Failed to find minigroup"


async def test_moving_a_minigroup_whose_rooms_have_closed_is_the_callers_400(api: Api) -> None:
    """Issue 9 (schemathesis): the conference answers `404 room_closed` to a time change of a
    closed room; that is the caller asking to move a lesson that is over, not a peer failure."""
    created = await api.create(time=[1900000000, 1900003600])
    url = f"/api/v1/minigroups/{created['id']}"
    ended = await api.client.put(url, json={"time": [1, 2]}, headers=api.auth())
    assert ended.status_code == 200  # the rooms close: the lesson lies in the past
    moved = await api.client.put(url, json={"time": [1900000000, None]}, headers=api.auth())
    assert moved.status_code == 400, moved.text
    assert moved.json()["type"] == "invalid_payload"
    assert moved.json()["detail"].startswith("The rooms refused the change: Room closed")
    assert "request id" not in moved.json()["detail"]  # a 4xx is the caller's: no log pointer
    read = await api.client.get(url, headers=api.auth())
    assert read.json()["status"] == "closed"  # nothing was stored
