"""Each request's trail (issue 11): one access line with its fields, `X-Request-Id` accepted,
replaced or generated and always echoed, and the id on every log line the request causes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import ADMIN, AUDIENCE, DOWN, Api, running_api
from tests.support.logs import LogLines, captured_logs

ACCESS = "minigroups.access"


@pytest.fixture
async def api(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(sqlite_url, tmp_path) as running:
        yield running


@pytest.fixture
def logs() -> Iterator[LogLines]:
    with captured_logs("info", "json") as lines:
        yield lines


def access_line(logs: LogLines, request_id: str) -> dict[str, Any]:
    [line] = [r for r in logs.of(ACCESS) if r.get("request_id") == request_id]
    return line


async def test_one_access_line_per_request_with_its_fields(api: Api, logs: LogLines) -> None:
    created = await api.create()
    response = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    line = access_line(logs, request_id)
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/minigroups/{id}"  # the template, never the id
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert 0 < line["duration_ms"] < 10_000
    assert line["account"] == f"user1.{AUDIENCE}"
    assert line["client"] == "127.0.0.1"
    assert line["message"].startswith("GET /api/v1/minigroups/{id} 200 ")
    assert len(logs.of(ACCESS)) == 2  # the create and the read, one line each


async def test_an_anonymous_or_unmatched_request_has_no_account(api: Api, logs: LogLines) -> None:
    unknown = await api.client.get("/no/such/path?access_token=x")
    unauthenticated = await api.client.get(f"/api/v1/minigroups/{UUID(int=1)}")
    assert (unknown.status_code, unauthenticated.status_code) == (404, 401)
    first = access_line(logs, unknown.headers["x-request-id"])
    assert (first["route"], first["status"], first["account"]) == ("unmatched", 404, None)
    second = access_line(logs, unauthenticated.headers["x-request-id"])
    assert (second["status"], second["account"]) == (401, None)
    assert "access_token" not in logs.text  # the route template, never the query string


@pytest.mark.parametrize(
    "request_id",
    ["abc-123", "req:2024/01/01#7", "x" * 128, "3f1e2d4c-5b6a-4789-9abc-def012345678"],
    ids=["simple", "punctuation", "128-chars", "uuid"],
)
async def test_a_sane_request_id_is_kept_and_echoed(
    api: Api, logs: LogLines, request_id: str
) -> None:
    response = await api.client.get("/healthz", headers={"x-request-id": request_id})
    assert response.headers["x-request-id"] == request_id
    assert access_line(logs, request_id)["route"] == "/healthz"


@pytest.mark.parametrize(
    "request_id",
    ["x" * 129, "has space", "tab\there", "caf\u00e9", ""],
    ids=["129-chars", "space", "control", "non-ascii", "empty"],
)
async def test_an_insane_request_id_is_replaced(api: Api, logs: LogLines, request_id: str) -> None:
    raw = request_id.encode("utf-8")
    response = await api.client.get("/healthz", headers=[(b"x-request-id", raw)])
    echoed = response.headers["x-request-id"]
    assert echoed != request_id
    assert str(UUID(echoed)) == echoed  # a generated one
    access_line(logs, echoed)


async def test_every_answer_echoes_a_request_id(api: Api) -> None:
    created = await api.create()
    answers = [
        await api.client.get("/healthz"),
        await api.client.get("/nowhere"),
        await api.client.patch(f"/api/v1/minigroups/{created['id']}", headers=api.auth()),
        await api.client.get(f"/api/v1/minigroups/{created['id']}"),
        await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth()),
        await api.client.options(f"/api/v1/minigroups/{created['id']}"),
    ]
    assert [a.status_code for a in answers] == [200, 404, 405, 401, 200, 200]
    ids = [a.headers["x-request-id"] for a in answers]
    assert len(set(ids)) == len(ids)


async def test_the_lines_a_request_causes_carry_its_id_and_caller(api: Api, logs: LogLines) -> None:
    api.faults.fail("event", "room.locked_types")  # logged as a warning, the create succeeds
    response = await api.client.post(
        "/api/v1/minigroups",
        json={"audience": AUDIENCE, "scope": "trail"},
        headers={**api.auth(ADMIN), "x-request-id": "trail-1"},
    )
    assert response.status_code == 201, response.text
    caused = [r for r in logs.records() if r["logger"] != ACCESS]
    [warning] = [r for r in caused if "could not lock interaction types" in r["message"]]
    assert warning["request_id"] == "trail-1"
    assert warning["account"] == f"{ADMIN}.{AUDIENCE}"
    later = await api.client.get("/healthz")
    assert later.headers["x-request-id"] != "trail-1"
    assert all(r.get("request_id") != "trail-1" for r in logs.records()[-1:])


async def test_a_5xx_problem_names_the_request_id_of_the_trail(api: Api, logs: LogLines) -> None:
    response = await api.client.post(  # the authorization backend of DOWN does not answer
        "/api/v1/minigroups",
        json={"audience": DOWN, "scope": "down"},
        headers={**api.auth("user1", DOWN), "x-request-id": "down-1"},
    )
    assert response.status_code == 503, response.text
    assert response.headers["x-request-id"] == "down-1"
    assert "request id down-1" in response.json()["detail"]
    cause = [r for r in logs.records() if r["logger"] == "minigroups.api.problems"]
    assert [r["request_id"] for r in cause] == ["down-1"]
    assert access_line(logs, "down-1")["status"] == response.status_code
