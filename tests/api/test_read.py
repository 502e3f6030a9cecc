"""R1/R3 reads: the read representation (HTTP §2.11 C), status rules (§3, D4), filters, D5, D26."""

from __future__ import annotations

import time
from uuid import UUID

import pytest

from tests.api.conftest import ADMIN, AUDIENCE, LOCKED, Api
from tests.api.helpers import add_recording, ago


async def test_read_by_id_and_by_scope_give_the_read_representation(api: Api) -> None:
    created = await api.create(scope="lesson-1", tags={"t": 1}, properties={"a": 1, "b": 2})
    by_id = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
    by_scope = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/lesson-1", headers=api.auth()
    )
    assert by_id.status_code == by_scope.status_code == 200
    assert by_id.headers["content-type"] == "application/json"
    body = by_id.json()
    assert body == {
        "class_id": created["id"],
        "id": "lesson-1",
        "real_time": {
            "conference_room_id": created["conference_room_id"],
            "event_room_id": created["event_room_id"],
        },
        "status": "real-time",
        "timed_out": False,
        "turn_host": "turn0",
        "content_id": created["id"],
        "properties": {},
        "account_properties": {},
    }
    assert list(body) == list(by_scope.json())
    assert by_scope.json() == body


async def test_class_and_account_key_filters(api: Api) -> None:
    created = await api.create(properties={"a": 1, "b": None, "c": [1]})
    put = await api.client.put(
        "/api/v1/account/properties/onboarding", json={"done": True}, headers=api.auth()
    )
    assert put.status_code == 200
    url = f"/api/v1/minigroups/{created['id']}"
    query = "?class_keys[]=a&class_keys[]=b&class_keys[]=zzz&account_keys[]=onboarding&"
    body = (await api.client.get(url + query, headers=api.auth())).json()
    assert body["properties"] == {"a": 1, "b": None}
    assert body["account_properties"] == {"onboarding": {"done": True}}
    plain = (await api.client.get(url + "?class_keys=c", headers=api.auth())).json()
    assert plain["properties"] == {"c": [1]}
    assert plain["account_properties"] == {}
    bad = await api.client.get(url + "?class_keys[x]=a", headers=api.auth())
    assert bad.status_code == 400
    assert bad.json()["type"] == "invalid_query_string"


async def test_status_closed_when_the_end_has_passed(api: Api) -> None:
    now = int(time.time())
    ended = await api.create(time=[now - 7200, now - 3600])
    body = (await api.client.get(f"/api/v1/minigroups/{ended['id']}", headers=api.auth())).json()
    assert body["status"] == "closed"
    future = await api.create(time=[now - 60, now + 3600])
    body = (await api.client.get(f"/api/v1/minigroups/{future['id']}", headers=api.auth())).json()
    assert body["status"] == "real-time"


async def test_status_and_versions_follow_the_earliest_recording(api: Api) -> None:
    created = await api.create(tags={"t": 1})
    first = await add_recording(api, created["id"], created_at=ago(60))
    await add_recording(
        api, created["id"], created_by="web.user2.usr.example.org", created_at=ago(30),
        transcoded_at=ago(1),
    )  # fmt: skip
    url = f"/api/v1/minigroups/{created['id']}"
    body = (await api.client.get(url, headers=api.auth())).json()
    assert body["status"] == "finished"  # D4: the earliest recording decides
    assert body["real_time"]["rtc_id"] == str(first.rtc_id)
    assert "on_demand" not in body


async def test_transcoded_minigroup_shows_versions_and_position(api: Api) -> None:
    created = await api.create(tags={"t": 1})
    original, modified = (
        "6b2f0000-0000-4000-8000-000000000001",
        "6b2f0000-0000-4000-8000-000000000002",
    )
    async with api.container.ctx.store.unit_of_work() as uow:
        await uow.minigroups.record_adjustment(UUID(created["id"]), UUID(original), UUID(modified))
        await uow.minigroups.set_room_events_uri(UUID(modified), "s3://dump.json")
        await uow.commit()
    recording = await add_recording(api, created["id"], adjusted_at=ago(5), transcoded_at=ago(1))
    saved = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/timestamps", json={"position": 50}, headers=api.auth()
    )
    assert saved.status_code == 201
    body = (await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())).json()
    assert body["status"] == "transcoded"
    assert body["position"] == 50
    assert body["on_demand"] == [
        {"version": "original", "event_room_id": original, "stream_id": str(recording.rtc_id),
         "tags": {"t": 1}},
        {"version": "modified", "event_room_id": modified, "stream_id": str(recording.rtc_id),
         "tags": {"t": 1}, "room_events_uri": "s3://dump.json"},
    ]  # fmt: skip
    other = (
        await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth("user2"))
    ).json()
    assert "position" not in other  # positions are per caller


@pytest.mark.parametrize(
    "form",
    [
        "{id}",
        "{hex}",
        "{upper}",
        "{{{id}}}",
        "urn:uuid:{id}",
    ],
)
async def test_every_uuid_spelling_reaches_the_same_minigroup(api: Api, form: str) -> None:
    created = await api.create()
    spelled = form.format(
        id=created["id"], hex=created["id"].replace("-", ""), upper=created["id"].upper()
    )
    response = await api.client.get(f"/api/v1/minigroups/{spelled}", headers=api.auth())
    assert response.status_code == 200
    assert response.json()["class_id"] == created["id"]


async def test_not_found_cases_are_json_404(api: Api) -> None:
    missing = await api.client.get(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000", headers=api.auth()
    )
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "class_not_found",
        "title": "Class not found",
        "detail": "Failed to find minigroup",
    }
    by_scope = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/nope", headers=api.auth()
    )
    assert by_scope.status_code == 404  # D5: JSON like every other route
    assert by_scope.json()["type"] == "class_not_found"
    bad = await api.client.get("/api/v1/minigroups/not-a-uuid", headers=api.auth())
    assert bad.status_code == 400
    assert bad.json()["type"] == "invalid_parameter"


async def test_a_dummy_is_never_visible(api: Api) -> None:
    """D26: a create whose rooms are still being made (or failed) is not found."""
    api.faults.silence("conference", "room.create")
    response = await api.client.post(
        "/api/v1/minigroups", json={"scope": "ghost", "audience": AUDIENCE}, headers=api.auth()
    )
    assert response.status_code == 504
    by_scope = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/ghost", headers=api.auth()
    )
    assert by_scope.status_code == 404


async def test_404_comes_before_403_and_403_reveals_nothing(api: Api) -> None:
    created = await api.create(audience=LOCKED, properties={"secret": 1})
    denied = await api.client.get(
        f"/api/v1/minigroups/{created['id']}?class_keys[]=secret",
        headers=api.auth("intruder", LOCKED),
    )
    assert denied.status_code == 403
    assert "secret" not in denied.text
    assert created["event_room_id"] not in denied.text
    missing = await api.client.get(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000",
        headers=api.auth("intruder", LOCKED),
    )
    assert missing.status_code == 404
    allowed = await api.client.get(
        f"/api/v1/minigroups/{created['id']}", headers=api.auth(ADMIN, LOCKED)
    )
    assert allowed.status_code == 200


async def test_head_runs_the_read_and_sends_no_body(api: Api) -> None:
    created = await api.create()
    response = await api.client.head(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
    assert response.status_code == 200
    assert response.content == b""
    missing = await api.client.head(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000", headers=api.auth()
    )
    assert missing.status_code == 404
