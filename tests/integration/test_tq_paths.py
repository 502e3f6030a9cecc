"""tq over real HTTP, by each `TaskPost` (aiohttp in production, httpx for the sandbox): a hostile
audience or scope lands on exactly the intended path (issue 8), and the answers and failures of a
real server read as tq's contract says (200 only; TIMEOUT; UNAVAILABLE).

The server is the loopback tq of tests/support (no broker needed); it keeps each request target
as it came off the wire, before any parsing of ours.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote
from uuid import UUID

import httpx
import pytest

from minigroups.adapters.peers.tq import AiohttpPost, HttpxPost, TaskPost, TqClient
from minigroups.adapters.sandbox import Sandbox
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from tests.support.faults import Faults
from tests.support.hostile import HOSTILE
from tests.support.ports import free_port
from tests.support.simulators import TqServer

CLASS_ID = UUID("6a2b1c3d-0000-4000-8000-000000000001")
OWN = "usr.attacker"
TASK = {"audience": OWN, "tags": {}, "priority": "normal", "template": "t", "bindings": {}}


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
async def tq(faults: Faults) -> AsyncIterator[TqServer]:
    server = TqServer(Sandbox(agent_id="test.dispatcher.svc.example.org", faults=faults))
    await server.start()
    yield server
    await server.close()


@pytest.fixture(params=["aiohttp", "httpx"])
async def post(request: pytest.FixtureRequest) -> AsyncIterator[TaskPost]:
    carrier: TaskPost = (
        AiohttpPost() if request.param == "aiohttp" else HttpxPost(httpx.AsyncClient())
    )
    yield carrier
    await carrier.aclose()


@pytest.mark.parametrize("scope", HOSTILE)
async def test_a_hostile_scope_stays_in_its_segment_on_the_wire(
    tq: TqServer, post: TaskPost, scope: str
) -> None:
    task_id = f"transcode-minigroup-to-hls-{scope}"
    await _post(tq, post, OWN, task_id)
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
    tq: TqServer, post: TaskPost, audience: str
) -> None:
    await _post(tq, post, audience, "transcode-minigroup-to-hls-lesson")
    [target] = tq.targets
    levels = target.split("/")
    assert len(levels) == 9
    assert levels[5:] == ["tasks", "transcode-minigroup-to-hls-lesson", "classrooms", str(CLASS_ID)]
    assert unquote(levels[4], errors="strict") == audience
    assert levels[4] not in (".", "..")
    [task] = tq.sandbox.tq.tasks
    assert task.audience == audience


async def test_a_task_is_posted_with_its_headers_and_body(tq: TqServer, post: TaskPost) -> None:
    await _post(tq, post, OWN, "transcode-minigroup-to-hls-lesson")
    await _post(tq, post, OWN, "transcode-minigroup-to-hls-other")  # a kept-alive connection
    first, second = tq.sandbox.tq.tasks
    assert (first.body, second.task_id) == (TASK, "transcode-minigroup-to-hls-other")
    assert first.headers["authorization"] == "Bearer t"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"] == "test"


async def test_an_answer_other_than_200_is_rejected_with_its_body(
    tq: TqServer, faults: Faults, post: TaskPost
) -> None:
    faults.fail("tq", "create_task", status=503, problem={"type": "x", "title": "Busy"})
    with pytest.raises(UpstreamFailed) as caught:
        await _post(tq, post, OWN, "transcode-minigroup-to-hls-lesson")
    assert (caught.value.kind, caught.value.peer_status) == (UpstreamFailureKind.REJECTED, 503)
    assert json.loads(caught.value.detail or "") == {"type": "x", "title": "Busy"}


async def test_no_answer_in_time_is_a_timeout(tq: TqServer, post: TaskPost) -> None:
    tq.slow(1.0)
    with pytest.raises(UpstreamFailed) as caught:
        await _post(tq, post, OWN, "transcode-minigroup-to-hls-lesson", within=0.1)
    assert caught.value.kind is UpstreamFailureKind.TIMEOUT


async def test_a_hang_up_is_unavailable(tq: TqServer, faults: Faults, post: TaskPost) -> None:
    faults.outage("tq")  # the server closes the connection without an answer
    with pytest.raises(UpstreamFailed) as caught:
        await _post(tq, post, OWN, "transcode-minigroup-to-hls-lesson")
    assert caught.value.kind is UpstreamFailureKind.UNAVAILABLE
    faults.restore("tq")
    await _post(tq, post, OWN, "transcode-minigroup-to-hls-lesson")  # and the next one works
    assert len(tq.sandbox.tq.tasks) == 1


async def test_a_refused_connection_is_unavailable(post: TaskPost) -> None:
    port = free_port()  # nobody listens on it
    client = TqClient(
        post, base_url=f"http://127.0.0.1:{port}/", token="t", user_agent="test", timeout=5.0
    )
    with pytest.raises(UpstreamFailed) as caught:
        await client.create_task(audience=OWN, task_id="t", classroom_id=CLASS_ID, task=TASK)
    assert caught.value.kind is UpstreamFailureKind.UNAVAILABLE


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_the_environments_proxy_carries_the_request(
    tq: TqServer, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As httpx did for tq before aiohttp: HTTP_PROXY counts (the loopback tq stands in for it).
    _without_proxy_settings(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", tq.base_url.rstrip("/"))
    post: TaskPost = AiohttpPost() if kind == "aiohttp" else HttpxPost(httpx.AsyncClient())
    url = "http://tq.example.invalid/"
    client = TqClient(post, base_url=url, token="t", user_agent="test", timeout=5.0)
    try:
        with contextlib.suppress(UpstreamFailed):  # what the stand-in answers does not matter
            await client.create_task(audience=OWN, task_id="t", classroom_id=CLASS_ID, task=TASK)
    finally:
        await post.aclose()
    assert tq.targets == [f"{url}api/v1/audiences/{OWN}/tasks/t/classrooms/{CLASS_ID}"]


def _without_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "HTTP_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def aiohttp_post(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AiohttpPost]:
    """The production post, in an environment without proxy settings or netrc."""
    _without_proxy_settings(monkeypatch)
    carrier = AiohttpPost()
    yield carrier
    await carrier.aclose()


async def test_no_proxy_sends_the_request_direct(
    tq: TqServer, aiohttp_post: AiohttpPost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    await _post(tq, aiohttp_post, OWN, "t")
    assert len(tq.targets) == 1


async def test_the_environment_is_read_once_per_host(
    tq: TqServer, aiohttp_post: AiohttpPost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read at the first request (not at every one, as aiohttp's trust_env does, in a thread).
    await _post(tq, aiohttp_post, OWN, "first")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    await _post(tq, aiohttp_post, OWN, "second")  # still direct: the host's answer is kept
    assert len(tq.targets) == 2


async def test_a_netrc_entry_for_tq_adds_no_second_authorization(
    tq: TqServer, aiohttp_post: AiohttpPost, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # aiohttp's trust_env took the netrc login as the request's auth and then refused it beside
    # the bearer token (ValueError); the token alone is sent.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    await _post(tq, aiohttp_post, OWN, "t")
    assert len(tq.targets) == 1


async def _post(
    tq: TqServer, post: TaskPost, audience: str, task_id: str, *, within: float = 5.0
) -> None:
    client = TqClient(post, base_url=tq.base_url, token="t", user_agent="test", timeout=within)
    await client.create_task(audience=audience, task_id=task_id, classroom_id=CLASS_ID, task=TASK)
