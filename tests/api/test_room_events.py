"""R11 proxied events (D9, D8) and R12 whiteboards (contract.md upstream §3.9)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import Api


async def test_event_is_forwarded_with_the_room_id_overwritten(api: Api) -> None:
    created = await api.create()
    event = {"type": "message", "data": {"text": "hi"}, "room_id": "forged", "extra": [1]}
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/events", json=event, headers=api.auth()
    )
    assert response.status_code == 201
    assert response.content == b"{}"
    sent = api.faults.calls_to("event", "event.create")
    assert [call.payload for call in sent] == [{**event, "room_id": created["event_room_id"]}]


async def test_null_event_becomes_just_the_room_id(api: Api) -> None:
    created = await api.create()
    api.faults.fail("event", "event.create", status=422, times=1)
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/events", content=b"null",
        headers={**api.auth(), "content-type": "application/json"},
    )  # fmt: skip
    assert api.faults.calls_to("event", "event.create")[0].payload == {
        "room_id": created["event_room_id"]
    }
    assert response.status_code == 400  # the event service rejected the event itself


@pytest.mark.parametrize("body", [[1, 2], "text", 5, True])
async def test_non_object_events_are_400(api: Api, body: Any) -> None:
    """D9: the reference's handler panicked here."""
    created = await api.create()
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/events", json=body, headers=api.auth()
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_payload"
    assert api.faults.calls_to("event", "event.create") == []


@pytest.mark.parametrize(
    ("inject", "status", "kind"),
    [
        ("reject-422", 400, "invalid_payload"),
        ("reject-403", 502, "mqtt_request_failed"),
        ("reject-500", 502, "mqtt_request_failed"),
        ("silence", 504, "mqtt_request_failed"),
        ("outage", 503, "mqtt_request_failed"),
    ],
)
async def test_event_service_failures_are_reported(
    api: Api, inject: str, status: int, kind: str
) -> None:
    """D8: error answers are no longer reported as success."""
    created = await api.create()
    if inject.startswith("reject"):
        api.faults.fail("event", "event.create", status=int(inject.split("-")[1]))
    elif inject == "silence":
        api.faults.silence("event", "event.create")
    else:
        api.faults.outage("event")
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/events",
        json={"type": "message", "data": {}},
        headers=api.auth(),
    )
    assert response.status_code == status
    assert response.json()["type"] == kind


async def test_whiteboard_creates_a_document_and_its_first_page(api: Api) -> None:
    created = await api.create()
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/whiteboard",
        headers={**api.auth(), "content-type": "application/json"},  # front-ends send it anyway
    )
    assert response.status_code == 201
    assert response.content == b""
    first, second = (call.payload for call in api.faults.calls_to("event", "event.create"))
    room = created["event_room_id"]
    document = first["label"]
    assert str(UUID(document)) == document
    assert first == {
        "room_id": room,
        "type": "document",
        "set": "document",
        "data": {"title": "whiteboard", "page": 1, "published": True, "url": "about:whiteboard"},
        "label": document,
    }
    assert second == {
        "room_id": room,
        "type": "document_page",
        "set": f"document_page_{document}",
        "data": {"page": 1, "title": ""},
        "label": f"document_page_{document}_1",
    }


@pytest.mark.parametrize(("inject", "status"), [("fail", 502), ("silence", 504)])
async def test_whiteboard_failure(api: Api, inject: str, status: int) -> None:
    created = await api.create()
    if inject == "fail":
        api.faults.fail("event", "event.create", status=500)
    else:
        api.faults.silence("event", "event.create")
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/whiteboard", headers=api.auth()
    )
    assert response.status_code == status
    assert response.json()["type"] == "creation_whiteboard_failed"
    assert len(api.faults.calls_to("event", "event.create")) == 1  # the page is not attempted
