"""Issue 8 through the HTTP API: caller data cannot steer the service's own requests, and an
account cannot pass for another whose id prints the same."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest

from minigroups.bootstrap import build_container, create_app
from tests.api.conftest import (
    ADMIN,
    AUDIENCE,
    ISSUER,
    LOCKED,
    REMOTE,
    Api,
    bearer_token,
    build_settings,
    sandbox_for,
)
from tests.api.helpers import add_recording, ago
from tests.api.pipeline import Pipeline, uploaded
from tests.support.authz_backend import AuthzBackend
from tests.support.faults import Faults
from tests.support.hostile import HOSTILE

ATTACK = (
    "x/../../../usr.victim/tasks/transcode-minigroup-to-hls-lesson-1/classrooms/"
    "6a2b1c3d-0000-4000-8000-000000000001?"
)

# --- the scope reaches tq as one path segment -------------------------------------------------


@pytest.mark.parametrize("scope", [ATTACK, "a/b?c#d", "..", "100% sure", "tab\there", "урок\n"])
async def test_a_hostile_scope_reaches_tq_only_at_its_own_audience(api: Api, scope: str) -> None:
    pipeline = Pipeline(api)
    minigroup = await api.create(scope=scope)
    rtcs = [uuid4(), uuid4()]
    await uploaded(pipeline, minigroup, rtcs)  # each recording gets a convert task from tq
    calls = api.faults.calls_to("tq")
    assert len(calls) == 2
    for call, rtc in zip(calls, rtcs, strict=True):
        task_id = f"convert-mjr-dumps-to-stream-{scope}-{rtc}"
        assert call.path == (
            f"/api/v1/audiences/{AUDIENCE}/tasks/{quote(task_id, safe='')}"
            f"/classrooms/{minigroup['id']}"
        )
    tasks = api.sandbox.tq.tasks
    assert {task.audience for task in tasks} == {AUDIENCE}
    assert [task.task_id for task in tasks] == [
        f"convert-mjr-dumps-to-stream-{scope}-{rtc}" for rtc in rtcs
    ]


# --- the download URL -------------------------------------------------------------------------


async def _download(api: Api, scope: str) -> str:
    created = await api.create(scope=scope)
    await add_recording(api, created["id"], transcoded_at=ago(1))
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}/download", headers=api.auth()
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


@pytest.mark.parametrize("char", ["\t", "\r", "\n"])
async def test_scopes_differing_by_a_tab_cr_or_lf_get_different_download_urls(
    api: Api, char: str
) -> None:
    stem = f"lesson-{secrets.token_hex(4)}"
    plain = await _download(api, f"{stem}1")
    spliced = await _download(api, f"{stem}{char}1")
    assert plain != spliced
    assert spliced.endswith(f"::{stem}{quote(char)}1/objects/mp4")


@pytest.mark.parametrize("scope", HOSTILE[:6])
async def test_a_hostile_scope_stays_in_the_set_segment_of_the_download_url(
    api: Api, scope: str
) -> None:
    url = httpx.URL(await _download(api, scope))
    assert (url.query, url.fragment) == (b"", "")
    assert url.raw_path.decode().count("/") == 8
    assert url.raw_path.decode().startswith(f"/api/v2/backends/yandex/sets/ms.webinar.{AUDIENCE}::")


# --- a dotted `sub` is no account (issue 8, finding 2) ----------------------------------------


@pytest.fixture
async def lax_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The test API whose issuer also accepts the audience `example.org`, so that the token
    `sub = "admin.locked"`, `aud = "example.org"` is otherwise valid."""
    backend = AuthzBackend()
    await backend.start()
    settings = build_settings(database_url, tmp_path, backend.uri)
    settings.authn[ISSUER].audience.append("example.org")
    faults = Faults()
    sandbox = sandbox_for(settings, faults)
    container = build_container(settings, sandbox=sandbox)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as client:
        yield Api(client, container, sandbox, faults, backend, tmp_path / "hs256.secret")
    await container.close()
    await backend.stop()


async def test_a_token_whose_sub_has_a_dot_is_401_and_reaches_no_account(lax_api: Api) -> None:
    api = lax_api
    admin = api.auth(ADMIN, LOCKED)  # admin.locked.example.org: trusted in LOCKED
    url = "/api/v1/account/properties/onboarding"
    assert (await api.client.put(url, json="done", headers=admin)).status_code == 200
    # `admin.locked` of `example.org` prints as `admin.locked.example.org` too.
    crafted = {"authorization": f"Bearer {bearer_token(api.secret, 'admin.locked', 'example.org')}"}
    for response in (
        await api.client.get(url, headers=crafted),
        await api.client.put(url, json="hijacked", headers=crafted),
        await api.client.post(
            "/api/v1/minigroups", json={"audience": LOCKED, "scope": "s"}, headers=crafted
        ),
    ):
        assert response.status_code == 401
        assert response.json() == {
            "type": "invalid_authentication",
            "title": "subject = admin.locked of the authentication token is not allowed",
        }
    assert (await api.client.get(url, headers=admin)).json() == "done"
    assert api.faults.calls == []


async def test_an_undotted_sub_with_the_same_audience_still_works(lax_api: Api) -> None:
    response = await lax_api.client.get(
        "/api/v1/account/properties/x", headers=lax_api.auth("admin", "example.org")
    )
    assert response.status_code == 404  # authenticated; no such account yet


# --- the http authorizer: a non-2xx answer is a failure ---------------------------------------


@pytest.mark.parametrize("status", [500, 404])
async def test_a_non_2xx_answer_of_the_authz_backend_is_503(api: Api, status: int) -> None:
    created = await api.create(audience=REMOTE)  # the backend answers 200 ["...", "create", ...]
    api.authz_backend.status = status  # same body, which lists "read"
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}", headers=api.auth("viewer", REMOTE)
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["type"] == "authorization_failed"
