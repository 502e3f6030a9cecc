"""Issue 10: webhooks reach a real receiver on loopback, signed, retried, once per instance set."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from minigroups.api.webhooks import AnyWebhookEvent
from minigroups.bootstrap import build_container
from tests.api.conftest import AUDIENCE, MEDIA, Api
from tests.api.pipeline import Pipeline, deliver_all, host, lifecycle, modified_room, results
from tests.api.webhook_support import (
    admin,
    deliveries,
    send,
    send_until,
    subscribe,
    webhook,
    webhook_api,
)
from tests.support.webhook_receiver import WebhookReceiver

HOOKS = f"/api/v1/audiences/{AUDIENCE}/webhooks"
ORDER = [
    "minigroup.created",
    "minigroup.updated",
    "minigroup.stop",
    "minigroup.finished",
    "minigroup.adjusted",
    "minigroup.ready",
    "minigroup.recreated",
]


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> Any:
    async with webhook_api(database_url, tmp_path) as running:
        yield running


@pytest.fixture
async def receiver() -> Any:
    async with WebhookReceiver() as running:
        yield running


async def _lesson(api: Api, minigroup: dict[str, Any]) -> Pipeline:
    """Closed, uploaded, converted, adjusted, dumped, transcoded: every event delivered twice
    (a broker's redelivery), so each webhook must still be queued once."""
    pipeline = Pipeline(api)
    host(api, minigroup["event_room_id"], "web.user1.usr.example.org")
    stages = lifecycle(minigroup, [uuid4(), uuid4()])
    for stage in (stages[:2], stages[2:]):
        await deliver_all(pipeline, stage, times=2)
        await pipeline.settle()
    modified = modified_room(api, minigroup, [])
    for delivery in results(minigroup, uuid4(), modified):
        await deliver_all(pipeline, [delivery], times=2)
        await pipeline.settle()
    return pipeline


async def test_every_event_reaches_the_receiver_signed_as_the_standard_says(
    api: Api, receiver: WebhookReceiver
) -> None:
    hook = await subscribe(api, receiver.url(), ["*"])
    tags = {"course": "algebra"}
    minigroup = await api.create(tags=tags)
    url = f"/api/v1/minigroups/{minigroup['id']}"
    assert (await api.client.put(url, json={"reserve": 5}, headers=api.auth())).status_code == 200
    pipeline = await _lesson(api, minigroup)
    recreated = await api.client.post(url + "/recreate", json={}, headers=api.auth())
    assert recreated.status_code == 200
    await send(api)
    await receiver.wait_for(len(ORDER))

    # Sent concurrently: in the order of their timestamps, not necessarily of arrival.
    verified = [(request.verify(hook["secret"]), request) for request in receiver.requests]
    verified.sort(key=lambda pair: str(pair[0]["timestamp"]))
    bodies = [body for body, _ in verified]
    requests = [request for _, request in verified]
    assert [body["type"] for body in bodies] == ORDER
    assert len({request.message_id for request in requests}) == len(ORDER)
    for request, body in zip(requests, bodies, strict=True):
        event = msgspec.json.decode(request.body, type=AnyWebhookEvent)  # the documented shape
        assert event.timestamp.tzinfo is not None
        assert body["timestamp"].endswith("Z")
        assert body["data"]["id"] == minigroup["id"]
        assert (body["data"]["audience"], body["data"]["tags"]) == (AUDIENCE, tags)
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-timestamp"].isdigit()
    notified = {n.label: n.payload for n in pipeline.published}
    for label in ("minigroup.stop", "minigroup.ready"):
        (data,) = [body["data"] for body in bodies if body["type"] == label]
        assert {k: v for k, v in data.items() if k != "audience"} == notified[label]
    assert bodies[ORDER.index("minigroup.ready")]["data"]["stream_duration"] == 1500
    log = (await deliveries(api, hook["id"]))["deliveries"]
    assert {d["status"] for d in log} == {"succeeded"}
    assert {d["message_id"] for d in log} == {r.message_id for r in requests}


async def test_500_twice_then_200_is_one_delivery_with_one_id_and_three_attempts(
    api: Api, receiver: WebhookReceiver
) -> None:
    receiver.answer([500, 500])
    hook = await subscribe(api, receiver.url(), ["minigroup.created"])
    await api.create()

    await send_until(api, lambda: receiver.succeeded)

    assert [request.answered for request in receiver.requests] == [500, 500, 200]
    assert len({request.message_id for request in receiver.requests}) == 1
    for request in receiver.requests:
        assert request.verify(hook["secret"])["type"] == "minigroup.created"
    (delivery,) = (await deliveries(api, hook["id"]))["deliveries"]
    assert delivery["status"] == "succeeded"
    assert delivery["message_id"] == receiver.requests[0].message_id
    attempts = delivery["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]
    assert [a["next_attempt_at"] is not None for a in attempts] == [True, True, False]
    assert all(a["duration_ms"] >= 0 and a["error"] is None for a in attempts)
    assert attempts[0]["response"] == "ok"
    assert (await webhook(api, hook["id"]))["failing_since"] is None  # healed by the 200


async def test_after_the_schedule_it_fails_and_a_retry_makes_one_more_attempt(
    api: Api, receiver: WebhookReceiver
) -> None:
    receiver.default = 503
    hook = await subscribe(api, receiver.url(), ["minigroup.created"])
    await api.create()
    await send_until(api, lambda: len(receiver.requests) == 3)
    await asyncio.sleep(0.2)
    await send(api)
    (failed,) = (await deliveries(api, hook["id"]))["deliveries"]
    shown = await webhook(api, hook["id"])

    retried = await api.client.post(
        f"{HOOKS}/{hook['id']}/deliveries/{failed['id']}/retry", headers=admin(api)
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"
    await send_until(api, lambda: len(receiver.requests) == 4)
    await asyncio.sleep(0.2)
    await send(api)
    (after,) = (await deliveries(api, hook["id"]))["deliveries"]

    assert (failed["status"], len(failed["attempts"]), failed["last_error"]) == (
        "failed",
        3,
        "HTTP 503",
    )
    assert failed["attempts"][-1]["next_attempt_at"] is None
    assert (shown["enabled"], shown["failing_since"] is not None) == (True, True)
    assert (after["status"], len(after["attempts"])) == ("failed", 4)
    assert len(receiver.requests) == 4
    assert len({request.message_id for request in receiver.requests}) == 1


async def test_410_gone_disables_the_endpoint(database_url: str, tmp_path: Path) -> None:
    async with (
        webhook_api(database_url, tmp_path, per_endpoint_concurrency=1) as api,
        WebhookReceiver(default=410) as receiver,
    ):
        hook = await subscribe(api, receiver.url(), ["minigroup.created"])
        await api.create()
        await api.create()
        await send(api)
        shown = await webhook(api, hook["id"])
        log = (await deliveries(api, hook["id"]))["deliveries"]
        await api.create()  # a disabled endpoint is not subscribed any more
        refused = await api.client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{log[0]['id']}/retry", headers=admin(api)
        )
        receiver.default = 200
        enabled = await api.client.put(
            f"{HOOKS}/{hook['id']}",
            json={"url": receiver.url(), "events": ["minigroup.created"], "enabled": True},
            headers=admin(api),
        )
        for delivery in log:
            retried = await api.client.post(
                f"{HOOKS}/{hook['id']}/deliveries/{delivery['id']}/retry", headers=admin(api)
            )
            assert retried.status_code == 202
        await send_until(api, lambda: len(receiver.succeeded) == 2)

    assert (shown["enabled"], shown["disabled_reason"]) == (False, "the endpoint answered 410 Gone")
    assert shown["disabled_at"] is not None
    assert len(log) == 2  # the third minigroup queued nothing
    assert {d["status"] for d in log} == {"failed"}
    attempted = [d for d in log if d["attempts"]]
    assert [a["status_code"] for d in attempted for a in d["attempts"]] == [410]
    (never,) = [d for d in log if not d["attempts"]]
    assert never["last_error"].startswith("the endpoint is disabled")
    assert (refused.status_code, refused.json()["type"]) == (409, "webhook_disabled")
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)
    assert [r.answered for r in receiver.requests] == [410, 200, 200]


class SetClock:
    """The service's clock, moved on by hand."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current


async def test_an_endpoint_failing_for_five_days_is_disabled(
    database_url: str, tmp_path: Path
) -> None:
    clock = SetClock()
    schedule = [0.0, 3600.0, 86400.0 * 2, 86400.0 * 2, 86400.0 * 2, 86400.0 * 2]
    async with (
        webhook_api(database_url, tmp_path, clock=clock, retry_schedule_seconds=schedule) as api,
        WebhookReceiver(default=500) as receiver,
    ):
        hook = await subscribe(api, receiver.url(), ["minigroup.created"])
        await api.create()
        states = []
        for advance in (0, 3600, 86400 * 2, 86400 * 2, 86400 * 2):
            clock.current += timedelta(seconds=advance)
            await send(api)
            states.append((await webhook(api, hook["id"]))["enabled"])
        shown = await webhook(api, hook["id"])

    assert len(receiver.requests) == 5
    # Failing since the first attempt; the fifth, 6 d 1 h later, is past the 5 days (and the
    # schedule has one more attempt left: the days, not the attempts, disabled it).
    assert states == [True, True, True, True, False]
    assert shown["disabled_reason"].startswith("failing since")


TIMEOUT_SECONDS = 6.0


async def test_a_dead_endpoint_does_not_delay_a_healthy_one(
    database_url: str, tmp_path: Path
) -> None:
    """Four sender slots, ten events, two endpoints. The dead one (it never answers within the
    6 s timeout) holds two slots at most; without that cap its deliveries, queued first, would
    take all four and the healthy one would wait out the timeout. (A timeout well above the
    bound: a loaded CI machine may take seconds for the healthy deliveries themselves.)"""
    async with (
        webhook_api(
            database_url,
            tmp_path,
            concurrency=4,
            per_endpoint_concurrency=2,
            timeout_seconds=TIMEOUT_SECONDS,
        ) as api,
        WebhookReceiver(hang=True) as dead,
        WebhookReceiver() as healthy,
    ):
        await subscribe(api, dead.url(), ["minigroup.created"])
        await subscribe(api, healthy.url(), ["minigroup.created"])
        for _ in range(10):
            await api.create()
        started = time.monotonic()
        sender = asyncio.create_task(api.container.runtime.webhooks.run())
        try:
            await healthy.wait_for(10, within=TIMEOUT_SECONDS)
            elapsed = time.monotonic() - started
            in_flight_at_dead = len(dead.requests)
        finally:
            api.container.runtime.webhooks.stop()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
    assert elapsed < TIMEOUT_SECONDS - 2, elapsed
    assert in_flight_at_dead <= 2


async def test_two_instances_deliver_each_event_once(api: Api, receiver: WebhookReceiver) -> None:
    hook = await subscribe(api, receiver.url(), ["minigroup.created"])
    other = build_container(api.container.settings, sandbox=api.sandbox)
    senders = [api.container.runtime.webhooks, other.runtime.webhooks]
    tasks = [asyncio.create_task(sender.run()) for sender in senders]
    try:
        for _ in range(20):
            await api.create()
        await receiver.wait_for(20)
        await asyncio.sleep(0.5)  # a second send would show up now
    finally:
        for sender in senders:
            sender.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await other.close()
    ids = [request.message_id for request in receiver.requests]
    assert len(ids) == len(set(ids)) == 20
    for request in receiver.requests:
        request.verify(hook["secret"])


async def test_only_subscribed_endpoints_of_the_audience_hear_an_event(
    api: Api, receiver: WebhookReceiver
) -> None:
    updates = await subscribe(api, receiver.url("/updates"), ["minigroup.updated"])
    await subscribe(api, receiver.url("/media"), ["*"], audience=MEDIA)
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}"
    await api.client.put(url, json={"reserve": 3}, headers=api.auth())
    await send(api)
    await asyncio.sleep(0.1)
    await send(api)

    assert [request.target for request in receiver.requests] == ["/updates"]
    assert receiver.requests[0].verify(updates["secret"])["type"] == "minigroup.updated"


async def test_a_change_that_rolls_back_sends_nothing(api: Api, receiver: WebhookReceiver) -> None:
    await subscribe(api, receiver.url(), ["*"])
    api.faults.outage("conference")
    failed = await api.client.post(
        "/api/v1/minigroups",
        json={"scope": "never", "audience": AUDIENCE},
        headers=admin(api),
    )
    api.faults.restore("conference")
    await send(api)
    assert failed.status_code >= 500
    assert receiver.requests == []


async def test_redirects_are_not_followed(api: Api) -> None:
    async with WebhookReceiver() as target, WebhookReceiver(default=307) as redirecting:
        redirecting.answer_headers = {"location": target.url()}
        hook = await subscribe(api, redirecting.url(), ["minigroup.created"])
        await api.create()
        await send_until(api, lambda: len(redirecting.requests) == 3)
    assert target.requests == []
    (delivery,) = (await deliveries(api, hook["id"]))["deliveries"]
    assert [a["status_code"] for a in delivery["attempts"]] == [307, 307, 307]


async def test_the_answer_is_read_up_to_a_cap(api: Api) -> None:
    async with WebhookReceiver(answer_body=b"x" * 200_000) as receiver:
        hook = await subscribe(api, receiver.url(), ["minigroup.created"])
        await api.create()
        await send(api)
        await receiver.wait_for(1)
    (delivery,) = (await deliveries(api, hook["id"]))["deliveries"]
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["response"] == "x" * 4096
