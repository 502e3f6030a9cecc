"""R8 recreate: new room pair with classroom_id, recordings retired, locks, D14 on failure."""

from __future__ import annotations

import time
from uuid import UUID

from tests.api.conftest import Api
from tests.api.helpers import add_recording


async def test_recreate_makes_a_new_room_pair_and_retires_recordings(api: Api) -> None:
    created = await api.create(tags={"t": 1}, reserve=3, time=[1900000000, 1900003600])
    await add_recording(api, created["id"])
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/recreate",
        json={"time": [1900007200, 1900010800], "locked_chat": False},
        headers=api.auth(),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["time"] == [1900007200, 1900010800]
    assert body["event_room_id"] != created["event_room_id"]
    assert body["conference_room_id"] != created["conference_room_id"]
    event_payload = api.faults.calls_to("event", "room.create")[-1].payload
    assert event_payload["classroom_id"] == created["id"]
    assert event_payload["tags"] == {"t": 1}
    assert event_payload["kind"] == "Minigroup"
    conference_payload = api.faults.calls_to("conference", "room.create")[-1].payload
    assert conference_payload == {
        "audience": created["audience"],
        "time": [1900007200, None],
        "rtc_sharing_policy": "owned",
        "reserve": 3,
        "tags": {"t": 1},
        "classroom_id": created["id"],
    }
    lock = api.faults.calls_to("event", "room.locked_types")[-1].payload
    assert lock["id"] == body["event_room_id"]
    assert lock["locked_types"]["message"] is False
    read = (await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())).json()
    assert read["status"] == "real-time"  # the old recording is soft-deleted
    assert read["real_time"]["event_room_id"] == body["event_room_id"]


async def test_recreate_without_time_makes_the_minigroup_unbounded(api: Api) -> None:
    created = await api.create(time=[1900000000, 1900003600])
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/recreate", json={}, headers=api.auth()
    )
    assert response.status_code == 200
    assert response.json()["time"] == [None, None]


async def test_conference_failure_closes_the_new_event_room_and_keeps_the_old_rooms(
    api: Api,
) -> None:
    created = await api.create()
    api.faults.fail("conference", "room.create", status=500)
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/recreate", json={}, headers=api.auth()
    )
    assert response.status_code == 502
    assert response.json()["detail"] == "Request to conference"
    new_event_room = api.faults.calls_to("event", "room.create")[-1]
    assert new_event_room is not None
    closed = api.faults.calls_to("event", "room.update")
    assert len(closed) == 1
    room = api.sandbox.event.room(UUID(closed[0].payload["id"]))
    assert room["time"][1] is not None
    assert room["time"][1] <= int(time.time()) + 1
    read = (await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())).json()
    assert read["real_time"]["event_room_id"] == created["event_room_id"]


async def test_recreate_requires_a_json_body_and_an_existing_minigroup(api: Api) -> None:
    created = await api.create()
    no_body = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/recreate", headers=api.auth()
    )
    assert no_body.status_code == 400
    missing = await api.client.post(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000/recreate",
        json={},
        headers=api.auth(),
    )
    assert missing.status_code == 404
