"""What a user of the EventService / ConferenceService ports may rely on, whatever the adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import pytest

from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonValue
from minigroups.domain.timerange import to_unix
from minigroups.ports import WriterConfigSnapshot
from minigroups.services.pipeline.history import list_all_events
from tests.contract.worlds import PeerWorld

AUDIENCE = "dev.usr.example.com"
HOUR = 3600
HOST = "web.teacher.dev.usr.example.com"
STUDENT = "web.student.dev.usr.example.com"


def now_s(world: PeerWorld) -> int:
    return to_unix(world.now())


async def event_room(world: PeerWorld, *, time: list[int | None] | None = None) -> UUID:
    room = await world.events.create_room(
        audience=AUDIENCE,
        time=[now_s(world) - 1, None] if time is None else time,
        preserve_history=True,
        tags={"scope": "minigroup-contract"},
        classroom_id=uuid4(),
        kind="Minigroup",
    )
    return room.id


async def conference_room(world: PeerWorld, *, time: list[int | None] | None = None) -> UUID:
    room = await world.conference.create_room(
        audience=AUDIENCE,
        time=[now_s(world), None] if time is None else time,
        rtc_sharing_policy="owned",
        reserve=10,
        tags=None,
        classroom_id=uuid4(),
    )
    return room.id


def expect_rejected(failure: pytest.ExceptionInfo[UpstreamFailed], status: int | None) -> None:
    assert failure.value.kind is UpstreamFailureKind.REJECTED
    if status is not None:
        assert failure.value.peer_status == status


# --- rooms ----------------------------------------------------------------------------------------


async def test_a_created_event_room_reads_back(world: PeerWorld) -> None:
    opened = now_s(world) - 1
    room_id = await event_room(world, time=[opened, None])
    room = await world.events.read_room(room_id=room_id)
    assert (room.id, room.time, room.tags) == (
        room_id,
        [opened, None],
        {"scope": "minigroup-contract"},
    )


async def test_a_created_conference_room_has_an_id_and_the_time(world: PeerWorld) -> None:
    start = now_s(world) + HOUR
    room = await world.conference.create_room(
        audience=AUDIENCE,
        time=[start, None],
        rtc_sharing_policy="owned",
        reserve=None,
        tags={"scope": "s"},
        classroom_id=uuid4(),
    )
    assert room.time == [start, None]
    other = await conference_room(world)
    assert other != room.id


async def test_locked_types_merge(world: PeerWorld) -> None:
    room_id = await event_room(world)
    first = await world.events.lock_types(room_id=room_id, locked_types={"message": True})
    second = await world.events.lock_types(
        room_id=room_id, locked_types={"question": True, "message": False}
    )
    assert first.id == second.id == room_id
    assert world.locked_types(room_id) == {"message": False, "question": True}


async def test_an_open_event_room_is_reset_to_open_now(world: PeerWorld) -> None:
    opened = now_s(world) - 10
    room_id = await event_room(world, time=[opened, now_s(world) + HOUR])
    room = await world.events.update_room(room_id=room_id, time=[now_s(world), None])
    assert room.time == [opened, None]  # an open room keeps its opening


async def test_an_open_conference_room_takes_time_reserve_and_host(world: PeerWorld) -> None:
    room_id = await conference_room(world, time=[now_s(world) + HOUR, None])
    start = now_s(world) + 2 * HOUR
    await world.conference.update_room(
        room_id=room_id, time=[start, start + HOUR], reserve=5, host=HOST
    )
    await world.conference.update_room(room_id=room_id, time=None, reserve=None, host=None)


async def test_updates_of_closed_rooms_are_rejected(world: PeerWorld) -> None:
    past: list[int | None] = [now_s(world) - 2 * HOUR, now_s(world) - HOUR]
    event_room_id = await event_room(world, time=past)
    with pytest.raises(UpstreamFailed) as event_failure:
        await world.events.update_room(room_id=event_room_id, time=[now_s(world), None])
    expect_rejected(event_failure, None)
    conference_room_id = await conference_room(world, time=past)
    with pytest.raises(UpstreamFailed) as conference_failure:
        await world.conference.update_room(
            room_id=conference_room_id, time=[now_s(world), None], reserve=None, host=None
        )
    expect_rejected(conference_failure, None)


async def test_unknown_rooms_are_rejected_with_404(world: PeerWorld) -> None:
    unknown = uuid4()
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: world.events.read_room(room_id=unknown),
        lambda: world.events.update_room(room_id=unknown, time=[now_s(world), None]),
        lambda: world.events.lock_types(room_id=unknown, locked_types={"message": True}),
        lambda: world.events.dump_events(room_id=unknown),
        lambda: world.events.list_events(room_id=unknown, kind="host"),
        lambda: world.events.list_editions(room_id=unknown),
        lambda: world.events.create_event(event={"room_id": str(unknown), "type": "t", "data": {}}),
        lambda: world.conference.update_room(room_id=unknown, time=None, reserve=None, host=None),
        lambda: world.conference.read_writer_config_snapshots(room_id=unknown),
    ]
    for call in calls:
        with pytest.raises(UpstreamFailed) as failure:
            await call()
        expect_rejected(failure, 404)


# --- events ---------------------------------------------------------------------------------------


async def create_host_event(world: PeerWorld, room_id: UUID, agent_id: str) -> JsonValue:
    return await world.events.create_event(
        event={"room_id": str(room_id), "type": "host", "data": {"agent_id": agent_id}}
    )


async def test_created_events_are_listed_page_by_page(world: PeerWorld) -> None:
    room_id = await event_room(world)
    created = [await create_host_event(world, room_id, agent) for agent in (HOST, STUDENT, HOST)]
    assert [event["type"] for event in created] == ["host"] * 3
    first = await world.events.list_events(room_id=room_id, kind="host", limit=2)
    rest = await world.events.list_events(
        room_id=room_id, kind="host", last_occurred_at=first[-1].occurred_at, limit=2
    )
    end = await world.events.list_events(
        room_id=room_id, kind="host", last_occurred_at=rest[-1].occurred_at, limit=2
    )
    assert (len(first), len(rest), end) == (2, 1, [])
    listed = first + rest
    assert [str(event.id) for event in listed] == [event["id"] for event in created]
    assert [event.agent_id for event in listed] == [HOST, STUDENT, HOST]
    assert all(event.room_id == room_id and event.set == "host" for event in listed)
    assert await list_all_events(world.events, room_id, "host") == listed
    assert await world.events.list_events(room_id=room_id, kind="pin") == []


async def test_pin_events_carry_the_pinned_agent_or_none(world: PeerWorld) -> None:
    room_id = await event_room(world)
    for agent in (STUDENT, None):
        await world.events.create_event(
            event={"room_id": str(room_id), "type": "pin", "data": {"agent_id": agent}}
        )
    pins = await list_all_events(world.events, room_id, "pin")
    assert [pin.agent_id for pin in pins] == [STUDENT, None]


async def test_whiteboard_document_events_are_stored(world: PeerWorld) -> None:
    room_id, document = await event_room(world), str(uuid4())
    sent = [
        {
            "room_id": str(room_id),
            "type": "document",
            "set": "document",
            "label": document,
            "data": {
                "title": "whiteboard",
                "page": 1,
                "published": True,
                "url": "about:whiteboard",
            },
        },
        {
            "room_id": str(room_id),
            "type": "document_page",
            "set": f"document_page_{document}",
            "label": f"document_page_{document}_1",
            "data": {"page": 1, "title": ""},
        },
    ]
    answers = [await world.events.create_event(event=event) for event in sent]
    stored = world.stored_events(room_id)
    assert [event["id"] for event in stored] == [answer["id"] for answer in answers]
    for event, answer in zip(sent, answers, strict=True):
        for key in ("room_id", "type", "set", "label", "data"):
            assert answer[key] == event[key]


async def test_accepted_requests_return_nothing(world: PeerWorld) -> None:
    room_id = await event_room(world)
    await world.events.adjust_room(
        room_id=room_id, started_at=1_690_000_000_000, segments=[[0, 1000]], offset=0
    )
    await world.events.dump_events(room_id=room_id)


# --- editions -------------------------------------------------------------------------------------


async def test_editions_of_a_room_are_listed_newest_first_page_by_page(world: PeerWorld) -> None:
    room_id, other_id = await event_room(world), await event_room(world)
    made = [world.add_edition(room_id, 1_690_000_000 + n) for n in range(3)]
    world.add_edition(other_id, 1_690_000_000)
    first = await world.events.list_editions(room_id=room_id, limit=2)
    rest = await world.events.list_editions(
        room_id=room_id, last_created_at=first[-1].created_at, limit=2
    )
    assert [edition.id for edition in first + rest] == list(reversed(made))
    assert all(edition.source_room_id == room_id for edition in first + rest)
    assert [edition.created_at for edition in rest] == [1_690_000_000]


async def test_only_a_known_edition_is_committed(world: PeerWorld) -> None:
    room_id = await event_room(world)
    edition_id = world.add_edition(room_id, now_s(world))
    await world.events.commit_edition(edition_id=edition_id, offset=0)
    with pytest.raises(UpstreamFailed) as failure:
        await world.events.commit_edition(edition_id=uuid4(), offset=0)
    expect_rejected(failure, 404)


# --- snapshots ------------------------------------------------------------------------------------


async def test_writer_snapshots_come_back_for_their_room(world: PeerWorld) -> None:
    room_id, other_id, rtc_id = await conference_room(world), await conference_room(world), uuid4()
    assert await world.conference.read_writer_config_snapshots(room_id=room_id) == []
    snapshots = [
        WriterConfigSnapshot(rtc_id=rtc_id, send_video=False, send_audio=None, created_at=1_000),
        WriterConfigSnapshot(rtc_id=rtc_id, send_video=True, send_audio=True, created_at=2_000),
    ]
    for snapshot in reversed(snapshots):
        world.add_snapshot(room_id, snapshot)
    world.add_snapshot(other_id, WriterConfigSnapshot(uuid4(), None, None, 1_500))
    assert await world.conference.read_writer_config_snapshots(room_id=room_id) == snapshots
