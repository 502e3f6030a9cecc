"""TqClient (contract.md upstream §5.1): URL join, headers, body, 200-only success, error kinds."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from urllib.parse import quote
from uuid import UUID, uuid4

import httpx
import pytest

from minigroups.adapters.peers.tq import HttpxPost, TqClient, task_url
from minigroups.adapters.sandbox import Sandbox, SandboxTqTransport
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from tests.support.faults import Faults
from tests.support.hostile import HOSTILE

AUDIENCE = "dev.usr.example.com"
TASK_ID = "transcode-minigroup-to-hls-minigroup-abc"
CLASS_ID = UUID("6a2b1c3d-0000-4000-8000-000000000001")
TASK = {
    "audience": AUDIENCE,
    "tags": {"scope": "minigroup-abc", "conference_room_id": str(uuid4())},
    "priority": "normal",
    "template": "transcode-minigroup-to-hls",
    "bindings": {"streams": [], "host_stream_id": str(uuid4())},
}
TASK_PATH = f"/api/v1/audiences/{AUDIENCE}/tasks/{TASK_ID}/classrooms/{CLASS_ID}"


def tq_client(
    transport: httpx.AsyncBaseTransport,
    *,
    base_url: str = "http://tq-cluster:3000/",
    timeout: float = 0.1,
) -> TqClient:
    return TqClient(
        HttpxPost(httpx.AsyncClient(transport=transport)),
        base_url=base_url,
        token="id-token",
        user_agent="minigroups-0.1.0",
        timeout=timeout,
    )


async def create(client: TqClient) -> None:
    await client.create_task(audience=AUDIENCE, task_id=TASK_ID, classroom_id=CLASS_ID, task=TASK)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://tq-cluster:3000/", f"http://tq-cluster:3000{TASK_PATH}"),
        ("http://tq-cluster:3000", f"http://tq-cluster:3000{TASK_PATH}"),
        ("http://h/tq/", f"http://h/tq{TASK_PATH}"),
        ("http://h/tq", f"http://h{TASK_PATH}"),  # the last segment is lost, as in the reference
    ],
)
def test_task_url_is_a_relative_join(base_url: str, expected: str) -> None:
    assert task_url(base_url, AUDIENCE, TASK_ID, CLASS_ID) == expected


def test_audience_and_task_id_are_percent_encoded() -> None:
    url = task_url("http://h/", "a b", "t?x", CLASS_ID)
    assert url == f"http://h/api/v1/audiences/a%20b/tasks/t%3Fx/classrooms/{CLASS_ID}"


def test_the_scope_of_issue_8_cannot_reach_another_audience() -> None:
    scope = (
        f"x/../../../usr.victim/tasks/transcode-minigroup-to-hls-lesson-1/classrooms/{CLASS_ID}?"
    )
    url = task_url(
        "http://tq:3000/", "usr.attacker", f"transcode-minigroup-to-hls-{scope}", CLASS_ID
    )
    assert url == (
        "http://tq:3000/api/v1/audiences/usr.attacker/tasks/transcode-minigroup-to-hls-x%2F..%2F"
        "..%2F..%2Fusr.victim%2Ftasks%2Ftranscode-minigroup-to-hls-lesson-1%2Fclassrooms%2F"
        f"{CLASS_ID}%3F/classrooms/{CLASS_ID}"
    )


def _hostile_cases() -> list[tuple[str, str]]:
    return [(AUDIENCE, f"transcode-minigroup-to-hls-{scope}") for scope in HOSTILE] + [
        (audience, TASK_ID) for audience in HOSTILE
    ]


@pytest.mark.parametrize(("audience", "task_id"), _hostile_cases())
@pytest.mark.parametrize("base_url", ["http://tq-cluster:3000/", "http://h/tq/"])
async def test_hostile_audience_or_scope_lands_on_exactly_the_intended_path(
    sandbox: Sandbox, faults: Faults, base_url: str, audience: str, task_id: str
) -> None:
    """The request reaches tq's task route with the very audience and task id we meant (issue 8):
    `/`, `..`, `?`, `#`, `%`, whitespace, controls and non-ASCII each stay inside one segment."""
    client = tq_client(SandboxTqTransport(sandbox), base_url=base_url)
    await client.create_task(audience=audience, task_id=task_id, classroom_id=CLASS_ID, task=TASK)
    [call] = faults.calls_to("tq")
    prefix = "/tq" if base_url.endswith("/tq/") else ""
    assert call.path == (
        f"{prefix}/api/v1/audiences/{quote(audience, safe='')}"
        f"/tasks/{quote(task_id, safe='')}/classrooms/{CLASS_ID}"
    ).replace("/audiences/./", "/audiences/%2E/").replace("/audiences/../", "/audiences/%2E%2E/")
    [task] = sandbox.tq.tasks
    assert (task.audience, task.task_id, task.classroom_id) == (audience, task_id, CLASS_ID)


@pytest.mark.parametrize(
    ("base_url", "path"),
    [("http://h/tq/", f"/tq{TASK_PATH}"), ("http://h/tq", TASK_PATH)],
)
async def test_the_sandbox_tq_records_the_task(
    sandbox: Sandbox, base_url: str, path: str, faults: Faults
) -> None:
    client = tq_client(SandboxTqTransport(sandbox), base_url=base_url)
    await create(client)
    [call] = faults.calls_to("tq")
    assert (call.method, call.path, call.payload) == ("create_task", path, TASK)
    [task] = sandbox.tq.tasks
    assert (task.audience, task.task_id, task.classroom_id, task.body) == (
        AUDIENCE,
        TASK_ID,
        CLASS_ID,
        TASK,
    )
    assert task.headers["authorization"] == "Bearer id-token"
    assert task.headers["content-type"] == "application/json"
    assert task.headers["user-agent"] == "minigroups-0.1.0"


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


async def test_the_request_is_a_json_post_with_the_timeout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="")

    await create(tq_client(mock(handler), timeout=7.5))
    [request] = seen
    assert request.method == "POST"
    assert json.loads(request.content) == TASK
    assert request.headers.get_list("content-type") == ["application/json"]
    assert request.extensions["timeout"]["read"] == 7.5


@pytest.mark.parametrize("status", [201, 202, 204, 400, 404, 500, 503])
async def test_only_200_is_success(status: int) -> None:
    client = tq_client(mock(lambda _: httpx.Response(status, text=f"tq says {status}")))
    with pytest.raises(UpstreamFailed) as caught:
        await create(client)
    failure = caught.value
    assert (failure.kind, failure.service, failure.method) == (
        UpstreamFailureKind.REJECTED,
        "tq",
        "create_task",
    )
    assert (failure.peer_status, failure.detail) == (status, f"tq says {status}")


async def test_an_injected_error_is_rejected_with_its_body(
    sandbox: Sandbox, faults: Faults
) -> None:
    faults.fail("tq", "create_task", status=503, problem={"type": "x", "title": "Busy"})
    with pytest.raises(UpstreamFailed) as caught:
        await create(tq_client(SandboxTqTransport(sandbox)))
    assert (caught.value.kind, caught.value.peer_status) == (UpstreamFailureKind.REJECTED, 503)
    assert json.loads(caught.value.detail or "") == {"type": "x", "title": "Busy"}
    assert sandbox.tq.tasks == []


async def test_silence_is_a_timeout(sandbox: Sandbox, faults: Faults) -> None:
    faults.silence("tq", "create_task", times=1)
    client = tq_client(SandboxTqTransport(sandbox), timeout=0.05)
    with pytest.raises(UpstreamFailed) as caught:
        await create(client)
    assert caught.value.kind is UpstreamFailureKind.TIMEOUT
    await create(client)  # `times=1`: the next call is answered
    assert len(sandbox.tq.tasks) == 1


async def test_an_outage_is_unavailable(sandbox: Sandbox, faults: Faults) -> None:
    faults.outage("tq")
    with pytest.raises(UpstreamFailed) as caught:
        await create(tq_client(SandboxTqTransport(sandbox)))
    assert caught.value.kind is UpstreamFailureKind.UNAVAILABLE
    assert faults.calls == []
    faults.restore("tq")
    await create(tq_client(SandboxTqTransport(sandbox)))


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectTimeout("slow"), UpstreamFailureKind.TIMEOUT),
        (httpx.ReadTimeout("slow"), UpstreamFailureKind.TIMEOUT),
        (httpx.ConnectError("refused"), UpstreamFailureKind.UNAVAILABLE),
        (httpx.RemoteProtocolError("garbage"), UpstreamFailureKind.UNAVAILABLE),
    ],
)
async def test_transport_errors_are_translated(
    error: httpx.HTTPError, kind: UpstreamFailureKind
) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(UpstreamFailed) as caught:
        await create(tq_client(mock(handler)))
    assert caught.value.kind is kind


async def test_the_sandbox_transport_answers_404_off_route(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(transport=SandboxTqTransport(sandbox)) as http:
        assert (await http.post("http://tq/api/v1/tasks", content=b"{}")).status_code == 404
        assert (await http.get(f"http://tq{TASK_PATH}")).status_code == 404
        assert (await http.post(f"http://tq{TASK_PATH}", content=b"{")).status_code == 400
    assert sandbox.tq.tasks == []


def test_httpcore_finds_sniffio() -> None:
    # Without sniffio httpcore tries to import it again at every lock and event it sets up (a
    # failed import is not cached: a search of sys.path), several times per request: about
    # 50 us each, 14% of the pipeline's CPU in tq's client (issue 12). It is a dependency.
    assert importlib.util.find_spec("sniffio") is not None
