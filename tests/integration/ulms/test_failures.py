"""Peer failures and broker outages as the HTTP API reports them (issue 3, items 3 and 4; D6, D14).

A silent peer → 504 within the configured timeout, an error answer → 502, the broker down → 503 at
once; the half-created minigroup row is gone and a room created before the failure is closed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import AUDIENCE
from tests.integration.ulms.service import PEER_TIMEOUT, UlmsApi, ulms_api
from tests.integration.ulms.support import wait_until
from tests.support.mosquitto import Mosquitto


@pytest.fixture
async def service(sqlite_url: str, tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[UlmsApi]:
    """The conftest's service with PEER_TIMEOUT (0.5 s): these tests are about timeouts."""
    async with ulms_api(sqlite_url, tmp_path, mosquitto, peer_timeout=PEER_TIMEOUT) as started:
        yield started


SLACK = 0.5  # what a failed create may take beyond the peer timeout (DB, compensation)


def class_rows(service: UlmsApi, scope: str) -> int:
    """Rows of this scope, established or not (a dummy is invisible to the API)."""
    path = service.container.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM class WHERE scope = ?", (scope,)
        ).fetchone()
    return int(count)


async def create(service: UlmsApi, scope: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = await service.api.client.post(
        "/api/v1/minigroups",
        json={"audience": AUDIENCE, "scope": scope},
        headers=service.api.auth("admin"),
    )
    return response.status_code, response.json(), time.monotonic() - started


async def test_a_silent_conference_turns_create_into_504_and_closes_the_event_room(
    service: UlmsApi,
) -> None:
    service.api.faults.silence("conference", "room.create")
    status, body, elapsed = await create(service, "silent")
    assert (status, body["type"], body["detail"]) == (
        504,
        "mqtt_request_failed",
        "Request to conference",
    )
    assert PEER_TIMEOUT <= elapsed < PEER_TIMEOUT + SLACK
    assert class_rows(service, "silent") == 0
    [created] = service.requests("event", "room.create")
    [closed] = service.requests("event", "room.update")  # D14: closed again, over the broker
    room = service.api.sandbox.event.room(UUID(closed.payload["id"]))
    assert room["classroom_id"] == created.payload["classroom_id"]
    assert room["time"][1] is not None
    assert room["time"][1] <= int(time.time()) + 1
    service.api.faults.reset_failures()
    assert (await create(service, "silent"))[0] == 201  # the scope is free again


async def test_a_silent_event_service_turns_create_into_504(service: UlmsApi) -> None:
    service.api.faults.silence("event", "room.create")
    status, body, elapsed = await create(service, "silent-event")
    assert (status, body["detail"]) == (504, "Request to event")
    assert elapsed < PEER_TIMEOUT + SLACK
    assert service.requests("conference") == []
    assert class_rows(service, "silent-event") == 0


async def test_a_slow_answer_past_the_timeout_is_504_and_the_late_answer_is_counted(
    service: UlmsApi,
) -> None:
    service.peers.slow("event", "room.create", PEER_TIMEOUT + 0.2)
    status, _, _ = await create(service, "slow")
    assert status == 504
    await wait_until(lambda: _dropped(service, "late") == 1)


@pytest.mark.parametrize("peer", ["event", "conference"])
async def test_an_error_answer_turns_create_into_502_with_the_peers_detail(
    service: UlmsApi, peer: str
) -> None:
    service.api.faults.fail(
        peer, "room.create", status=422, problem={"type": "x", "title": "Nope", "detail": "no"}
    )
    status, body, _ = await create(service, f"rejected-{peer}")
    assert (status, body["type"]) == (502, "mqtt_request_failed")
    assert class_rows(service, f"rejected-{peer}") == 0
    if peer == "conference":
        assert len(service.requests("event", "room.update")) == 1  # D14


async def test_a_stopped_broker_gives_503_at_once_and_the_service_recovers_by_itself(
    service: UlmsApi,
) -> None:
    agent = service.container.agent
    assert agent is not None
    assert (await create(service, "before"))[0] == 201
    service.broker.stop()
    await wait_until(lambda: not agent.connected)
    status, body, elapsed = await create(service, "during")
    assert (status, body["type"]) == (503, "mqtt_request_failed")
    assert elapsed < PEER_TIMEOUT  # fail fast: no wait for a reconnect
    assert class_rows(service, "during") == 0
    service.broker.start()
    await wait_until(lambda: agent.connected and service.peers.connected)
    status, body, _ = await create(service, "after")  # re-subscribed: the answers arrive
    assert status == 201, body
    assert _metric(service, "minigroups_mqtt_connection_events_total", event="lost") == 1.0


async def test_a_broker_down_at_start_does_not_stop_the_api(service: UlmsApi) -> None:
    """The API starts while the broker is down; creates get 503 until it is back."""
    agent = service.container.agent
    assert agent is not None
    await agent.close()
    service.broker.stop()
    await agent.start()  # as at process start-up, with the broker down
    assert not agent.connected
    ready = await service.api.client.get("/healthz")
    assert ready.status_code == 200
    assert (await create(service, "early"))[0] == 503
    service.broker.start()
    await wait_until(lambda: agent.connected and service.peers.connected)
    assert (await create(service, "early"))[0] == 201


def _metric(service: UlmsApi, name: str, **labels: str) -> float:
    value = service.container.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def _dropped(service: UlmsApi, reason: str) -> float:
    return _metric(service, "minigroups_mqtt_responses_dropped_total", reason=reason)
