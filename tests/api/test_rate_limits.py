"""Per-tenant rate limits (issue 10) in memory: quotas per account, per audience and on creates,
the 429 answer, the RateLimit fields, the routes that are never limited, off by default."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
from prometheus_client import generate_latest

from minigroups.bootstrap import create_console
from tests.api.conftest import ADMIN, AUDIENCE, MEDIA, Api, running_api

UNKNOWN = f"/api/v1/minigroups/{uuid4()}"  # a read that answers 404 and is counted all the same
FIELD = re.compile(r'"(?P<name>[a-z_0-9]+)";r=(?P<r>\d+);t=(?P<t>\d+)')


@asynccontextmanager
async def limited(sqlite_url: str, tmp_path: Path, **rate_limits: Any) -> AsyncIterator[Api]:
    async with running_api(sqlite_url, tmp_path, sections={"rate_limits": rate_limits}) as api:
        yield api


def remaining(response: httpx.Response) -> dict[str, tuple[int, int]]:
    """The `RateLimit` field: policy -> (requests left, seconds until more)."""
    return {
        match["name"]: (int(match["r"]), int(match["t"]))
        for match in FIELD.finditer(response.headers["ratelimit"])
    }


def counter(api: Api, name: str, **labels: str) -> float:
    value = api.container.registry.get_sample_value(f"minigroups_{name}", labels or None)
    return value or 0.0


async def test_off_by_default_no_quota_no_fields(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(sqlite_url, tmp_path) as api:
        assert api.container.rate_limits is None
        for _ in range(30):
            response = await api.client.get(UNKNOWN, headers=api.auth())
            assert response.status_code == 404
        assert "ratelimit" not in response.headers
        assert "ratelimit-policy" not in response.headers


async def test_an_account_over_its_quota_gets_429_and_another_account_does_not(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(sqlite_url, tmp_path, per_account="3/minute") as api:
        answers = [await api.client.get(UNKNOWN, headers=api.auth("user1")) for _ in range(4)]
        assert [a.status_code for a in answers] == [404, 404, 404, 429]
        for answer in answers:  # errors and successes alike carry both fields
            assert answer.headers["ratelimit-policy"] == '"per_account";q=3;w=60'
        assert [remaining(a)["per_account"][0] for a in answers] == [2, 1, 0, 0]
        assert 1 <= remaining(answers[3])["per_account"][1] <= 60

        refused = answers[3]
        assert refused.headers["content-type"] == "application/json"
        body = refused.json()
        assert body["type"] == "rate_limited"
        assert body["title"] == "Rate limited"
        assert body["detail"].startswith("Over the per_account quota of 3 requests in 60 s")
        retry_after = int(refused.headers["retry-after"])
        assert retry_after == remaining(refused)["per_account"][1]
        assert 1 <= retry_after <= 60

        other = await api.client.get(UNKNOWN, headers=api.auth("user2"))
        assert other.status_code == 404
        assert remaining(other) == {"per_account": (2, remaining(other)["per_account"][1])}
        assert counter(api, "rate_limited_requests_total", policy="per_account") == 1


async def test_the_accounts_of_one_audience_share_its_quota(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(sqlite_url, tmp_path, per_audience="4/minute") as api:
        for label in ("user1", "user1", "user2", "user3"):
            response = await api.client.get(UNKNOWN, headers=api.auth(label))
            assert response.status_code == 404
        assert remaining(response)["per_audience"][0] == 0
        refused = await api.client.get(UNKNOWN, headers=api.auth("user4"))
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("Over the per_audience quota of 4 requests")
        other_audience = await api.client.get(UNKNOWN, headers=api.auth("user4", MEDIA))
        assert other_audience.status_code == 404
        assert remaining(other_audience)["per_audience"][0] == 3
        assert counter(api, "rate_limited_requests_total", policy="per_audience") == 1


async def test_an_account_refused_does_not_use_up_its_audience_quota(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(
        sqlite_url, tmp_path, per_account="2/minute", per_audience="5/minute"
    ) as api:
        statuses = [
            (await api.client.get(UNKNOWN, headers=api.auth("noisy"))).status_code for _ in range(6)
        ]
        assert statuses == [404, 404, 429, 429, 429, 429]
        quiet = await api.client.get(UNKNOWN, headers=api.auth("quiet"))
        assert quiet.headers["ratelimit-policy"] == (
            '"per_account";q=2;w=60, "per_audience";q=5;w=60'
        )
        assert {name: r for name, (r, _) in remaining(quiet).items()} == {
            "per_account": 1,
            "per_audience": 2,  # the noisy account's two served requests, and this one
        }


async def test_creates_and_recreates_count_against_the_create_quota(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(
        sqlite_url, tmp_path, per_account="100/minute", create_per_account="2/minute"
    ) as api:
        created = await api.create()
        recreate = await api.client.post(
            f"/api/v1/minigroups/{created['id']}/recreate", json={}, headers=api.auth(ADMIN)
        )
        assert recreate.status_code == 200, recreate.text
        assert recreate.headers["ratelimit-policy"] == (
            '"per_account";q=100;w=60, "create_per_account";q=2;w=60'
        )
        assert remaining(recreate)["create_per_account"][0] == 0
        refused = await api.client.post(
            "/api/v1/minigroups",
            json={"audience": AUDIENCE, "scope": "one-too-many"},
            headers=api.auth(ADMIN),
        )
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("Over the create_per_account quota of 2")
        # Reads count against the request quotas only.
        read = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth(ADMIN))
        assert read.status_code == 200
        assert read.headers["ratelimit-policy"] == '"per_account";q=100;w=60'
        assert remaining(read)["per_account"][0] == 100 - 4
        assert counter(api, "rate_limited_requests_total", policy="create_per_account") == 1


async def test_several_windows_are_named_after_their_length(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(sqlite_url, tmp_path, per_account="2000/minute;50/second") as api:
        response = await api.client.get(UNKNOWN, headers=api.auth())
        assert response.headers["ratelimit-policy"] == (
            '"per_account_1s";q=50;w=1, "per_account_60s";q=2000;w=60'
        )
        assert {name: r for name, (r, _) in remaining(response).items()} == {
            "per_account_1s": 49,
            "per_account_60s": 1999,
        }


async def test_probes_docs_and_metrics_are_never_limited(sqlite_url: str, tmp_path: Path) -> None:
    async with limited(
        sqlite_url, tmp_path, per_account="1/minute", per_audience="1/minute"
    ) as api:
        await api.client.get(UNKNOWN, headers=api.auth())  # the caller's quota is used up
        assert (await api.client.get(UNKNOWN, headers=api.auth())).status_code == 429
        for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs"):
            for _ in range(5):  # with the exhausted caller's token, and without one
                for headers in (api.auth(), {}):
                    response = await api.client.get(path, headers=headers)
                    assert response.status_code == 200, (path, response.text)
                    assert "ratelimit" not in response.headers
                    assert "ratelimit-policy" not in response.headers
        console = httpx.ASGITransport(app=create_console(api.container))
        async with httpx.AsyncClient(transport=console, base_url="http://console.test") as client:
            for _ in range(5):
                metrics = await client.get("/metrics", headers=api.auth())
                assert metrics.status_code == 200
                assert "ratelimit" not in metrics.headers
        scraped = generate_latest(api.container.registry).decode()
        assert 'minigroups_rate_limited_requests_total{policy="per_account"} 1.0' in scraped


async def test_an_idempotent_replay_is_counted_and_answered_with_fresh_fields(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with limited(sqlite_url, tmp_path, per_account="10/minute") as api:
        headers = {**api.auth(ADMIN), "idempotency-key": "replayed-create"}
        body = {"audience": AUDIENCE, "scope": "replayed"}
        first = await api.client.post("/api/v1/minigroups", json=body, headers=headers)
        again = await api.client.post("/api/v1/minigroups", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["idempotent-replayed"] == "true"
        assert remaining(first)["per_account"][0] == 9
        assert remaining(again)["per_account"][0] == 8
        assert again.headers.get_list("ratelimit") == [again.headers["ratelimit"]]  # one, fresh
