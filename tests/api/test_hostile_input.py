"""Hostile input is a 4xx, never a 5xx (issue 8): U+0000, deep nesting, huge headers, bodies that
are cut short or never arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from starlette.types import Message

from tests.api.conftest import ADMIN, AUDIENCE, Api, running_api

JSON = {"content-type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000


async def test_u0000_in_any_stored_string_is_400(api: Api) -> None:
    """On PostgreSQL each of these was a 500 (text and jsonb hold no NUL)."""
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}"
    nul = "a\u0000b"
    attempts = [
        api.client.put(f"{url}/properties/p", json=nul, headers=api.auth()),
        api.client.put(f"{url}/properties/p", json={nul: 1}, headers=api.auth()),
        api.client.put("/api/v1/account/properties/p", json=[nul], headers=api.auth()),
        api.client.post(
            "/api/v1/minigroups",
            json={"scope": nul, "audience": AUDIENCE},
            headers=api.auth(ADMIN),
        ),
        api.client.post(
            "/api/v1/minigroups",
            json={"scope": "s", "audience": AUDIENCE, "tags": {"t": nul}},
            headers=api.auth(ADMIN),
        ),
        api.client.post(
            "/api/v1/minigroups",
            json={"scope": "s", "audience": AUDIENCE, "properties": {"p": nul}},
            headers=api.auth(ADMIN),
        ),
        api.client.post(f"{url}/events", json={"type": "t", "data": nul}, headers=api.auth()),
        api.client.put(f"{url}", json={"host": "web.a\u0000.b.c"}, headers=api.auth()),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "invalid_payload"
        assert "U+0000" in response.json()["detail"]
    for path in (
        f"{url}/properties/a%00b",
        "/api/v1/account/properties/a%00b",
        f"/api/v1/audiences/{AUDIENCE}/minigroups/a%00b",
    ):
        response = await api.client.put(path, json=1, headers=api.auth())
        assert response.status_code == 400, (path, response.text)
        assert response.json()["type"] == "invalid_parameter"
    assert api.faults.calls_to("event", "event.create") == []
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(UUID(created["id"]))
        assert await uow.minigroups.get_by_scope(AUDIENCE, "s") is None
    assert stored is not None
    assert stored.properties == {}
    assert stored.host is None


def _body_routes(created: dict[str, Any]) -> list[tuple[str, str]]:
    """Every route that reads a JSON body."""
    by_id = f"/api/v1/minigroups/{created['id']}"
    return [
        ("POST", "/api/v1/minigroups"),
        ("PUT", by_id),
        ("PUT", f"/api/v1/audiences/{AUDIENCE}/minigroups/{created['scope']}"),
        ("POST", f"{by_id}/recreate"),
        ("PUT", f"{by_id}/properties/p"),
        ("PUT", "/api/v1/account/properties/p"),
        ("POST", f"{by_id}/timestamps"),
        ("POST", f"{by_id}/events"),
        ("POST", f"/api/v1/transcoding/minigroup/{created['id']}/restart"),
        ("POST", f"/sandbox/minigroups/{created['id']}/finish"),
    ]


async def test_deep_nesting_is_400_on_every_route_with_a_body(api: Api) -> None:
    created = await api.create()
    headers = {**api.auth(ADMIN), **JSON}
    nested_object = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
    for method, path in _body_routes(created):
        for body in (DEEP, nested_object, b"[" * 10_000):
            response = await api.client.request(method, path, content=body, headers=headers)
            assert response.status_code == 400, (method, path, response.text)
            assert response.json()["type"] == "invalid_payload"
    at_the_limit = b"[" * 63 + b'"\\"[[[["' + b"]" * 63  # brackets inside a string do not count
    put = f"/api/v1/minigroups/{created['id']}/properties/deep"
    response = await api.client.put(put, content=at_the_limit, headers=headers)
    assert response.status_code == 200
    over = b"[" * 65 + b"]" * 65
    refused = await api.client.put(put, content=over, headers=headers)
    assert refused.status_code == 400
    assert "64" in refused.json()["detail"]


async def test_oversized_headers_are_431_before_any_work(api: Api) -> None:
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}/properties/p"
    token = api.token()
    huge = {"authorization": f"Bearer {token}{'A' * 100_000}"}
    response = await api.client.put(url, json=1, headers=huge)
    assert response.status_code == 431
    assert response.json()["type"] == "request_header_fields_too_large"
    many = {f"x-filler-{n}": "v" * 1000 for n in range(17)}
    crowded = await api.client.put(url, json=1, headers={**api.auth(), **many})
    assert crowded.status_code == 431
    fine = {f"x-filler-{n}": "v" * 1000 for n in range(10)}
    assert (await api.client.put(url, json=2, headers={**api.auth(), **fine})).status_code == 200
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(UUID(created["id"]))
    assert stored is not None
    assert stored.properties == {"p": 2}


async def _asgi_put(api: Api, path: str, messages: list[Message]) -> list[Message]:
    """Call the app as a server would, with the given receive messages; what it sent."""
    app = api.client._transport.app  # type: ignore[attr-defined]
    token = api.token().encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", b"Bearer " + token),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    pending = list(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # a client that never sends the rest
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_a_body_cut_short_by_a_disconnect_is_never_stored(api: Api) -> None:
    created = await api.create()
    path = f"/api/v1/minigroups/{created['id']}/properties/p"
    part = {"type": "http.request", "body": b'"abc', "more_body": True}
    sent = await _asgi_put(api, path, [part, {"type": "http.disconnect"}])
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses in ([], [400])
    for number_prefix in (b"12", b"[1,2]"):  # a prefix that is itself valid JSON
        part = {"type": "http.request", "body": number_prefix, "more_body": True}
        sent = await _asgi_put(api, path, [part, {"type": "http.disconnect"}])
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] in ([], [400])
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(UUID(created["id"]))
    assert stored is not None
    assert stored.properties == {}


@pytest.fixture
async def impatient(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, body_read_seconds=0.2) as api:
        yield api


async def test_a_body_that_never_arrives_is_408(impatient: Api) -> None:
    created = await impatient.create()
    path = f"/api/v1/minigroups/{created['id']}/properties/p"
    part = {"type": "http.request", "body": b"12", "more_body": True}
    sent = await asyncio.wait_for(_asgi_put(impatient, path, [part]), timeout=5)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [408]
    async with impatient.container.ctx.store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(UUID(created["id"]))
    assert stored is not None
    assert stored.properties == {}
