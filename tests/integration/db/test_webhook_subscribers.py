"""The webhook subscribers of an audience: an audience found without endpoints is not read again
for a short while, and this process's own endpoint writes count at once (issue 12)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from sqlalchemy import update

from minigroups.adapters.db import SqlStore
from minigroups.adapters.db.tables import webhook_endpoint
from minigroups.adapters.db.webhook_endpoints import NO_SUBSCRIBERS_SECONDS, NoSubscribers
from minigroups.domain.webhooks import Endpoint
from tests.integration.db.helpers import execute, new_endpoint

NOW = datetime(2027, 2, 2, 12, tzinfo=UTC)
AUDIENCE = "usr.example.org"


def _endpoint(audience: str = AUDIENCE, *, enabled: bool = True) -> Endpoint:
    return new_endpoint(audience, enabled=enabled, at=NOW)


async def _subscribers(store: SqlStore, audience: str = AUDIENCE) -> list[Endpoint]:
    async with store.unit_of_work(read_only=True) as uow:  # (SQLite: beside a writer)
        return await uow.webhooks.subscribers(audience)


async def _add(store: SqlStore, endpoint: Endpoint) -> None:
    async with store.unit_of_work() as uow:
        await uow.webhooks.add(endpoint)
        await uow.commit()


async def test_an_endpoint_added_here_counts_at_once(store: SqlStore) -> None:
    assert await _subscribers(store) == []  # remembered as having none
    endpoint = _endpoint()
    await _add(store, endpoint)
    assert [e.id for e in await _subscribers(store)] == [endpoint.id]


async def test_an_endpoint_enabled_here_again_counts_at_once(store: SqlStore) -> None:
    endpoint = _endpoint(enabled=False)
    await _add(store, endpoint)
    assert await _subscribers(store) == []
    async with store.unit_of_work() as uow:
        await uow.webhooks.save(dataclasses.replace(endpoint, enabled=True))
        await uow.commit()
    assert [e.id for e in await _subscribers(store)] == [endpoint.id]


async def test_a_read_during_an_uncommitted_add_is_not_remembered(store: SqlStore) -> None:
    endpoint = _endpoint()
    async with store.unit_of_work() as uow:
        await uow.webhooks.add(endpoint)
        assert await _subscribers(store) == []  # another unit of work: not committed yet
        await uow.commit()
    assert [e.id for e in await _subscribers(store)] == [endpoint.id]


async def test_another_instances_endpoint_counts_after_the_ttl(
    store: SqlStore, database_url: str
) -> None:
    endpoint = _endpoint(enabled=False)
    await _add(store, endpoint)
    assert await _subscribers(store) == []
    # Enabled by another instance (a statement of its own, not this store's repository).
    enable = update(webhook_endpoint).where(webhook_endpoint.c.id == endpoint.id)
    await execute(database_url, enable.values(enabled=True))
    assert await _subscribers(store) == []  # believed for up to NO_SUBSCRIBERS_SECONDS
    await asyncio.sleep(NO_SUBSCRIBERS_SECONDS)
    assert [e.id for e in await _subscribers(store)] == [endpoint.id]


async def test_found_endpoints_are_always_read_again(store: SqlStore, database_url: str) -> None:
    endpoint = _endpoint()
    await _add(store, endpoint)
    assert await _subscribers(store) != []
    await execute(database_url, update(webhook_endpoint).values(enabled=False))  # elsewhere
    assert await _subscribers(store) == []


async def test_the_memory_runs_out() -> None:
    memory = NoSubscribers(ttl=0.05)
    memory.remember(AUDIENCE, memory.generation)
    assert memory.has_none(AUDIENCE)
    assert not memory.has_none("other.example.org")
    await asyncio.sleep(0.06)
    assert not memory.has_none(AUDIENCE)


def test_a_read_begun_before_a_forget_is_not_kept() -> None:
    memory = NoSubscribers()
    generation = memory.generation
    memory.forget({AUDIENCE})
    memory.remember(AUDIENCE, generation)
    assert not memory.has_none(AUDIENCE)
