"""tq over real HTTP from a ULMS service (upstream §5.1): URL, headers, body, 200 only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest

from minigroups.adapters.auth.tokens import read_token
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from tests.integration.ulms.service import PEER_TIMEOUT, UlmsApi, ulms_api
from tests.support.mosquitto import Mosquitto


@pytest.fixture
async def service(sqlite_url: str, tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[UlmsApi]:
    """The conftest's service with PEER_TIMEOUT (0.5 s): these tests are about timeouts."""
    async with ulms_api(sqlite_url, tmp_path, mosquitto, peer_timeout=PEER_TIMEOUT) as started:
        yield started


TASK = {
    "audience": "usr.example.org",
    "tags": {"scope": "lesson", "conference_room_id": "c"},
    "priority": "normal",
    "template": "transcode-minigroup-to-hls",
    "bindings": {"streams": [], "host_stream_id": "r"},
}


async def submit(service: UlmsApi) -> None:
    await service.container.ctx.tasks.create_task(
        audience="usr.example.org",
        task_id="transcode-minigroup-to-hls-lesson",
        classroom_id=uuid4(),
        task=TASK,
    )


async def test_a_task_is_posted_with_the_id_token_and_user_agent(service: UlmsApi) -> None:
    await submit(service)
    [task] = service.api.sandbox.tq.tasks
    assert (task.audience, task.task_id, task.body) == (
        "usr.example.org",
        "transcode-minigroup-to-hls-lesson",
        TASK,
    )
    assert task.headers["content-type"] == "application/json"
    assert task.headers["user-agent"].startswith("minigroups-")
    scheme, token = task.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    assert read_token(token).claims.sub == "dispatcher"
    assert service.container.agent is not None
    assert token == service.container.agent.options.password  # the same id token as MQTT


@pytest.mark.parametrize(
    ("inject", "kind"),
    [
        ("fail", UpstreamFailureKind.REJECTED),
        ("silence", UpstreamFailureKind.TIMEOUT),
        ("slow", UpstreamFailureKind.TIMEOUT),
        ("outage", UpstreamFailureKind.UNAVAILABLE),
    ],
)
async def test_tq_failures(service: UlmsApi, inject: str, kind: UpstreamFailureKind) -> None:
    if inject == "fail":
        service.api.faults.fail("tq", "create_task", status=201)  # only 200 succeeds
    elif inject == "silence":
        service.api.faults.silence("tq", "create_task")
    elif inject == "slow":
        service.tq.slow(PEER_TIMEOUT + 2.0)  # far past the bound below: load cannot blur it
    else:
        service.api.faults.outage("tq")
    started = time.monotonic()
    with pytest.raises(UpstreamFailed) as failure:
        await submit(service)
    assert failure.value.kind is kind
    assert time.monotonic() - started < PEER_TIMEOUT + 1.0
