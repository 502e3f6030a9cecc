"""Failures that are not the caller's fault tell the client no driver message, host, port or
URI (issue 8): the cause goes to the log with a request id, the client gets that id."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from minigroups.adapters.db.engine import async_url
from minigroups.bootstrap import build_container, create_app
from tests.api.conftest import DOWN, Api, bearer_token, build_settings

LEAKS = ("127.0.0.1", "5432", "postgres", "sqlite", "asyncpg", "errno", "connect call", "http://")


def _assert_generic(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> str:
    detail: str = response.json()["detail"]
    for leak in LEAKS:
        assert leak not in detail.lower(), detail
    request_id = response.headers["x-request-id"]
    assert f"request id {request_id}" in detail
    logged = [r.getMessage() for r in caplog.records if request_id in r.getMessage()]
    assert logged, "the cause is logged with the request id"
    return logged[0]


async def test_an_unreachable_database_is_not_described_to_the_client(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = build_settings("postgresql://postgres:secret@127.0.0.1:1/none", tmp_path, "x")
    container = build_container(settings)
    transport = httpx.ASGITransport(app=create_app(container))
    token = bearer_token(tmp_path / "hs256.secret", "u")
    caplog.set_level(logging.WARNING)
    async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as client:
        response = await client.put(
            "/api/v1/account/properties/p", json=1, headers={"authorization": f"Bearer {token}"}
        )
    await container.close()
    assert response.status_code == 503
    assert response.json()["type"] == "database_connection_acquisition_failed"
    logged = _assert_generic(response, caplog)
    assert "127.0.0.1" in logged or "connect" in logged.lower()
    assert "secret" not in response.text


async def test_a_failed_statement_is_not_described_to_the_client(
    api: Api, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_async_engine(async_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE account"))
    await engine.dispose()
    caplog.set_level(logging.WARNING)
    response = await api.client.put("/api/v1/account/properties/p", json=1, headers=api.auth())
    assert response.status_code == 500
    assert response.json()["type"] == "database_query_failed"
    logged = _assert_generic(response, caplog)
    assert re.search("account", logged), logged  # the driver's message names the table


async def test_an_unreachable_authorization_backend_is_not_described(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    created: dict[str, Any] = await api.create(audience=DOWN)
    caplog.set_level(logging.WARNING)
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}", headers=api.auth("user", DOWN)
    )
    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"[Network] intent::user.{DOWN}::")
    logged = _assert_generic(response, caplog)
    assert "127.0.0.1:9" in logged
