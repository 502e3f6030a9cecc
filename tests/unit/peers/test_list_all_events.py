"""The reference paging of event.list (upstream §3.8): 10 pages of 100, stop at an empty page."""

from __future__ import annotations

from uuid import UUID

from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.sandbox import Sandbox
from minigroups.services.pipeline.history import list_all_events
from tests.support.faults import Faults
from tests.unit.peers.support import open_event_room

HOST = "web.user1.dev.usr.example.com"


def add_hosts(sandbox: Sandbox, room_id: UUID, count: int) -> None:
    for _ in range(count):
        sandbox.event.add_event(room_id, type_="host", data={"agent_id": HOST}, created_by=HOST)


def page_requests(faults: Faults) -> list[dict[str, object]]:
    return [call.payload for call in faults.calls_to("event", "event.list")]


async def test_pages_pass_the_last_occurred_at_and_stop_at_the_empty_page(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    add_hosts(sandbox, room_id, 250)
    found = await list_all_events(event, room_id, "host")
    assert len(found) == 250
    assert [e.occurred_at for e in found] == sorted(e.occurred_at for e in found)
    requests = page_requests(faults)
    assert len(requests) == 4  # 100, 100, 50 (a short page does not stop), then empty
    assert "last_occurred_at" not in requests[0]
    assert requests[1]["last_occurred_at"] == found[99].occurred_at
    assert requests[2]["last_occurred_at"] == found[199].occurred_at
    assert requests[3]["last_occurred_at"] == found[249].occurred_at
    assert all(r["limit"] == 100 and r["type"] == "host" for r in requests)


async def test_an_empty_room_costs_one_request(event: EventClient, faults: Faults) -> None:
    room_id = await open_event_room(event)
    assert await list_all_events(event, room_id, "pin") == []
    assert len(page_requests(faults)) == 1


async def test_at_most_ten_pages_are_read(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    add_hosts(sandbox, room_id, 1_050)
    found = await list_all_events(event, room_id, "host")
    assert len(found) == 1_000  # the rest is silently ignored, as in the reference
    assert len(page_requests(faults)) == 10


async def test_only_the_requested_kind_is_listed(event: EventClient, sandbox: Sandbox) -> None:
    room_id = await open_event_room(event)
    add_hosts(sandbox, room_id, 3)
    sandbox.event.add_event(room_id, type_="pin", data={"agent_id": HOST}, created_by=HOST)
    pins = await list_all_events(event, room_id, "pin")
    assert [pin.kind for pin in pins] == ["pin"]
