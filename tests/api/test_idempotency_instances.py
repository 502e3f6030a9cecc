"""`Idempotency-Key` across instances on one database: a key in use is 409 everywhere, one effect
happens; a dead request's claim is taken over after its lease; expired keys run again and are
purged in the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from minigroups.domain.idempotency import KeyScope
from minigroups.domain.ids import AccountId
from minigroups.ports import KeyClaim
from minigroups.services.idempotency import KeyedRequest, claim_key, purge_expired_keys
from tests.api.conftest import ADMIN, AUDIENCE, REMOTE, Api
from tests.api.keyed import (
    CREATE,
    ShiftedClock,
    create_body,
    instance,
    new_key,
    rooms_created,
    stored_keys,
)

LEASE = 0.3  # seconds: renewed every 0.1 s while the request runs


@pytest.fixture
def directories(tmp_path: Path) -> tuple[Path, Path]:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    return tmp_path / "a", tmp_path / "b"


@pytest.fixture
async def pair(database_url: str, directories: tuple[Path, Path]) -> AsyncIterator[tuple[Api, Api]]:
    """Two instances on one database (each with its own sandbox, authz backend and secret)."""
    async with AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(instance(database_url, directory, lease_seconds=LEASE))
            for directory in directories
        ]
        yield a, b


async def _until_asked(api: Api) -> None:
    """Wait until the instance's request is held at its (gated) authorization backend."""
    for _ in range(200):
        if api.authz_backend.requests:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the request never reached the authorization backend")


async def test_a_key_in_use_on_one_instance_is_409_on_the_other(pair: tuple[Api, Api]) -> None:
    a, b = pair
    key, body = new_key(), create_body(REMOTE)
    a.authz_backend.gate = asyncio.Event()  # a slow backend holds the first request
    first = asyncio.create_task(
        a.client.post(CREATE, json=body, headers={**a.auth(ADMIN, REMOTE), "idempotency-key": key})
    )
    await _until_asked(a)
    await asyncio.sleep(LEASE * 2)  # past the lease: the running request keeps renewing it

    in_use = await b.client.post(
        CREATE, json=body, headers={**b.auth(ADMIN, REMOTE), "idempotency-key": key}
    )
    a.authz_backend.gate.set()
    created = await first
    replay = await b.client.post(
        CREATE, json=body, headers={**b.auth(ADMIN, REMOTE), "idempotency-key": key}
    )

    assert in_use.status_code == 409
    assert in_use.headers["retry-after"] == "1"
    assert in_use.json()["type"] == "idempotency_key_in_use"
    assert created.status_code == 201
    assert replay.status_code == 201
    assert replay.content == created.content
    assert replay.headers["idempotent-replayed"] == "true"
    assert rooms_created(a, b) == 1
    assert b.authz_backend.requests == []  # the other instance never ran the create


async def test_a_request_cancelled_while_running_releases_its_key(pair: tuple[Api, Api]) -> None:
    a, b = pair
    key, body = new_key(), create_body(REMOTE)
    a.authz_backend.gate = asyncio.Event()
    first = asyncio.create_task(
        a.client.post(CREATE, json=body, headers={**a.auth(ADMIN, REMOTE), "idempotency-key": key})
    )
    await _until_asked(a)
    first.cancel()  # the request's task ends (a shutdown, a cancelled client call)
    with pytest.raises(asyncio.CancelledError):
        await first

    retried = await b.client.post(
        CREATE, json=body, headers={**b.auth(ADMIN, REMOTE), "idempotency-key": key}
    )
    a.authz_backend.gate.set()

    assert retried.status_code == 201  # at once, not 409 until the lease runs out
    assert "idempotent-replayed" not in retried.headers
    assert rooms_created(a, b) == 1


async def test_concurrent_requests_on_two_instances_make_one_room(pair: tuple[Api, Api]) -> None:
    a, b = pair
    key, body = new_key(), create_body(AUDIENCE)

    def send(api: Api) -> asyncio.Task[httpx.Response]:
        headers = {**api.auth(ADMIN), "idempotency-key": key}
        return asyncio.create_task(api.client.post(CREATE, json=body, headers=headers))

    responses = await asyncio.gather(*(send(api) for api in (a, b, a, b, a, b)))

    ran = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    others = [r for r in responses if r not in ran]
    assert len(ran) == 1
    assert all(r.status_code in (201, 409) for r in others)
    assert all(r.content == ran[0].content for r in others if r.status_code == 201)
    assert all(r.headers["retry-after"] == "1" for r in others if r.status_code == 409)
    assert rooms_created(a, b) == 1


async def test_a_dead_requests_claim_is_taken_over_after_its_lease(pair: tuple[Api, Api]) -> None:
    a, b = pair
    key, body = new_key(), create_body(AUDIENCE)
    raw = httpx.Request("POST", "http://x", json=body).content  # the bytes httpx will send
    scope = KeyScope(AccountId(ADMIN, AUDIENCE), "POST", CREATE, {})
    # A request claimed the key on instance A and died with its process: nothing renews it.
    claim = await claim_key(a.container.ctx, KeyedRequest(scope, key, raw))
    assert isinstance(claim, KeyClaim)
    headers = {**b.auth(ADMIN), "idempotency-key": key}

    held = await b.client.post(CREATE, json=body, headers=headers)
    await asyncio.sleep(LEASE + 0.2)
    taken_over = await b.client.post(CREATE, json=body, headers=headers)

    assert held.status_code == 409
    assert taken_over.status_code == 201
    assert "idempotent-replayed" not in taken_over.headers
    assert rooms_created(a, b) == 1


async def test_an_expired_key_runs_again_and_is_purged(database_url: str, tmp_path: Path) -> None:
    clock = ShiftedClock()
    async with instance(database_url, tmp_path, clock=clock, ttl_seconds=3600) as api:
        key, body = new_key(), create_body(AUDIENCE)
        headers = {**api.auth(ADMIN), "idempotency-key": key}
        first = await api.client.post(CREATE, json=body, headers=headers)
        assert first.status_code == 201

        clock.offset = timedelta(hours=1, seconds=1)
        expired = await api.client.post(CREATE, json=body, headers=headers)
        assert expired.status_code == 422  # it ran again: the scope is taken now
        assert expired.json()["type"] == "class_already_established"

        clock.offset = timedelta(hours=2, seconds=2)
        assert api.container.key_expiry is not None
        assert await api.container.key_expiry.purge_once() == 1
        assert await stored_keys(api) == 0
        body = create_body(AUDIENCE)  # a key's answer is gone for good: a new body is welcome
        again = await api.client.post(CREATE, json=body, headers=headers)
        assert again.status_code == 201
        assert "idempotent-replayed" not in again.headers


async def test_expired_keys_are_purged_in_batches_in_the_background(
    database_url: str, tmp_path: Path
) -> None:
    clock = ShiftedClock()
    settings = {"ttl_seconds": 60, "purge_interval_seconds": 0.05, "purge_batch_size": 2}
    async with instance(database_url, tmp_path, clock=clock, **settings) as api:
        for _ in range(5):
            created = await api.client.post(
                CREATE,
                json=create_body(AUDIENCE),
                headers={**api.auth(ADMIN), "idempotency-key": new_key()},
            )
            assert created.status_code == 201
        assert await stored_keys(api) == 5
        clock.offset = timedelta(minutes=2)
        ctx = api.container.ctx
        assert await purge_expired_keys(ctx, clock.now(), 2) == 2  # one batch per transaction
        assert await stored_keys(api) == 3
        await api.container.start()  # the lifespan start-up runs the purge loop
        for _ in range(100):
            if await stored_keys(api) == 0:
                break
            await asyncio.sleep(0.05)
        assert await stored_keys(api) == 0
