"""What reaches the simulated peers over the broker, field by field (issue 3, item 1).

Topic `agents/<agent>/api/v1/out/<peer>`, envelope properties exactly type, method,
correlation_data (16 of [A-Za-z0-9]), response_topic and timestamp (plus the tracking properties
of the HTTP request they serve, issue 11), and each payload of create,
recreate, update (each `time` form), proxied events and whiteboards (upstream §1.5, §3, §4).
"""

from __future__ import annotations

import re
import time
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import AUDIENCE
from tests.integration.ulms.service import CONFERENCE_ACCOUNT, EVENT_ACCOUNT, UlmsApi
from tests.support.simulators import BrokerRequest

CORRELATION = re.compile(r"[A-Za-z0-9]{16}")
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TRACKING_ID = re.compile(rf"{_UUID}\.{_UUID}\.{_UUID}")  # svc-agent's TrackingId
PEERS = {"event": EVENT_ACCOUNT, "conference": CONFERENCE_ACCOUNT}
LOCKED = {"message": True, "reaction": True, "question": True, "question_reaction": True}


class Window:
    """One HTTP call: the requests it made and its wall-clock interval (`timestamp`, `now`)."""

    def __init__(self, service: UlmsApi) -> None:
        self.service = service

    def __enter__(self) -> Window:
        self.first = len(self.service.peers.requests)
        self.start_ms = int(time.time() * 1000)
        return self

    def __exit__(self, *_: object) -> None:
        self.end_ms = int(time.time() * 1000)

    @property
    def requests(self) -> list[BrokerRequest]:
        return self.service.peers.requests[self.first :]

    def holds_ms(self, value: str) -> bool:
        return self.start_ms <= int(value) <= self.end_ms

    def holds_s(self, value: object) -> bool:
        return isinstance(value, int) and self.start_ms // 1000 <= value <= self.end_ms // 1000


def check_envelopes(service: UlmsApi, window: Window, expected: list[tuple[str, str]]) -> None:
    """The call's requests are `expected` (service, method), in order, each with the exact
    topic and properties."""
    assert [(r.service, r.method) for r in window.requests] == expected
    for request in window.requests:
        peer = PEERS[request.service]
        assert request.topic == f"agents/{service.agent_id}/api/v1/out/{peer}"
        assert set(request.properties) == {
            "type",
            "method",
            "correlation_data",
            "response_topic",
            "timestamp",
            # issue 11: made for an HTTP request, so its request id is the tracking label
            "tracking_id",
            "session_tracking_label",
        }
        session = request.properties["session_tracking_label"]
        assert TRACKING_ID.fullmatch(request.properties["tracking_id"])
        assert request.properties["tracking_id"].endswith(f".{session}")
        assert request.properties["type"] == "request"
        assert CORRELATION.fullmatch(request.properties["correlation_data"])
        assert window.holds_ms(request.properties["timestamp"])
        assert request.properties["response_topic"] == f"agents/{service.agent_id}/api/v1/in/{peer}"
    correlations = [r.properties["correlation_data"] for r in service.peers.requests]
    assert len(set(correlations)) == len(correlations)


def payload(service: UlmsApi, peer: str, method: str, index: int = -1) -> dict[str, Any]:
    requests: list[BrokerRequest] = service.requests(peer, method)
    return requests[index].payload


@pytest.mark.parametrize(
    ("extra", "event_extra", "conference_extra"),
    [
        (
            {"tags": {"t": 1}, "reserve": 3},
            {"tags": {"t": 1}},
            {"reserve": 3, "tags": {"t": 1}},
        ),
        ({}, {}, {}),
    ],
    ids=["tags-and-reserve", "bare"],
)
async def test_create(
    service: UlmsApi,
    extra: dict[str, Any],
    event_extra: dict[str, Any],
    conference_extra: dict[str, Any],
) -> None:
    body = {"audience": AUDIENCE, "scope": "wire", "time": [1900000000, 1900003600], **extra}
    with Window(service) as window:
        response = await service.api.client.post(
            "/api/v1/minigroups", json=body, headers=service.api.auth("admin")
        )
    assert response.status_code == 201, response.text
    created = response.json()
    check_envelopes(
        service,
        window,
        [("event", "room.create"), ("conference", "room.create"), ("event", "room.locked_types")],
    )
    event = payload(service, "event", "room.create")
    assert window.holds_s(event["time"][0])
    assert event == {
        "audience": AUDIENCE,
        "time": [event["time"][0], None],
        "preserve_history": True,
        **event_extra,
        "classroom_id": created["id"],
        "kind": "Minigroup",
    }
    assert payload(service, "conference", "room.create") == {
        "audience": AUDIENCE,
        "time": [1900000000, None],
        "rtc_sharing_policy": "owned",
        **conference_extra,
        "classroom_id": created["id"],
    }
    assert payload(service, "event", "room.locked_types") == {
        "id": created["event_room_id"],
        "locked_types": LOCKED,
    }
    stored = service.api.sandbox.event.room(UUID(created["event_room_id"]))
    assert stored["classroom_id"] == created["id"]  # the answer came back to this request


async def test_recreate(service: UlmsApi) -> None:
    created = await service.api.create(tags={"t": 2}, reserve=4, time=[1900000000, 1900003600])
    with Window(service) as window:
        response = await service.api.client.post(
            f"/api/v1/minigroups/{created['id']}/recreate",
            json={"time": [1900007200, 1900010800], "locked_questions": False},
            headers=service.api.auth(),
        )
    assert response.status_code == 200, response.text
    recreated = response.json()
    check_envelopes(
        service,
        window,
        [("event", "room.create"), ("conference", "room.create"), ("event", "room.locked_types")],
    )
    event = payload(service, "event", "room.create")
    assert window.holds_s(event["time"][0])
    assert event == {
        "audience": AUDIENCE,
        "time": [event["time"][0], None],
        "preserve_history": True,
        "tags": {"t": 2},
        "classroom_id": created["id"],
        "kind": "Minigroup",
    }
    assert payload(service, "conference", "room.create") == {
        "audience": AUDIENCE,
        "time": [1900007200, None],
        "rtc_sharing_policy": "owned",
        "reserve": 4,
        "tags": {"t": 2},
        "classroom_id": created["id"],
    }
    assert payload(service, "event", "room.locked_types") == {
        "id": recreated["event_room_id"],
        "locked_types": {**LOCKED, "question": False, "question_reaction": False},
    }


@pytest.mark.parametrize(
    ("time_body", "conference_time", "status"),
    [
        ([1900000000, 1900003600], [1900000000, 1900003600], 200),
        ([1900000000, None], [1900000000, None], 200),
        ([None, 1900003600], [None, None], 400),  # D15: the conference refuses [null, null]
        ([None, None], [None, None], 400),  # (the caller's time: 400, docs/decisions.md)
    ],
    ids=["bounded", "open-end", "open-start", "unbounded"],
)
async def test_update_time(
    service: UlmsApi, time_body: list[int | None], conference_time: list[int | None], status: int
) -> None:
    created = await service.api.create(time=[1900000000, 1900003600])
    with Window(service) as window:
        response = await service.api.client.put(
            f"/api/v1/minigroups/{created['id']}",
            json={"time": time_body},
            headers=service.api.auth(),
        )
    assert response.status_code == status, response.text
    sent = sorted((r.service, r.method) for r in window.requests)  # concurrent: any order
    assert sent == [("conference", "room.update"), ("event", "room.update")]
    check_envelopes(service, window, [(r.service, r.method) for r in window.requests])
    event = payload(service, "event", "room.update")
    assert window.holds_s(event["time"][0])
    assert event == {"id": created["event_room_id"], "time": [event["time"][0], None]}
    assert payload(service, "conference", "room.update") == {
        "id": created["conference_room_id"],
        "time": conference_time,
        "reserve": None,
    }


async def test_update_reserve_and_host(service: UlmsApi) -> None:
    created = await service.api.create()
    with Window(service) as window:
        response = await service.api.client.put(
            f"/api/v1/minigroups/{created['id']}",
            json={"reserve": 7, "host": "web.teacher.usr.example.org"},
            headers=service.api.auth(),
        )
    assert response.status_code == 200, response.text
    check_envelopes(service, window, [("conference", "room.update")])
    assert payload(service, "conference", "room.update") == {
        "id": created["conference_room_id"],
        "time": None,
        "reserve": 7,
        "host": "web.teacher.usr.example.org",
    }


async def test_proxied_event(service: UlmsApi) -> None:
    created = await service.api.create()
    event = {"type": "message", "data": {"text": "hi"}, "room_id": "forged", "is_claim": False}
    with Window(service) as window:
        response = await service.api.client.post(
            f"/api/v1/minigroups/{created['id']}/events", json=event, headers=service.api.auth()
        )
    assert response.status_code == 201, response.text
    check_envelopes(service, window, [("event", "event.create")])
    assert payload(service, "event", "event.create") == {
        **event,
        "room_id": created["event_room_id"],
    }


async def test_whiteboard(service: UlmsApi) -> None:
    created = await service.api.create()
    with Window(service) as window:
        response = await service.api.client.post(
            f"/api/v1/minigroups/{created['id']}/whiteboard", headers=service.api.auth()
        )
    assert response.status_code == 201, response.text
    check_envelopes(service, window, [("event", "event.create"), ("event", "event.create")])
    document, page = (payload(service, "event", "event.create", i) for i in (-2, -1))
    label = document["label"]
    assert str(UUID(label)) == label
    room = created["event_room_id"]
    assert document == {
        "room_id": room,
        "type": "document",
        "set": "document",
        "label": label,
        "data": {"title": "whiteboard", "page": 1, "published": True, "url": "about:whiteboard"},
    }
    assert page == {
        "room_id": room,
        "type": "document_page",
        "set": f"document_page_{label}",
        "label": f"document_page_{label}_1",
        "data": {"page": 1, "title": ""},
    }
