"""SandboxEventPeer answers as the event service does: objects, validation, time rules, paging."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from minigroups.adapters.sandbox import Sandbox, SandboxEventPeer
from minigroups.domain.json_value import JsonObject
from tests.unit.peers.support import AGENT, AUDIENCE, NOW, NOW_S, Clock

HOUR = 3600
USER = "web.user1.dev.usr.example.com"


def room_payload(**changes: object) -> JsonObject:
    payload: JsonObject = {
        "audience": AUDIENCE,
        "time": [NOW_S, None],
        "preserve_history": True,
        "classroom_id": str(uuid4()),
        "kind": "Minigroup",
    }
    payload.update(changes)
    return payload


def create_room(peer: SandboxEventPeer, **changes: object) -> UUID:
    answer = peer.handle("room.create", room_payload(**changes))
    assert answer.status == 201, answer.payload
    return UUID(answer.payload["id"])


@pytest.fixture
def peer(sandbox: Sandbox) -> SandboxEventPeer:
    return sandbox.event


def test_room_create_answers_the_room_object(peer: SandboxEventPeer) -> None:
    classroom_id = str(uuid4())
    answer = peer.handle("room.create", room_payload(classroom_id=classroom_id, tags={"a": 1}))
    assert answer.status == 201
    room = answer.payload
    assert room == {
        "id": room["id"],
        "audience": AUDIENCE,
        "time": [NOW_S, None],
        "tags": {"a": 1},
        "created_at": NOW_S,
        "preserve_history": True,
        "classroom_id": classroom_id,
        "locked_types": {},
        "validate_whiteboard_access": False,
        "whiteboard_access": {},
        "kind": "Minigroup",
    }
    assert "tags" not in peer.handle("room.create", room_payload()).payload


@pytest.mark.parametrize(
    ("changes", "status", "type_"),
    [
        ({"audience": 5}, 400, "invalid_payload"),
        ({"time": [NOW_S]}, 400, "invalid_payload"),
        ({"time": [NOW_S, "x"]}, 400, "invalid_payload"),
        ({"time": [None, None]}, 400, "invalid_room_time"),
        ({"time": [NOW_S, NOW_S]}, 400, "invalid_room_time"),
        ({"classroom_id": "c"}, 400, "invalid_payload"),
        ({"kind": "minigroup"}, 400, "invalid_payload"),
        ({"preserve_history": "yes"}, 400, "invalid_payload"),
    ],
)
def test_room_create_validates(
    peer: SandboxEventPeer, changes: JsonObject, status: int, type_: str
) -> None:
    answer = peer.handle("room.create", room_payload(**changes))
    assert (answer.status, answer.payload["type"]) == (status, type_)
    assert set(answer.payload) == {"type", "title", "detail"}
    assert peer.rooms == {}


def test_unknown_rooms_and_methods(peer: SandboxEventPeer) -> None:
    for method in ("room.read", "room.update", "room.dump_events"):
        answer = peer.handle(method, {"id": str(uuid4())})
        assert (answer.status, answer.payload["type"]) == (404, "room_not_found")
    assert peer.handle("room.close", {}).status == 405


def test_a_future_room_moves_freely(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer, time=[NOW_S + HOUR, NOW_S + 2 * HOUR])
    answer = peer.handle("room.update", {"id": str(room_id), "time": [NOW_S - HOUR, None]})
    assert (answer.status, answer.payload["time"]) == (200, [NOW_S - HOUR, None])


def test_an_open_room_keeps_its_start(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer, time=[NOW_S - HOUR, None])
    moved = peer.handle(
        "room.update", {"id": str(room_id), "time": [NOW_S + HOUR, NOW_S + 2 * HOUR]}
    )
    assert moved.payload["time"] == [NOW_S - HOUR, NOW_S + 2 * HOUR]
    closed = peer.handle("room.update", {"id": str(room_id), "time": [NOW_S, NOW_S + 1]})
    assert closed.payload["time"] == [NOW_S - HOUR, NOW_S + 1]


def test_an_end_in_the_past_closes_an_open_room_now(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer, time=[NOW_S - 2 * HOUR, None])
    answer = peer.handle(
        "room.update", {"id": str(room_id), "time": [NOW_S - 2 * HOUR, NOW_S - HOUR]}
    )
    assert answer.payload["time"] == [NOW_S - 2 * HOUR, NOW_S]


def test_a_closed_room_refuses_time_changes_only(peer: SandboxEventPeer, clock: Clock) -> None:
    room_id = create_room(peer, time=[NOW_S - 2 * HOUR, NOW_S - HOUR])
    answer = peer.handle("room.update", {"id": str(room_id), "time": [NOW_S, None]})
    assert (answer.status, answer.payload["type"]) == (404, "room_closed")
    tagged = peer.handle("room.update", {"id": str(room_id), "time": None, "tags": {"t": 1}})
    assert (tagged.status, tagged.payload["tags"]) == (200, {"t": 1})


def test_locked_types_merge(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer)
    peer.handle("room.locked_types", {"id": str(room_id), "locked_types": {"message": True}})
    answer = peer.handle(
        "room.locked_types",
        {"id": str(room_id), "locked_types": {"question": True, "message": False}},
    )
    assert answer.payload["locked_types"] == {"message": False, "question": True}
    bad = peer.handle("room.locked_types", {"id": str(room_id), "locked_types": {"m": 1}})
    assert bad.status == 400


def test_event_create_answers_the_stored_event(peer: SandboxEventPeer, clock: Clock) -> None:
    room_id = create_room(peer, time=[NOW_S - 10, None])
    answer = peer.handle(
        "event.create",
        {"room_id": str(room_id), "type": "document", "label": "D", "data": {"page": 1}},
    )
    assert answer.status == 201
    assert answer.payload == {
        "id": answer.payload["id"],
        "room_id": str(room_id),
        "type": "document",
        "set": "document",
        "label": "D",
        "attribute": None,
        "data": {"page": 1},
        "occurred_at": 10 * 1_000_000_000,
        "created_by": AGENT,
        "created_at": NOW_S * 1000,
        "original_occurred_at": 10 * 1_000_000_000,
        "original_created_by": AGENT,
        "removed": False,
    }
    assert peer.store.of_room(room_id) == [answer.payload]


@pytest.mark.parametrize(
    ("payload", "status", "type_"),
    [
        ({"room_id": None, "type": "t", "data": {}}, 400, "invalid_payload"),
        ({"room_id": "r", "type": "t", "data": {}}, 400, "invalid_payload"),
        ({"room_id": str(uuid4()), "type": "t", "data": {}}, 404, "room_not_found"),
        ({"type": 5, "data": {}}, 400, "invalid_payload"),
        ({"type": "t"}, 400, "invalid_payload"),
        ({"type": "t", "data": {}, "label": 1}, 400, "invalid_payload"),
    ],
)
def test_event_create_validates(
    peer: SandboxEventPeer, payload: JsonObject, status: int, type_: str
) -> None:
    room_id = create_room(peer)
    answer = peer.handle("event.create", {"room_id": str(room_id), **payload})
    assert (answer.status, answer.payload["type"]) == (status, type_)


def test_events_need_an_open_room(peer: SandboxEventPeer) -> None:
    for time in ([NOW_S + 1, None], [NOW_S - 2 * HOUR, NOW_S - HOUR]):
        room_id = create_room(peer, time=time)
        answer = peer.handle("event.create", {"room_id": str(room_id), "type": "t", "data": {}})
        assert (answer.status, answer.payload["type"]) == (404, "room_closed")


def test_transient_events_are_answered_not_stored(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer)
    payload = {"room_id": str(room_id), "type": "t", "data": {}, "is_persistent": False}
    assert peer.handle("event.create", payload).status == 201
    assert peer.store.of_room(room_id) == []


def test_occurred_at_grows_under_a_frozen_clock(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer)
    for _ in range(3):
        peer.handle("event.create", {"room_id": str(room_id), "type": "t", "data": {}})
    assert [e["occurred_at"] for e in peer.store.of_room(room_id)] == [0, 1, 2]


def test_event_list_filters_and_pages(peer: SandboxEventPeer, clock: Clock) -> None:
    room_id, other = create_room(peer), create_room(peer)
    for occurred_at in (30, 10, 20):
        peer.add_event(
            room_id, type_="host", data={"agent_id": USER}, created_by=USER, occurred_at=occurred_at
        )
    peer.add_event(room_id, type_="pin", data={}, created_by=USER, occurred_at=15)
    peer.add_event(other, type_="host", data={"agent_id": USER}, created_by=USER, occurred_at=1)

    def listed(**query: object) -> list[int]:
        answer = peer.handle("event.list", {"room_id": str(room_id), **query})
        assert answer.status == 200, answer.payload
        return [event["occurred_at"] for event in answer.payload]

    assert listed(type="host") == [10, 20, 30]
    assert listed(type="host", last_occurred_at=10) == [20, 30]
    assert listed(type="host", limit=2) == [10, 20]
    assert listed(type=["host", "pin"]) == [10, 15, 20, 30]
    assert listed() == [10, 15, 20, 30]
    assert listed(direction="backward", last_occurred_at=20) == [15, 10]
    assert listed(type="pin", set="pin") == [15]
    assert listed(label="nothing") == []


def test_event_list_caps_the_page_at_100(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer)
    for _ in range(120):
        peer.add_event(room_id, type_="pin", data={}, created_by=USER)
    answer = peer.handle("event.list", {"room_id": str(room_id), "limit": 500})
    assert len(answer.payload) == 100
    assert peer.handle("event.list", {"room_id": str(room_id), "limit": -1}).status == 400
    assert peer.handle("event.list", {"room_id": str(uuid4())}).status == 404


def test_accepted_methods_validate_and_record_pending_results(peer: SandboxEventPeer) -> None:
    room_id = create_room(peer)
    adjust = {"id": str(room_id), "started_at": 1, "segments": [[0, 5]], "offset": 0}
    assert peer.handle("room.adjust", adjust).payload == {}
    assert peer.handle("room.adjust", {**adjust, "segments": [[0]]}).status == 400
    assert peer.handle("room.dump_events", {"id": str(room_id)}).status == 202
    edition = peer.add_edition(room_id, created_by=USER)
    assert peer.handle("edition.commit", {"id": edition["id"], "offset": 0}).status == 202
    assert [(r.method, r.requested_at) for r in peer.pending_results] == [
        ("room.adjust", NOW),
        ("room.dump_events", NOW),
        ("edition.commit", NOW),
    ]


def test_editions_are_created_listed_newest_first_and_committed_only_when_known(
    peer: SandboxEventPeer, clock: Clock
) -> None:
    room_id, other_id = create_room(peer), create_room(peer)
    created = peer.handle("edition.create", {"room_id": str(room_id)})
    assert created.status == 201
    assert created.payload == {
        "id": created.payload["id"],
        "source_room_id": str(room_id),
        "created_by": AGENT,
        "created_at": NOW_S,
    }
    later = peer.add_edition(room_id, created_by=USER, created_at=NOW_S + 5)
    peer.add_edition(other_id, created_by=USER)
    listed = peer.handle("edition.list", {"room_id": str(room_id)}).payload
    assert [edition["id"] for edition in listed] == [later["id"], created.payload["id"]]
    page = {"room_id": str(room_id), "last_created_at": NOW_S + 5, "limit": 1}
    assert peer.handle("edition.list", page).payload == [created.payload]
    assert peer.handle("edition.list", {"room_id": str(uuid4())}).status == 404
    unknown = peer.handle("edition.commit", {"id": str(uuid4())})
    assert (unknown.status, unknown.payload["type"]) == (404, "edition_not_found")
    assert peer.pending_results == []
