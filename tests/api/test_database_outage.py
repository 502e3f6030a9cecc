"""D6: a database that is down is 503 with Retry-After, never "not found"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from minigroups.bootstrap import build_container, create_app
from tests.api.conftest import AUDIENCE, bearer_token, build_settings

ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(params=["postgresql://postgres@127.0.0.1:1/none", "sqlite:////nonexistent/dir/db"])
async def down(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = build_settings(request.param, tmp_path, "http://127.0.0.1:9/authz")
    container = build_container(settings)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as client:
        yield client
    await container.close()


def _token(tmp_path: Path) -> dict[str, str]:
    return {"authorization": f"Bearer {bearer_token(tmp_path / 'hs256.secret', 'u')}"}


async def test_reads_and_writes_are_503(down: httpx.AsyncClient, tmp_path: Path) -> None:
    headers = _token(tmp_path)
    for response in (
        await down.get(f"/api/v1/minigroups/{ID}", headers=headers),
        await down.get(f"/api/v1/audiences/{AUDIENCE}/minigroups/s", headers=headers),
        await down.post(
            "/api/v1/minigroups", json={"scope": "s", "audience": AUDIENCE}, headers=headers
        ),
        await down.put("/api/v1/account/properties/p", json=1, headers=headers),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"]
        assert response.json()["type"] == "database_connection_acquisition_failed"
    assert (await down.get("/healthz")).status_code == 200  # liveness does not need the database
    # readiness is 503 too, with a body naming the dependency: tests/api/test_readiness.py
