"""tq over real HTTP: a hostile audience or scope lands on exactly the intended path (issue 8).

The server is the loopback tq of tests/support (no broker needed); it keeps each request target
as it came off the wire, before any parsing of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import unquote
from uuid import UUID

import httpx
import pytest

from minigroups.adapters.peers.tq import TqClient
from minigroups.adapters.sandbox import Sandbox
from tests.support.faults import Faults
from tests.support.hostile import HOSTILE
from tests.support.simulators import TqServer

CLASS_ID = UUID("6a2b1c3d-0000-4000-8000-000000000001")
OWN = "usr.attacker"
TASK = {"audience": OWN, "tags": {}, "priority": "normal", "template": "t", "bindings": {}}


@pytest.fixture
async def tq() -> AsyncIterator[TqServer]:
    server = TqServer(Sandbox(agent_id="test.dispatcher.svc.example.org", faults=Faults()))
    await server.start()
    yield server
    await server.close()


@pytest.mark.parametrize("scope", HOSTILE)
async def test_a_hostile_scope_stays_in_its_segment_on_the_wire(tq: TqServer, scope: str) -> None:
    task_id = f"transcode-minigroup-to-hls-{scope}"
    await _post(tq, OWN, task_id)
    [target] = tq.targets
    levels = target.split("/")
    assert levels[:4] == ["", "api", "v1", "audiences"]
    assert (levels[4], levels[5], levels[7], levels[8]) == (
        OWN,
        "tasks",
        "classrooms",
        str(CLASS_ID),
    )
    assert len(levels) == 9
    assert unquote(levels[6], errors="strict") == task_id
    assert not set("?# \t\r\n") & set(target)
    [task] = tq.sandbox.tq.tasks
    assert (task.audience, task.task_id, task.classroom_id) == (OWN, task_id, CLASS_ID)


@pytest.mark.parametrize("audience", HOSTILE)
async def test_a_hostile_audience_stays_in_its_segment_on_the_wire(
    tq: TqServer, audience: str
) -> None:
    await _post(tq, audience, "transcode-minigroup-to-hls-lesson")
    [target] = tq.targets
    levels = target.split("/")
    assert len(levels) == 9
    assert levels[5:] == ["tasks", "transcode-minigroup-to-hls-lesson", "classrooms", str(CLASS_ID)]
    assert unquote(levels[4], errors="strict") == audience
    assert levels[4] not in (".", "..")
    [task] = tq.sandbox.tq.tasks
    assert task.audience == audience


async def _post(tq: TqServer, audience: str, task_id: str) -> None:
    async with httpx.AsyncClient() as http:
        client = TqClient(http, base_url=tq.base_url, token="t", user_agent="test", timeout=5.0)
        await client.create_task(
            audience=audience, task_id=task_id, classroom_id=CLASS_ID, task=TASK
        )
