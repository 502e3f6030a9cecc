"""Webhook tests: an API whose endpoints may be on loopback over http, DNS the test controls,
and helpers to subscribe, run the sender and read the delivery log."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from minigroups.domain.webhook_targets import IpAddress
from minigroups.ports import Clock
from tests.api.conftest import ADMIN, AUDIENCE, Api, running_api

# Loopback receivers over http, and retries 0.1 s apart, three attempts in all.
LOOPBACK = {
    "allow_http": True,
    "allow_private_targets": True,
    "retry_schedule_seconds": [0.0, 0.1, 0.1],
    "timeout_seconds": 2.0,
}
FAST_POLL = {"poll_seconds": 0.02}


class FakeResolver:
    """DNS as the test says: `answers[host]` are the addresses; an unknown name fails."""

    def __init__(self, **answers: list[str]) -> None:
        self.answers: dict[str, list[str]] = {k.replace("_", "."): v for k, v in answers.items()}
        self.asked: list[str] = []

    def set(self, host: str, *addresses: str) -> None:
        self.answers[host] = list(addresses)

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return [ipaddress.ip_address(address) for address in self.answers[host]]


@asynccontextmanager
async def webhook_api(
    database_url: str,
    tmp_path: Path,
    *,
    resolver: FakeResolver | None = None,
    clock: Clock | None = None,
    **webhooks: Any,
) -> AsyncIterator[Api]:
    sections = {"webhooks": {**LOOPBACK, **webhooks}, "pipeline": FAST_POLL}
    async with running_api(
        database_url, tmp_path, sections=sections, resolver=resolver, clock=clock
    ) as api:
        yield api


def admin(api: Api, audience: str = AUDIENCE) -> dict[str, str]:
    return api.auth(ADMIN, audience)


async def subscribe(
    api: Api, url: str, events: list[str] | None = None, audience: str = AUDIENCE, **body: Any
) -> dict[str, Any]:
    response = await api.client.post(
        f"/api/v1/audiences/{audience}/webhooks",
        json={"url": url, "events": events or ["*"], **body},
        headers=admin(api, audience),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def webhook(api: Api, webhook_id: str, audience: str = AUDIENCE) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/v1/audiences/{audience}/webhooks/{webhook_id}", headers=admin(api, audience)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def deliveries(
    api: Api, webhook_id: str, audience: str = AUDIENCE, **query: str
) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/v1/audiences/{audience}/webhooks/{webhook_id}/deliveries",
        params=query,
        headers=admin(api, audience),
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def send(api: Api) -> None:
    """What is due now, sent (one pass of the webhook sender, until nothing more is due)."""
    await api.container.runtime.webhooks.drain()


async def send_until(api: Api, done: Callable[[], object], within: float = 10.0) -> None:
    """Run the sender (retries come due on their schedule) until `done()` holds."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {within} s")
        await send(api)
        await asyncio.sleep(0.02)
