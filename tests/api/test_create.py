"""R9 create: payloads of contract.md upstream §3.1/§4.1/§3.2, D3, D7, D13, D14, R9's errors."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from minigroups.domain.errors import ClassAlreadyEstablished
from minigroups.domain.ids import AccountId
from minigroups.services import minigroups as use_cases
from minigroups.services.rooms import RoomPair, RoomSpec
from tests.api.conftest import ADMIN, AUDIENCE, LOCKED, Api


async def test_create_answers_201_with_the_established_db_object(api: Api) -> None:
    before = int(time.time())
    response = await api.client.post(
        "/api/v1/minigroups",
        json={
            "scope": "lesson-42",
            "audience": AUDIENCE,
            "time": [1900000000, 1900003600],
            "tags": {"x": 1},
            "properties": {"is_adult": True},
            "reserve": 10,
            "host": "ignored.by.the.reference",
        },
        headers=api.auth(),
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == [
        "id", "scope", "time", "audience", "created_at", "tags", "properties",
        "conference_room_id", "event_room_id", "preserve_history", "reserve",
        "room_events_uri", "host", "timed_out",
    ]  # fmt: skip
    assert body["scope"] == "lesson-42"
    assert body["time"] == [1900000000, 1900003600]
    assert body["tags"] == {"x": 1}
    assert body["properties"] == {"is_adult": True}
    assert body["reserve"] == 10
    assert body["preserve_history"] is True
    assert body["host"] is None
    assert body["timed_out"] is False
    assert before - 1 <= body["created_at"] <= int(time.time()) + 1
    assert b"\n" not in response.content  # compact (D3)

    event_create = api.faults.calls_to("event", "room.create")
    conference_create = api.faults.calls_to("conference", "room.create")
    assert len(event_create) == len(conference_create) == 1
    event_payload = event_create[0].payload
    assert set(event_payload) == {
        "audience",
        "time",
        "preserve_history",
        "tags",
        "classroom_id",
        "kind",
    }
    assert event_payload["audience"] == AUDIENCE
    assert event_payload["time"][1] is None
    assert before - 1 <= event_payload["time"][0] <= int(time.time()) + 1
    assert event_payload["preserve_history"] is True
    assert event_payload["tags"] == {"x": 1}
    assert event_payload["classroom_id"] == body["id"]
    assert event_payload["kind"] == "Minigroup"
    assert conference_create[0].payload == {
        "audience": AUDIENCE,
        "time": [1900000000, None],
        "rtc_sharing_policy": "owned",
        "reserve": 10,
        "tags": {"x": 1},
        "classroom_id": body["id"],
    }
    assert body["event_room_id"] == str(api.sandbox.event.room(UUID(body["event_room_id"]))["id"])
    locks = api.faults.calls_to("event", "room.locked_types")
    assert [call.payload for call in locks] == [
        {
            "id": body["event_room_id"],
            "locked_types": {
                "message": True,
                "reaction": True,
                "question": True,
                "question_reaction": True,
            },
        }
    ]


async def test_create_without_optional_members_omits_them_upstream(api: Api) -> None:
    before = int(time.time())
    body = await api.create(scope="bare")
    assert body["time"] == [None, None]
    assert "tags" not in body
    assert body["properties"] == {}
    assert body["reserve"] is None
    event_payload = api.faults.calls_to("event", "room.create")[0].payload
    assert "tags" not in event_payload
    conference_payload = api.faults.calls_to("conference", "room.create")[0].payload
    assert "tags" not in conference_payload
    assert "reserve" not in conference_payload
    assert before - 1 <= conference_payload["time"][0] <= int(time.time()) + 1
    assert conference_payload["time"][1] is None


async def test_lock_flags_map_to_locked_types_and_both_false_send_nothing(api: Api) -> None:
    await api.create(locked_chat=False, locked_questions=True)
    assert api.faults.calls_to("event", "room.locked_types")[0].payload["locked_types"] == {
        "message": False,
        "reaction": False,
        "question": True,
        "question_reaction": True,
    }
    await api.create(locked_chat=False, locked_questions=False)
    assert len(api.faults.calls_to("event", "room.locked_types")) == 1


async def test_lock_failure_is_not_fatal(api: Api) -> None:
    api.faults.fail("event", "room.locked_types", status=500)
    body = await api.create(scope="still-created")
    read = await api.client.get(f"/api/v1/minigroups/{body['id']}", headers=api.auth())
    assert read.status_code == 200


async def test_established_scope_is_422_and_changes_nothing(api: Api) -> None:
    first = await api.create(scope="taken", time=[1900000000, 1900003600])
    response = await api.client.post(
        "/api/v1/minigroups",
        json={"scope": "taken", "audience": AUDIENCE, "time": [2000000000, 2000003600]},
        headers=api.auth(),
    )
    assert response.status_code == 422
    assert response.json() == {
        "type": "class_already_established",
        "title": "Class already established",
    }
    read = await api.client.get(f"/api/v1/minigroups/{first['id']}", headers=api.auth())
    assert read.json()["real_time"]["event_room_id"] == first["event_room_id"]
    assert len(api.faults.calls_to("event", "room.create")) == 1


async def test_ten_concurrent_creates_make_one_room_pair(api: Api) -> None:
    """D13: exactly one create wins; the others get 422 and create no rooms."""

    async def create() -> Any:
        return await api.client.post(
            "/api/v1/minigroups",
            json={"scope": "race", "audience": AUDIENCE},
            headers=api.auth(),
        )

    responses = await asyncio.gather(*(create() for _ in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * 9
    assert {r.json()["type"] for r in responses if r.status_code == 422} == {
        "class_already_established"
    }
    assert len(api.faults.calls_to("event", "room.create")) == 1
    assert len(api.faults.calls_to("conference", "room.create")) == 1


@pytest.mark.parametrize(
    ("inject", "status"),
    [("fail", 502), ("silence", 504), ("outage", 503)],
)
async def test_event_room_failure_forgets_the_dummy(api: Api, inject: str, status: int) -> None:
    if inject == "fail":
        api.faults.fail("event", "room.create", status=500)
    elif inject == "silence":
        api.faults.silence("event", "room.create")
    else:
        api.faults.outage("event")
    response = await api.client.post(
        "/api/v1/minigroups", json={"scope": "doomed", "audience": AUDIENCE}, headers=api.auth()
    )
    assert response.status_code == status
    assert response.json()["type"] == "mqtt_request_failed"
    assert response.json()["detail"] == "Request to event"
    if status == 503:
        assert response.headers["retry-after"]
    assert api.faults.calls_to("conference") == []
    by_scope = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/doomed", headers=api.auth()
    )
    assert by_scope.status_code == 404
    api.faults.reset_failures()
    retry = await api.client.post(
        "/api/v1/minigroups", json={"scope": "doomed", "audience": AUDIENCE}, headers=api.auth()
    )
    assert retry.status_code == 201  # the dummy was removed, the scope is free again


@pytest.mark.parametrize(("silent", "status"), [(False, 502), (True, 504)])
async def test_conference_failure_closes_the_event_room_again(
    api: Api, silent: bool, status: int
) -> None:
    """D14: the event room created before the failure is closed (its end set to now)."""
    if silent:
        api.faults.silence("conference", "room.create")
    else:
        api.faults.fail("conference", "room.create", status=422)
    response = await api.client.post(
        "/api/v1/minigroups", json={"scope": "half", "audience": AUDIENCE}, headers=api.auth()
    )
    assert response.status_code == status
    assert response.json()["detail"] == "Request to conference"
    created = api.faults.calls_to("event", "room.create")
    assert len(created) == 1
    updates = api.faults.calls_to("event", "room.update")
    assert len(updates) == 1
    room = api.sandbox.event.room(UUID(updates[0].payload["id"]))
    assert room["time"][1] is not None
    assert room["time"][1] <= int(time.time()) + 1
    by_scope = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/half", headers=api.auth()
    )
    assert by_scope.status_code == 404


@pytest.mark.parametrize(
    ("body", "detail_fragment"),
    [
        ({"audience": AUDIENCE}, "scope"),
        ({"scope": "s"}, "audience"),
        ({"scope": 1, "audience": AUDIENCE}, "$.scope"),
        ({"scope": "s", "audience": AUDIENCE, "time": [2, 1]}, "start < end"),
        ({"scope": "s", "audience": AUDIENCE, "time": [1.5, 2]}, "time[0]"),
        ({"scope": "s", "audience": AUDIENCE, "time": ["1", 2]}, "time[0]"),
        ({"scope": "s", "audience": AUDIENCE, "time": [1, 2, 3]}, "`time`"),
        ({"scope": "s", "audience": AUDIENCE, "time": [1]}, "`time`"),
        ({"scope": "s", "audience": AUDIENCE, "time": 5}, "`time`"),
        ({"scope": "s", "audience": AUDIENCE, "properties": None}, "$.properties"),
        ({"scope": "s", "audience": AUDIENCE, "properties": [1]}, "$.properties"),
        ({"scope": "s", "audience": AUDIENCE, "locked_chat": None}, "$.locked_chat"),
        ({"scope": "s", "audience": AUDIENCE, "locked_questions": "yes"}, "$.locked_questions"),
        ({"scope": "s", "audience": AUDIENCE, "reserve": 2**31}, "$.reserve"),
        ({"scope": "s", "audience": AUDIENCE, "reserve": 1.0}, "$.reserve"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field_before_any_call(
    api: Api, body: dict[str, Any], detail_fragment: str
) -> None:
    response = await api.client.post("/api/v1/minigroups", json=body, headers=api.auth())
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "invalid_payload"
    assert detail_fragment in problem["detail"]
    assert api.faults.calls == []


async def test_body_must_be_json(api: Api) -> None:
    headers = api.auth()
    no_type = await api.client.post("/api/v1/minigroups", content=b"{}", headers=headers)
    assert no_type.status_code == 400
    assert no_type.json()["detail"] == "Expected request with `Content-Type: application/json`"
    bad = await api.client.post(
        "/api/v1/minigroups",
        content=b"{not json",
        headers={**headers, "content-type": "application/json; charset=utf-8"},
    )
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Failed to parse the request body as JSON"
    vendor = await api.client.post(
        "/api/v1/minigroups",
        content=b'{"scope":"v","audience":"usr.example.org"}',
        headers={**headers, "content-type": "application/vnd.x+json"},
    )
    assert vendor.status_code == 201


async def test_create_needs_create_permission_in_the_body_audience(api: Api) -> None:
    denied = await api.client.post(
        "/api/v1/minigroups",
        json={"scope": "s", "audience": LOCKED},
        headers=api.auth("intruder", LOCKED),
    )
    assert denied.status_code == 403
    assert denied.json() == {
        "type": "access_denied",
        "title": "Access denied",
        "detail": f"[Forbidden] intent::intruder.{LOCKED}::classrooms::create has been "
        "forbidden, the subject isn't in a trusted list",
    }
    assert api.faults.calls == []
    allowed = await api.client.post(
        "/api/v1/minigroups",
        json={"scope": "s", "audience": LOCKED},
        headers=api.auth(ADMIN, LOCKED),
    )
    assert allowed.status_code == 201
    unknown = await api.client.post(
        "/api/v1/minigroups",
        json={"scope": "s", "audience": "nowhere.example.org"},
        headers=api.auth(),
    )
    assert unknown.status_code == 403
    assert (
        "no authorization configuration for the audience = nowhere.example.org"
        in (unknown.json()["detail"])
    )


class SetClock:
    """The service's clock, set by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class ProcessDied(Exception):
    """A create that stops between claiming its dummy and establishing it."""


async def die(_ctx: Any, _spec: RoomSpec) -> RoomPair:
    raise ProcessDied


@pytest.mark.parametrize(
    "start",
    [datetime(2001, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC)],
    ids=["clock-in-the-past", "clock-in-the-future"],
)
async def test_a_stale_dummy_is_taken_over_by_the_services_clock(
    api: Api, monkeypatch: pytest.MonkeyPatch, start: datetime
) -> None:
    """D13 on the service's clock alone: when a dummy was claimed and when it is stale."""
    clock = SetClock(start)
    ctx = dataclasses.replace(api.container.ctx, clock=clock)
    caller = AccountId(ADMIN, AUDIENCE)
    request = use_cases.CreateMinigroup(scope="lesson-clock", audience=AUDIENCE)
    with monkeypatch.context() as patch:
        patch.setattr(use_cases, "create_rooms", die)
        with pytest.raises(ProcessDied):
            await use_cases.create_minigroup(ctx, caller, request)

    clock.current = start + ctx.options.dummy_stale_after - timedelta(seconds=1)
    with pytest.raises(ClassAlreadyEstablished):
        await use_cases.create_minigroup(ctx, caller, request)

    clock.current = start + ctx.options.dummy_stale_after + timedelta(seconds=1)
    minigroup = await use_cases.create_minigroup(ctx, caller, request)
    assert minigroup.created_at == start  # the dead create's dummy, taken over
    assert len(api.faults.calls_to("event", "room.create")) == 1
