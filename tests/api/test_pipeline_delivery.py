"""D18: redeliveries, replays, poison events, dead letters, restarts and two instances."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest

from minigroups.bootstrap import build_container
from minigroups.services import inbox_admin
from tests.api.conftest import Api
from tests.api.pipeline import (
    Pipeline,
    deliver_all,
    host,
    lifecycle,
    modified_room,
    results,
)


def _effects(api: Api, *pipelines: Pipeline) -> Counter[str]:
    """Every side effect that left the service, by kind."""
    effects: Counter[str] = Counter()
    for task in api.sandbox.tq.tasks:
        effects[task.body["template"]] += 1
    for method in ("room.adjust", "room.dump_events"):
        effects[method] = len(api.faults.calls_to("event", method))
    for pipeline in pipelines:
        effects.update(notification.label for notification in pipeline.published)
    return effects


async def _run_lifecycle(pipeline: Pipeline, *, times: int = 1) -> tuple[dict[str, Any], UUID]:
    api = pipeline.api
    minigroup = await api.create(scope=f"mg-{uuid4().hex[:8]}")
    host(api, minigroup["event_room_id"], "web.user1.usr.example.org")
    deliveries = lifecycle(minigroup, [uuid4(), uuid4()])
    for stage in (deliveries[:2], deliveries[2:]):
        await deliver_all(pipeline, stage, times=times)
        await pipeline.settle()
    modified = modified_room(api, minigroup, [])
    for delivery in results(minigroup, uuid4(), modified):
        await deliver_all(pipeline, [delivery], times=times)
        await pipeline.settle()
    return minigroup, modified


async def _status(api: Api, minigroup: dict[str, Any]) -> str:
    response = await api.client.get(f"/api/v1/minigroups/{minigroup['id']}", headers=api.auth())
    status: str = response.json()["status"]
    return status


ONCE = {
    "convert-mjr-dumps-to-stream": 2,
    "transcode-minigroup-to-hls": 1,
    "room.adjust": 1,
    "room.dump_events": 1,
    "minigroup.stop": 1,
    "minigroup.ready": 1,
}


async def test_every_event_twice_and_every_replay_give_each_effect_once(api: Api) -> None:
    pipeline = Pipeline(api)
    minigroup, modified = await _run_lifecycle(pipeline, times=2)
    assert await _status(api, minigroup) == "transcoded"
    assert _effects(api, pipeline) == ONCE
    # An operator replays every handled event, in one go (they run concurrently).
    for item in await inbox_admin.list_events(api.container.ctx.store, status="done"):
        outcome = await inbox_admin.replay(api.container.ctx.store, item.id, force=True)
        assert outcome is inbox_admin.Replay.REPLAYED_HANDLED
    await pipeline.settle()
    # The peers publish the whole sequence again (new publications of the same payloads).
    await deliver_all(pipeline, lifecycle(minigroup, [])[:1])
    rtcs = [r.rtc_id for r in await pipeline.recordings(minigroup["id"])]
    await deliver_all(pipeline, lifecycle(minigroup, rtcs)[1:2])
    await pipeline.settle()
    assert await _status(api, minigroup) == "transcoded"
    assert _effects(api, pipeline)["minigroup.stop"] == 1
    assert _effects(api, pipeline)["room.adjust"] == 1
    assert all(r.transcoded_at is not None for r in await pipeline.recordings(minigroup["id"]))
    assert modified is not None


async def test_a_poison_event_is_a_dead_letter_and_blocks_nothing(api: Api) -> None:
    pipeline = Pipeline(api)
    assert await pipeline.deliver("room.upload", "{not json")
    minigroup, _ = await _run_lifecycle(pipeline)
    for _ in range(5):  # the retries of the poison event are due at once here
        await pipeline.settle()
    assert await _status(api, minigroup) == "transcoded"
    (dead,) = await inbox_admin.list_events(api.container.ctx.store, status="dead")
    assert (dead.label, dead.attempts) == ("room.upload", pipeline.options.max_attempts)
    assert dead.last_error is not None
    assert dead.last_error.startswith("MalformedEvent")


async def test_a_dead_letter_is_handled_once_replayed_after_the_fix(api: Api) -> None:
    """The event service is down while conversions finish: the last one ends as a dead letter;
    once the service is back (the fix), the operator's replay asks for the adjust."""
    pipeline = Pipeline(api)
    minigroup = await api.create()
    host(api, minigroup["event_room_id"], "web.user1.usr.example.org")
    deliveries = lifecycle(minigroup, [uuid4()])
    await deliver_all(pipeline, deliveries[:2])
    await pipeline.settle()
    api.faults.outage("event")
    await deliver_all(pipeline, deliveries[2:])
    for _ in range(5):
        await pipeline.settle()
    (dead,) = await inbox_admin.list_events(api.container.ctx.store, status="dead")
    assert "UpstreamFailed" in (dead.last_error or "")
    assert api.faults.calls_to("event", "room.adjust") == []
    api.faults.restore("event")
    assert await inbox_admin.replay(api.container.ctx.store, dead.id) is inbox_admin.Replay.REPLAYED
    await pipeline.settle()
    assert len(api.faults.calls_to("event", "room.adjust")) == 1
    assert await inbox_admin.list_events(api.container.ctx.store, status="dead") == []


async def test_recorded_events_survive_a_restart(api: Api) -> None:
    """Events acknowledged to the broker are in the database: a new process handles them."""
    minigroup = await api.create()
    host(api, minigroup["event_room_id"], "web.user1.usr.example.org")
    await deliver_all(Pipeline(api), lifecycle(minigroup, [uuid4()])[:2])
    restarted = build_container(api.container.settings, sandbox=api.sandbox)
    try:
        pipeline = Pipeline(replace(api, container=restarted))
        await pipeline.settle()
    finally:
        await restarted.close()
    assert await _status(api, minigroup) == "finished"  # closed, uploaded, conversions asked
    assert [task.task_id[:27] for task in api.sandbox.tq.tasks] == ["convert-mjr-dumps-to-stream"]
    assert len(pipeline.published) == 1


@pytest.mark.timeout(120)
async def test_two_instances_share_the_work_and_each_effect_happens_once(api: Api) -> None:
    other = build_container(api.container.settings, sandbox=api.sandbox)
    first = Pipeline(api)
    second = Pipeline(replace(api, container=other))
    loops = [
        asyncio.create_task(loop.run())
        for loop in (first.worker, first.relay, second.worker, second.relay)
    ]
    try:
        minigroups, stages = [], []
        for n in range(8):
            minigroup = await api.create(scope=f"pair-{n}")
            host(api, minigroup["event_room_id"], "web.user1.usr.example.org")
            minigroups.append(minigroup)
            stages.append(lifecycle(minigroup, [uuid4(), uuid4()]))
        for n, deliveries in enumerate(stages):
            await deliver_all(first if n % 2 else second, deliveries[:2])
        await _until(lambda: len(api.sandbox.tq.tasks) >= 16)
        for n, deliveries in enumerate(stages):
            await deliver_all(second if n % 2 else first, deliveries[2:])
        await _until(lambda: len(api.faults.calls_to("event", "room.adjust")) >= 8)
        for n, minigroup in enumerate(minigroups):
            modified = modified_room(api, minigroup, [])
            await deliver_all(first if n % 2 else second, results(minigroup, uuid4(), modified))
        await _until(lambda: _effects(api, first, second)["minigroup.ready"] >= 8)
        await asyncio.sleep(0.3)  # anything duplicated would show up now
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await other.close()
    assert {await _status(api, minigroup) for minigroup in minigroups} == {"transcoded"}
    assert _effects(api, first, second) == {kind: count * 8 for kind, count in ONCE.items()}


async def _until(condition: Any, seconds: float = 60.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling what other tasks change
            await asyncio.sleep(0.02)
