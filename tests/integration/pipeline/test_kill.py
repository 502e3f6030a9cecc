"""Issue 4, item 4: `kill -9` of the service between receiving lifecycle events and handling them.

A burst of lifecycle events for 18 minigroups is in every state of its journey when the process
dies: recorded and acknowledged but not handled (the inbox), delivered but not acknowledged (the
broker's in-flight window), not yet delivered (queued in the persistent session). The windows
are made real, not hoped for:

* the event service answers `event.list` slowly, so the handlers of the conversion results are
  still running (their inbox rows claimed, not done) when the process dies;
* the test locks the inbox table against writes, like a stalled database, while the conference
  publishes closes and uploads: the service receives what the broker's in-flight window allows
  and can record none of it, so none is acknowledged; the rest waits at the broker.

Mosquitto's packet log and the database confirm each state at the moment of the kill. The same
config is then started again (same agent label, so the same client id and persistent session):
every event is handled, every minigroup reaches `transcoded` and every side effect happened once.

What this does not test: a kill between a peer's acknowledgement of a side effect and the outbox
row being marked sent. The relay delivers at least once, so that one effect would be sent again;
here the outbox is drained before the burst and nothing new can commit under the lock, so no
send is in flight when the process dies.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.pipeline.conftest import Credentials
from tests.integration.pipeline.support import (
    EVENTS_PER_MINIGROUP,
    BrokerLog,
    Database,
    Platform,
    ServiceApi,
    eventually,
    inbox_states,
    lessons_done,
    once,
)
from tests.integration.ulms.processes import kill, serve, stop, wait_ready, write_config

CONVERTING = 6  # minigroups whose conversions complete in the burst (12 task.complete)
CLOSING = 12  # minigroups closed and uploaded in the burst (24 events: more than in flight)
PARTICIPANTS = 2
SLOW_LIST = 3.0  # seconds the event service takes to answer event.list during the burst
PIPELINE = {
    "lease_seconds": 4,  # the restarted process takes its claims back at once anyway
    "retry_base_seconds": 0.2,
    "retry_max_seconds": 1,
    "max_attempts": 50,
}


@pytest.mark.slow
async def test_kill_9_mid_burst_loses_no_event_and_repeats_no_side_effect(
    platform: Platform, credentials: Credentials, postgres_url: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        "alpha",
        platform.broker,
        credentials.secret,
        credentials.key,
        database_url=postgres_url,
        tq_base_url=platform.tq.base_url,
        peer_timeout=10,
        pipeline=PIPELINE,
    )
    database, log = Database(postgres_url), BrokerLog(platform.broker)
    served = serve(config, "alpha")
    agent = served.agent_id
    try:
        await wait_ready(served)
        async with ServiceApi(served, credentials.secret) as api:
            created = [await api.create(f"kill-{n}") for n in range(CONVERTING + CLOSING)]
        converting, closed = created[:CONVERTING], created[CONVERTING:]
        await _convert(platform, database, converting)

        # The burst, part 1: conversion results; their last handlers wait on event.list.
        platform.peers.slow("event", "event.list", SLOW_LIST)
        await platform.autopilot.step()
        await eventually(lambda: platform.peers.requests_to("event", "event.list"))
        async with database.inbox_locked() as locked:
            # Part 2: closes and uploads that the service receives but cannot record.
            for item in closed:
                await platform.finish(item, PARTICIPANTS)
            await platform.autopilot.step()
            await eventually(lambda: _delivery_stopped(log, agent))
            await kill(served)
            inbox = await inbox_states(locked)  # as the process left it
            delivered, acknowledged = log.deliveries(agent), log.acknowledgements(agent)
        published = len(platform.published)
        assert inbox["claimed"] >= 1, inbox  # recorded, acknowledged, in handling
        assert inbox.total() < published
        unacknowledged = delivered - acknowledged
        assert unacknowledged >= 1, "nothing was delivered and left unacknowledged"
        assert published - delivered >= 1, "nothing was left waiting at the broker"

        # The same config again: same client id and persistent session; the same instance, so
        # it takes back at start what the killed process had claimed.
        platform.peers.slow("event", "event.list", 0)
        served = serve(config, "alpha")
        await wait_ready(served)
        async with ServiceApi(served, credentials.secret) as api, platform.autopiloting():
            # Every event recorded (a duplicate would then show as more rows than events).
            await lessons_done(platform, database, api, created, within=40)
        await eventually(database.settled)
        assert log.deliveries(agent, dup=True) >= unacknowledged  # the broker sent them again
        assert platform.effects(created) == {item["id"]: once(PARTICIPANTS) for item in created}
        assert len(platform.published) == EVENTS_PER_MINIGROUP * len(created)
        assert await database.inbox() == {"done": len(platform.published)}  # each event once
    finally:
        await stop(served)


async def _convert(
    platform: Platform, database: Database, minigroups: list[dict[str, str]]
) -> None:
    """Before the burst: closed, uploaded, a conversion asked for each recording; all sent."""
    for item in minigroups:
        await platform.finish(item, PARTICIPANTS)
    await platform.autopilot.step()  # the uploads
    await eventually(lambda: len(platform.sandbox.tq.tasks) == PARTICIPANTS * len(minigroups))
    await eventually(lambda: len(platform.notified("minigroup.stop")) == len(minigroups))
    await eventually(database.settled)


async def _delivery_stopped(log: BrokerLog, agent: str) -> bool:
    """The broker delivered what its in-flight window allows and waits for acknowledgements."""
    before = log.deliveries(agent)
    await asyncio.sleep(0.3)
    return log.deliveries(agent) == before and before > log.acknowledgements(agent)
