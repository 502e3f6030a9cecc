"""`/readyz` with upstream = "ulms": the broker connection is a dependency of readiness."""

from __future__ import annotations

import asyncio
import time

from tests.integration.ulms.service import UlmsApi


async def _readiness_within(service: UlmsApi, wanted: int, within: float = 10.0) -> dict[str, str]:
    deadline = time.monotonic() + within
    while True:
        response = await service.api.client.get("/readyz")
        if response.status_code == wanted or time.monotonic() > deadline:
            assert response.status_code == wanted, response.text
            body: dict[str, str] = response.json()
            return body
        await asyncio.sleep(0.05)


async def test_a_stopped_broker_makes_the_instance_unready_until_it_reconnects(
    service: UlmsApi,
) -> None:
    ready = await _readiness_within(service, 200)
    assert ready == {"status": "ready", "database": "up", "broker": "up"}

    service.broker.stop()
    unready = await _readiness_within(service, 503)
    assert unready == {"status": "unready", "database": "up", "broker": "down"}  # no host

    service.broker.start()
    ready = await _readiness_within(service, 200)
    assert ready == {"status": "ready", "database": "up", "broker": "up"}
