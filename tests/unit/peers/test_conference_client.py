"""ConferenceClient: payloads field by field (upstream §4), statuses (D8) and decoding."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import pytest

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import Sandbox, SandboxCall
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.ports import Room, WriterConfigSnapshot
from tests.support.faults import Faults
from tests.unit.peers.support import (
    AUDIENCE,
    NOW_S,
    open_conference_room,
    scripted_conference,
)

HOST = "web.teacher.dev.usr.example.com"


def only_call(faults: Faults, method: str) -> SandboxCall:
    [call] = faults.calls_to("conference", method)
    return call


async def test_create_room_sends_the_reference_payload(
    conference: ConferenceClient, sandbox: Sandbox, faults: Faults
) -> None:
    classroom_id = uuid4()
    room = await conference.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None],
        rtc_sharing_policy="owned",
        reserve=10,
        tags={"scope": "s"},
        classroom_id=classroom_id,
    )
    payload = only_call(faults, "room.create").payload
    assert payload == {
        "audience": AUDIENCE,
        "time": [NOW_S, None],
        "rtc_sharing_policy": "owned",
        "reserve": 10,
        "tags": {"scope": "s"},
        "classroom_id": str(classroom_id),
    }
    assert room == Room(id=room.id, time=[NOW_S, None], tags={"scope": "s"})
    stored = sandbox.conference.rooms[room.id]
    assert (stored["reserve"], stored["host"], stored["timed_out"]) == (10, None, False)


async def test_create_room_omits_absent_reserve_and_tags(
    conference: ConferenceClient, faults: Faults
) -> None:
    await open_conference_room(conference)
    payload = only_call(faults, "room.create").payload
    assert "reserve" not in payload
    assert "tags" not in payload


async def test_create_room_accepts_the_peers_200_and_a_201() -> None:
    room_id = uuid4()
    client, _ = scripted_conference(
        Answer(200, {"id": str(room_id), "time": [1, None]}),
        Answer(201, {"id": str(room_id), "time": [1, None]}),
    )
    for _ in range(2):
        room = await client.create_room(
            audience=AUDIENCE,
            time=[1, None],
            rtc_sharing_policy="owned",
            reserve=None,
            tags=None,
            classroom_id=uuid4(),
        )
        assert room.id == room_id


async def test_update_room_always_sends_time_and_reserve(
    conference: ConferenceClient, faults: Faults
) -> None:
    room_id = await open_conference_room(conference)
    await conference.update_room(room_id=room_id, time=None, reserve=None, host=None)
    assert only_call(faults, "room.update").payload == {
        "id": str(room_id),
        "time": None,
        "reserve": None,
    }


async def test_update_room_sends_host_only_when_given(
    conference: ConferenceClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_conference_room(conference)
    await conference.update_room(room_id=room_id, time=[NOW_S, NOW_S + 3600], reserve=5, host=HOST)
    assert only_call(faults, "room.update").payload == {
        "id": str(room_id),
        "time": [NOW_S, NOW_S + 3600],
        "reserve": 5,
        "host": HOST,
    }
    stored = sandbox.conference.rooms[room_id]
    assert (stored["time"], stored["reserve"], stored["host"]) == ([NOW_S, NOW_S + 3600], 5, HOST)


async def test_update_room_requires_exactly_200() -> None:
    client, _ = scripted_conference(Answer(201, {}))
    with pytest.raises(UpstreamFailed) as caught:
        await client.update_room(room_id=uuid4(), time=None, reserve=None, host=None)
    assert (caught.value.kind, caught.value.peer_status) == (UpstreamFailureKind.REJECTED, 201)


async def test_update_room_with_null_bounds_is_rejected_as_the_peer_does(
    conference: ConferenceClient,
) -> None:
    # D15 keeps `[null, null]` for an unbounded class; the conference service refuses it.
    room_id = await open_conference_room(conference)
    with pytest.raises(UpstreamFailed) as caught:
        await conference.update_room(room_id=room_id, time=[None, None], reserve=None, host=None)
    assert (caught.value.kind, caught.value.peer_status) == (UpstreamFailureKind.REJECTED, 400)
    assert caught.value.detail is not None
    assert caught.value.detail.startswith("Invalid room time")


async def test_snapshots_are_read_for_the_room(
    conference: ConferenceClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id, rtc_id = await open_conference_room(conference), uuid4()
    sandbox.conference.add_snapshot(room_id, rtc_id=rtc_id, send_video=False, created_at=20)
    sandbox.conference.add_snapshot(room_id, rtc_id=rtc_id, send_audio=True, created_at=10)
    snapshots = await conference.read_writer_config_snapshots(room_id=room_id)
    assert only_call(faults, "writer_config_snapshot.read").payload == {"room_id": str(room_id)}
    assert snapshots == [
        WriterConfigSnapshot(rtc_id=rtc_id, send_video=None, send_audio=True, created_at=10),
        WriterConfigSnapshot(rtc_id=rtc_id, send_video=False, send_audio=None, created_at=20),
    ]


async def test_snapshots_of_a_shared_room_are_refused(
    conference: ConferenceClient,
) -> None:
    room_id = await open_conference_room(conference, policy="shared")
    with pytest.raises(UpstreamFailed) as caught:
        await conference.read_writer_config_snapshots(room_id=room_id)
    assert (caught.value.kind, caught.value.peer_status) == (UpstreamFailureKind.REJECTED, 400)


# --- failures of every method -------------------------------------------------------------------

Call = Callable[[ConferenceClient, UUID], Awaitable[object]]


async def _create(client: ConferenceClient, room_id: UUID) -> object:
    return await client.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None],
        rtc_sharing_policy="owned",
        reserve=None,
        tags=None,
        classroom_id=room_id,
    )


async def _update(client: ConferenceClient, room_id: UUID) -> object:
    await client.update_room(room_id=room_id, time=None, reserve=None, host=None)
    return None


async def _snapshots(client: ConferenceClient, room_id: UUID) -> object:
    return await client.read_writer_config_snapshots(room_id=room_id)


METHODS: list[tuple[str, Call]] = [
    ("room.create", _create),
    ("room.update", _update),
    ("writer_config_snapshot.read", _snapshots),
]


@pytest.mark.parametrize(("method", "call"), METHODS)
async def test_every_method_maps_an_injected_error(
    conference: ConferenceClient, method: str, call: Call, faults: Faults
) -> None:
    problem = {"type": "room_closed", "title": "Room closed", "detail": "closed"}
    faults.fail("conference", method, status=404, problem=problem)
    with pytest.raises(UpstreamFailed) as caught:
        await call(conference, uuid4())
    failure = caught.value
    assert (failure.kind, failure.service, failure.method) == (
        UpstreamFailureKind.REJECTED,
        "conference",
        method,
    )
    assert (failure.peer_status, failure.detail) == (404, "Room closed: closed")


@pytest.mark.parametrize(("method", "call"), METHODS)
async def test_every_method_times_out_on_silence(
    conference: ConferenceClient, method: str, call: Call, faults: Faults
) -> None:
    faults.silence("conference", method)
    with pytest.raises(UpstreamFailed) as caught:
        await call(conference, uuid4())
    assert caught.value.kind is UpstreamFailureKind.TIMEOUT


@pytest.mark.parametrize(("method", "call"), METHODS)
async def test_every_method_is_unavailable_in_an_outage(
    conference: ConferenceClient, method: str, call: Call, faults: Faults
) -> None:
    faults.outage("conference")
    with pytest.raises(UpstreamFailed) as caught:
        await call(conference, uuid4())
    assert caught.value.kind is UpstreamFailureKind.UNAVAILABLE


@pytest.mark.parametrize(
    ("method", "call", "answer"),
    [
        ("room.create", _create, Answer(200, {"id": "nope", "time": [1, None]})),
        ("room.create", _create, Answer(200, {"id": str(uuid4())})),
        ("writer_config_snapshot.read", _snapshots, Answer(200, {})),
        (
            "writer_config_snapshot.read",
            _snapshots,
            Answer(200, [{"rtc_id": str(uuid4()), "created_at": "soon"}]),
        ),
        (
            "writer_config_snapshot.read",
            _snapshots,
            Answer(200, [{"rtc_id": str(uuid4()), "created_at": 1, "send_video": "yes"}]),
        ),
    ],
)
async def test_an_unreadable_answer_is_malformed(method: str, call: Call, answer: Answer) -> None:
    client, _ = scripted_conference(answer)
    with pytest.raises(UpstreamFailed) as caught:
        await call(client, uuid4())
    assert (caught.value.kind, caught.value.method) == (UpstreamFailureKind.MALFORMED, method)
