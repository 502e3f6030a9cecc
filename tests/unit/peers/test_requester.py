"""InProcessRequester: routing by account, the wire round trip, timeouts and injected failures."""

from __future__ import annotations

import time
from uuid import uuid4

import httpx
import pytest

from minigroups.adapters.peers.build import build_peer_clients
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.tq import HttpxPost
from minigroups.adapters.sandbox import InProcessRequester, Sandbox, SandboxTqTransport
from minigroups.config import PeerClientSettings, TqClientSettings
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from tests.support.faults import Faults
from tests.unit.peers.support import (
    CONFERENCE_ACCOUNT,
    EVENT_ACCOUNT,
    TIMEOUT,
    open_event_room,
)


async def test_silence_waits_out_the_timeout(event: EventClient, faults: Faults) -> None:
    faults.silence("event", "room.read")
    started = time.monotonic()
    with pytest.raises(UpstreamFailed) as caught:
        await event.read_room(room_id=uuid4())
    elapsed = time.monotonic() - started
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 0.5
    assert caught.value.detail == f"no answer within {TIMEOUT}s"


async def test_failures_count_down_and_reset(
    event: EventClient, sandbox: Sandbox, faults: Faults
) -> None:
    room_id = await open_event_room(event)
    faults.fail("event", "room.read", status=503, times=2)
    for _ in range(2):
        with pytest.raises(UpstreamFailed):
            await event.read_room(room_id=room_id)
    assert (await event.read_room(room_id=room_id)).id == room_id
    faults.fail("event", "room.read")
    faults.outage("conference")
    faults.reset_failures()
    assert (await event.read_room(room_id=room_id)).id == room_id
    assert not sandbox.is_down("conference")


async def test_an_injected_error_has_a_default_problem(event: EventClient, faults: Faults) -> None:
    faults.fail("event", "room.read")
    with pytest.raises(UpstreamFailed) as caught:
        await event.read_room(room_id=uuid4())
    assert caught.value.peer_status == 422
    assert caught.value.detail == "Injected failure: event room.read failed on purpose"


def test_unknown_services_and_methods_are_refused(sandbox: Sandbox, faults: Faults) -> None:
    with pytest.raises(ValueError, match="unknown sandbox service"):
        faults.fail("events", "room.read")
    with pytest.raises(ValueError, match="unknown conference method"):
        faults.silence("conference", "event.list")
    with pytest.raises(ValueError, match="unknown sandbox service"):
        faults.outage("broker")


@pytest.mark.parametrize(
    ("peer", "api_version"),
    [("nobody.svc.example.org", "v1"), (EVENT_ACCOUNT, "v2")],
)
async def test_nobody_answers_an_unserved_account_or_version(
    requester: InProcessRequester, peer: str, api_version: str, faults: Faults
) -> None:
    with pytest.raises(UpstreamFailed) as caught:
        await requester.request(
            peer=peer, api_version=api_version, method="room.read", payload={}, timeout=0.05
        )
    assert caught.value.kind is UpstreamFailureKind.TIMEOUT
    assert faults.calls == []


async def test_payloads_cross_as_json(
    requester: InProcessRequester, sandbox: Sandbox, faults: Faults
) -> None:
    with pytest.raises(TypeError):
        await requester.request(
            peer=EVENT_ACCOUNT,
            api_version="v1",
            method="room.read",
            payload={"id": uuid4()},  # a UUID object could not be serialised on the wire
            timeout=TIMEOUT,
        )
    payload = {"audience": "a", "time": [1, None], "classroom_id": str(uuid4()), "kind": "P2P"}
    answer = await requester.request(
        peer=EVENT_ACCOUNT, api_version="v1", method="room.create", payload=payload, timeout=1
    )
    answer.payload["audience"] = "changed"
    payload["audience"] = "changed too"
    [room] = sandbox.event.rooms.values()
    assert room["audience"] == "a"
    assert faults.calls[0].payload["audience"] == "a"


async def test_routes_by_account(requester: InProcessRequester, faults: Faults) -> None:
    answer = await requester.request(
        peer=CONFERENCE_ACCOUNT,
        api_version="v1",
        method="room.read",
        payload={"id": str(uuid4())},
        timeout=TIMEOUT,
    )
    assert answer.status == 404
    assert [call.service for call in faults.calls] == ["conference"]


async def test_the_built_clients_share_one_sandbox(faults: Faults) -> None:
    sandbox = Sandbox(faults=faults)
    requester = InProcessRequester(
        sandbox, event_account_id=EVENT_ACCOUNT, conference_account_id=CONFERENCE_ACCOUNT
    )
    async with httpx.AsyncClient(transport=SandboxTqTransport(sandbox)) as tq_http:
        clients = build_peer_clients(
            requester,
            HttpxPost(tq_http),
            event=PeerClientSettings(account_id=EVENT_ACCOUNT, timeout=1),
            conference=PeerClientSettings(account_id=CONFERENCE_ACCOUNT, timeout=1),
            tq=TqClientSettings(base_url="http://tq.sandbox/", account_id="tq.example.org"),
            token="sandbox",
            user_agent="minigroups-test",
        )
        room = await clients.event.create_room(
            audience="a",
            time=[1_700_000_000, None],
            preserve_history=True,
            tags=None,
            classroom_id=uuid4(),
            kind="Minigroup",
        )
        await clients.tq.create_task(audience="a", task_id="t-s", classroom_id=room.id, task={})
    assert [call.service for call in faults.calls] == ["event", "tq"]
    assert sandbox.tq.tasks[0].task_id == "t-s"
