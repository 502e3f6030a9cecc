"""Rate limits over a real `redis-server` (issue 10): instances share one budget, and a Redis that
goes down is failed open (requests served, counted, a log line per backoff step), then used again
once it is back."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.api.conftest import Api, running_api
from tests.api.test_rate_limits import counter, remaining
from tests.support.redis import RedisServer

UNKNOWN = f"/api/v1/minigroups/{uuid4()}"
LOGGER = "minigroups.services.rate_limits"


def _sections(redis: RedisServer, **quotas: str) -> dict[str, dict[str, str]]:
    return {"rate_limits": {"storage": redis.url, **quotas}}


async def _read(api: Api, label: str = "user1") -> httpx.Response:
    return await api.client.get(UNKNOWN, headers=api.auth(label))


async def test_two_instances_share_one_budget(
    sqlite_url: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    sections = _sections(redis_server, per_account="4/minute", per_audience="100/minute")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with (
        running_api(sqlite_url, tmp_path / "a", sections=sections) as one,
        running_api(sqlite_url, tmp_path / "b", sections=sections) as two,
    ):
        answers = [await _read(api) for api in (one, two, one, two)]
        assert [a.status_code for a in answers] == [404] * 4
        assert [remaining(a)["per_account"][0] for a in answers] == [3, 2, 1, 0]
        assert [remaining(a)["per_audience"][0] for a in answers] == [99, 98, 97, 96]
        for api in (one, two):
            refused = await _read(api)
            assert refused.status_code == 429
            assert refused.json()["type"] == "rate_limited"
            assert int(refused.headers["retry-after"]) >= 1
        assert (await _read(two, "user2")).status_code == 404  # another account: its own budget
        assert counter(one, "rate_limit_storage_errors_total") == 0


async def test_a_redis_outage_fails_open_with_bounded_logs_then_limits_apply_again(
    sqlite_url: str, tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="minigroups")
    async with running_api(
        sqlite_url, tmp_path, sections=_sections(redis_server, per_account="3/minute")
    ) as api:
        assert [(await _read(api)).status_code for _ in range(4)] == [404, 404, 404, 429]

        redis_server.stop()
        started = time.monotonic()
        during = []
        for _ in range(150):  # about 2 s of requests: a few backoff steps (1 s, then 2 s)
            during.append(await _read(api))
            await asyncio.sleep(0.01)
        outage_seconds = time.monotonic() - started
        assert {r.status_code for r in during} == {404}  # served, not limited, not failed
        assert all("ratelimit" not in r.headers for r in during)  # nothing was counted
        assert all(r.headers["ratelimit-policy"] == '"per_account";q=3;w=60' for r in during)
        assert counter(api, "rate_limit_unchecked_total") == 150
        errors = counter(api, "rate_limit_storage_errors_total")
        failures = [r for r in caplog.records if r.name == LOGGER and "failed" in r.getMessage()]
        # One line per backoff step (1 s, 2 s, ... jittered), one storage call per step.
        assert 1 <= len(failures) == errors <= 1 + outage_seconds
        assert "rate limits: counting failed (1 in a row" in failures[0].getMessage()
        assert "RateLimitStorageUnavailable" in failures[0].getMessage()
        assert [r for r in caplog.records if r.name == LOGGER and r.exc_info] == []

        redis_server.start()  # empty: the counts were lost with it
        deadline = time.monotonic() + 20
        response = await _read(api)
        while "ratelimit" not in response.headers:  # the next probe finds it again
            assert time.monotonic() < deadline, "Redis was not used again"
            await asyncio.sleep(0.05)
            response = await _read(api)
        assert remaining(response)["per_account"][0] == 2
        assert [(await _read(api)).status_code for _ in range(3)] == [404, 404, 429]
        lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        assert len([line for line in lines if "recovered" in line]) == 1
