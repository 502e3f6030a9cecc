"""`/readyz`: 503 naming the dependency that is down (no hosts), 200 again once it is back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from minigroups.bootstrap import build_container, create_app
from tests.api.conftest import AUDIENCE, Api, bearer_token, build_settings
from tests.support.databases import PostgresTemplate

UNREACHABLE = ["postgresql://postgres@127.0.0.1:1/none", "sqlite:////nonexistent/dir/db"]


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = build_settings(database_url, tmp_path, "http://127.0.0.1:9/authz")
    container = build_container(settings)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as client:
        yield client
    await container.close()


async def test_ready_names_the_database(api: Api) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "up"}  # no broker with the sandbox


@pytest.mark.parametrize("database_url", UNREACHABLE, ids=["postgres", "sqlite"])
async def test_an_unreachable_database_is_unready(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json() == {"status": "unready", "database": "down"}


async def _allow_connections(template: PostgresTemplate, url: str, allowed: bool) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(template.admin_url, timeout=5)
    try:
        await connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}')
        if not allowed:  # as an operator does: the sessions already open end too
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_a_database_refusing_connections_is_unready_until_it_accepts_again(
    postgres_template: PostgresTemplate, postgres_url: str, tmp_path: Path
) -> None:
    settings = build_settings(postgres_url, tmp_path, "http://127.0.0.1:9/authz")
    container = build_container(settings)
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as c:
            assert (await c.get("/readyz")).status_code == 200  # a pooled connection is open
            await _allow_connections(postgres_template, postgres_url, allowed=False)
            for _ in range(3):  # the dead pooled connection, then new ones that are refused
                response = await c.get("/readyz")
                assert response.status_code == 503, response.text
                assert response.json() == {"status": "unready", "database": "down"}
            token = bearer_token(tmp_path / "hs256.secret", "user1", AUDIENCE)
            read = await c.get(
                f"/api/v1/minigroups/{uuid4()}", headers={"authorization": f"Bearer {token}"}
            )
            assert read.status_code == 503, read.text  # unavailable, not a failed statement
            assert read.json()["type"] == "database_connection_acquisition_failed"
            await _allow_connections(postgres_template, postgres_url, allowed=True)
            response = await c.get("/readyz")
            assert response.status_code == 200, response.text
            assert response.json() == {"status": "ready", "database": "up"}
    finally:
        await container.close()
