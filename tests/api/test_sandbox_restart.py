"""The sandbox survives a restart: its rooms come back from the stored minigroup on demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from minigroups.bootstrap import Container, build_container, create_app
from minigroups.config import Settings
from tests.api.conftest import ADMIN, AUDIENCE, bearer_token, build_settings


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """One run of the embedded service: its own sandbox, loops and autopilot started."""
    container = build_container(settings)
    await container.start()  # what the ASGI lifespan runs; ASGITransport does not
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as c:
            yield container, c
    finally:
        await container.close()


async def _status_within(
    client: httpx.AsyncClient, url: str, auth: dict[str, str], wanted: str, within: float
) -> str:
    deadline = time.monotonic() + within
    while True:
        response = await client.get(url, headers=auth)
        assert response.status_code == 200, response.text
        status: str = response.json()["status"]
        if status == wanted or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.05)


async def test_an_update_and_finish_after_a_restart_reach_transcoded(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = build_settings(sqlite_url, tmp_path, "http://127.0.0.1:9/authz")
    auth = {"authorization": f"Bearer {bearer_token(tmp_path / 'hs256.secret', ADMIN)}"}
    async with serving(settings) as (_, client):
        body = {"scope": "before-restart", "audience": AUDIENCE}
        created = await client.post("/api/v1/minigroups", json=body, headers=auth)
        assert created.status_code == 201, created.text
    url = f"/api/v1/minigroups/{created.json()['id']}"

    async with serving(settings) as (container, client):  # a new process: an empty sandbox
        assert container.autopilot is not None
        assert container.autopilot.sandbox.event.rooms == {}
        now = int(time.time())
        update = {"time": [now + 60, now + 3600]}  # reaches both rooms, restored on demand
        updated = await client.put(url, json=update, headers=auth)
        assert updated.status_code == 200, updated.text
        finish = await client.post(
            f"/sandbox{url.removeprefix('/api/v1')}/finish", json={"participants": 2}, headers=auth
        )
        assert finish.status_code == 202, finish.text
        assert await _status_within(client, url, auth, "transcoded", within=20) == "transcoded"
        download = await client.get(f"{url}/download", headers=auth)
        assert download.status_code == 200, download.text
