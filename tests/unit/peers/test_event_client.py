"""EventClient: payloads field by field (contract.md upstream §3) and statuses (D8)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import Sandbox, SandboxCall
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.ports import Edition, Room, RoomEvent
from tests.support.faults import Faults
from tests.unit.peers.support import (
    AGENT,
    AUDIENCE,
    NOW_S,
    call_event_method,
    open_event_room,
    scripted_event,
)

HOST = "web.user1.dev.usr.example.com"


def only_call(faults: Faults, method: str) -> SandboxCall:
    [call] = faults.calls_to("event", method)
    return call


async def test_create_room_sends_the_reference_payload(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    classroom_id = uuid4()
    room = await event.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None],
        preserve_history=True,
        tags={"scope": "minigroup-abc"},
        classroom_id=classroom_id,
        kind="Minigroup",
    )
    payload = only_call(faults, "room.create").payload
    assert payload == {
        "audience": AUDIENCE,
        "time": [NOW_S, None],
        "preserve_history": True,
        "tags": {"scope": "minigroup-abc"},
        "classroom_id": str(classroom_id),
        "kind": "Minigroup",
    }
    assert list(payload) == ["audience", "time", "preserve_history", "tags", "classroom_id", "kind"]
    assert room == Room(id=room.id, time=[NOW_S, None], tags={"scope": "minigroup-abc"})
    assert sandbox.event.rooms[room.id]["classroom_id"] == str(classroom_id)


async def test_create_room_omits_absent_tags_and_sends_kind_as_given(
    event: EventClient, faults: Faults
) -> None:
    room = await event.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None],
        preserve_history=False,
        tags=None,
        classroom_id=uuid4(),
        kind="Webinar",
    )
    payload = only_call(faults, "room.create").payload
    assert "tags" not in payload
    assert payload["kind"] == "Webinar"
    assert payload["preserve_history"] is False
    assert room.tags is None


async def test_update_room_sends_id_and_time(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    room = await event.update_room(room_id=room_id, time=[NOW_S, None])
    assert only_call(faults, "room.update").payload == {"id": str(room_id), "time": [NOW_S, None]}
    assert room.id == room_id


async def test_lock_types_sends_the_map(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    flags = {"message": True, "reaction": True, "question": False, "question_reaction": False}
    room = await event.lock_types(room_id=room_id, locked_types=flags)
    assert only_call(faults, "room.locked_types").payload == {
        "id": str(room_id),
        "locked_types": flags,
    }
    assert room.id == room_id


async def test_read_room_sends_the_id(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    room = await event.read_room(room_id=room_id)
    assert only_call(faults, "room.read").payload == {"id": str(room_id)}
    assert room.time == [NOW_S, None]


async def test_adjust_room_sends_segments_as_pairs(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    await event.adjust_room(
        room_id=room_id,
        started_at=1_690_000_000_000,
        segments=[(0, 1_500_000), (1_800_000, 3_000_000)],
        offset=1234,
    )
    assert only_call(faults, "room.adjust").payload == {
        "id": str(room_id),
        "started_at": 1_690_000_000_000,
        "segments": [[0, 1_500_000], [1_800_000, 3_000_000]],
        "offset": 1234,
    }
    [pending] = sandbox.event.pending_results
    assert pending.method == "room.adjust"


async def test_commit_edition_and_dump_events(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    edition_id = UUID(sandbox.event.add_edition(room_id, created_by=AGENT)["id"])
    await event.commit_edition(edition_id=edition_id, offset=4018)
    await event.dump_events(room_id=room_id)
    assert only_call(faults, "edition.commit").payload == {"id": str(edition_id), "offset": 4018}
    assert only_call(faults, "room.dump_events").payload == {"id": str(room_id)}
    methods = [pending.method for pending in sandbox.event.pending_results]
    assert methods == ["edition.commit", "room.dump_events"]


async def test_list_editions_sends_one_page_request_and_decodes_it(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    older = sandbox.event.add_edition(room_id, created_by=AGENT, created_at=1_690_000_000)
    newer = sandbox.event.add_edition(room_id, created_by=AGENT, created_at=1_690_000_060)
    first = await event.list_editions(room_id=room_id, limit=1)
    rest = await event.list_editions(room_id=room_id, last_created_at=first[-1].created_at)
    assert [edition.id for edition in first + rest] == [UUID(newer["id"]), UUID(older["id"])]
    assert rest[0] == Edition(UUID(older["id"]), room_id, AGENT, 1_690_000_000)
    payloads = [call.payload for call in faults.calls_to("event", "edition.list")]
    assert payloads == [
        {"room_id": str(room_id), "limit": 1},
        {"room_id": str(room_id), "limit": 25, "last_created_at": 1_690_000_060},
    ]


async def test_an_unreadable_edition_list_is_malformed() -> None:
    client, _ = scripted_event(Answer(200, [{"id": "x"}]))
    with pytest.raises(UpstreamFailed) as caught:
        await client.list_editions(room_id=uuid4())
    assert caught.value.kind is UpstreamFailureKind.MALFORMED


async def test_list_events_sends_one_page_request(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    await event.list_events(room_id=room_id, kind="host")
    await event.list_events(room_id=room_id, kind="pin", last_occurred_at=42, limit=7)
    first, second = (call.payload for call in faults.calls_to("event", "event.list"))
    assert first == {"room_id": str(room_id), "type": "host", "limit": 100}
    assert second == {"room_id": str(room_id), "type": "pin", "limit": 7, "last_occurred_at": 42}


async def test_list_events_decodes_host_and_pin_events(
    event: EventClient, sandbox: Sandbox
) -> None:
    room_id = await open_event_room(event)
    stored = sandbox.event.add_event(
        room_id, type_="host", data={"agent_id": HOST}, created_by=HOST, occurred_at=5
    )
    sandbox.event.add_event(room_id, type_="pin", data={"agent_id": None}, created_by=HOST)
    [host] = await event.list_events(room_id=room_id, kind="host")
    [pin] = await event.list_events(room_id=room_id, kind="pin")
    assert host == RoomEvent(
        id=UUID(stored["id"]),
        room_id=room_id,
        kind="host",
        set="host",
        label=None,
        agent_id=HOST,
        occurred_at=5,
        created_by=HOST,
        created_at=stored["created_at"],
    )
    assert pin.kind == "pin"
    assert pin.agent_id is None


async def test_create_event_sends_the_object_as_given(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    sent = {"room_id": str(room_id), "type": "message", "data": {"text": "hi"}, "is_claim": False}
    answer = await event.create_event(event=sent)
    assert only_call(faults, "event.create").payload == sent
    assert answer["type"] == "message"
    assert answer["set"] == "message"
    assert answer["created_by"] == AGENT


# --- statuses (D8) ------------------------------------------------------------------------------


async def test_an_error_answer_is_rejected_with_the_peer_status_and_problem(
    event: EventClient, faults: Faults
) -> None:
    faults.fail(
        "event",
        "event.create",
        status=403,
        problem={"type": "access_denied", "title": "Access denied", "detail": "not allowed"},
    )
    with pytest.raises(UpstreamFailed) as caught:
        await event.create_event(event={"room_id": str(uuid4()), "type": "x", "data": {}})
    failure = caught.value
    assert failure.kind is UpstreamFailureKind.REJECTED
    assert (failure.service, failure.method) == ("event", "event.create")
    assert failure.peer_status == 403
    assert failure.detail == "Access denied: not allowed"


async def test_the_peers_own_error_object_reaches_the_detail(event: EventClient) -> None:
    with pytest.raises(UpstreamFailed) as caught:
        await event.read_room(room_id=uuid4())
    assert caught.value.kind is UpstreamFailureKind.REJECTED
    assert caught.value.peer_status == 404
    assert caught.value.detail is not None
    assert caught.value.detail.startswith("Room not found")


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("room.create", 200),  # success, but not the 201 room.create answers
        ("room.read", 201),
        ("room.adjust", 200),
        ("event.create", 200),
        ("event.list", 202),
    ],
)
async def test_a_success_status_other_than_the_expected_one_is_rejected(
    method: str, status: int
) -> None:
    client, _ = scripted_event(Answer(status, {}))
    with pytest.raises(UpstreamFailed) as caught:
        await call_event_method(client, method, uuid4())
    assert caught.value.kind is UpstreamFailureKind.REJECTED
    assert caught.value.peer_status == status
    assert caught.value.detail == f"status {status}"


EVENT_METHODS = [
    "room.create",
    "room.read",
    "room.update",
    "room.locked_types",
    "room.adjust",
    "edition.commit",
    "edition.list",
    "room.dump_events",
    "event.list",
    "event.create",
]


@pytest.mark.parametrize("method", EVENT_METHODS)
async def test_every_method_maps_an_injected_error(
    event: EventClient, method: str, faults: Faults
) -> None:
    faults.fail("event", method, status=500, problem={"type": "x", "title": "Boom"})
    with pytest.raises(UpstreamFailed) as caught:
        await call_event_method(event, method, uuid4())
    assert (caught.value.kind, caught.value.method) == (UpstreamFailureKind.REJECTED, method)
    assert (caught.value.peer_status, caught.value.detail) == (500, "Boom")


@pytest.mark.parametrize("method", EVENT_METHODS)
async def test_every_method_times_out_on_silence(
    event: EventClient, method: str, faults: Faults
) -> None:
    faults.silence("event", method)
    with pytest.raises(UpstreamFailed) as caught:
        await call_event_method(event, method, uuid4())
    assert (caught.value.kind, caught.value.service) == (UpstreamFailureKind.TIMEOUT, "event")
    assert len(faults.calls_to("event", method)) == 1  # it was sent, never answered


@pytest.mark.parametrize("method", EVENT_METHODS)
async def test_every_method_is_unavailable_in_an_outage(
    event: EventClient, method: str, faults: Faults
) -> None:
    faults.outage("event")
    with pytest.raises(UpstreamFailed) as caught:
        await call_event_method(event, method, uuid4())
    assert caught.value.kind is UpstreamFailureKind.UNAVAILABLE
    assert faults.calls == []
