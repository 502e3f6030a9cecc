"""Issue 4, item 5: two service instances on one broker and one PostgreSQL share the pipeline.

Two real `minigroups serve` processes (agent labels alpha and beta, one account, so one shared
subscription group) take the lifecycle events of 20 minigroups that finish at the same time.
Every minigroup ends `transcoded` and every side effect happened exactly once (tq tasks per
minigroup and template, adjust and dump requests per room, broadcasts per minigroup). That both
did the work is seen from outside: the broker's packet log shows each event delivered to one of
them and both receiving, and each process's `/metrics` counts the events it handled and the
side effects it sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.integration.pipeline.conftest import Credentials
from tests.integration.pipeline.support import (
    EVENTS_PER_MINIGROUP,
    BrokerLog,
    Database,
    Platform,
    ServiceApi,
    eventually,
    lessons_done,
    once,
)
from tests.integration.ulms.processes import Served, serve, stop, wait_ready, write_config

MINIGROUPS = 20
PARTICIPANTS = 2
EFFECTS_PER_MINIGROUP = 7  # stop, 2 converts, adjust, transcode, dump, ready
PIPELINE = {"retry_base_seconds": 0.2, "retry_max_seconds": 1, "max_attempts": 50}


@pytest.mark.slow
async def test_two_instances_finish_every_minigroup_with_each_side_effect_once(
    platform: Platform, credentials: Credentials, postgres_url: str, tmp_path: Path
) -> None:
    served = [
        serve(
            write_config(
                tmp_path,
                label,
                platform.broker,
                credentials.secret,
                credentials.key,
                database_url=postgres_url,
                tq_base_url=platform.tq.base_url,
                peer_timeout=10,
                pipeline=PIPELINE,
            ),
            label,
        )
        for label in ("alpha", "beta")
    ]
    try:
        await asyncio.gather(*(wait_ready(s) for s in served))
        apis = [ServiceApi(s, credentials.secret) for s in served]
        async with apis[0], apis[1]:
            created = [
                await apis[n % 2].create(f"pair-{n}", tags={"n": n}) for n in range(MINIGROUPS)
            ]
            async with platform.autopiloting():
                for item in created:
                    await platform.finish(item, PARTICIPANTS)
                await lessons_done(platform, Database(postgres_url), apis[0], created, within=60)
            await eventually(Database(postgres_url).settled)
        assert platform.effects(created) == {item["id"]: once(PARTICIPANTS) for item in created}
        events = len(platform.published)
        assert events == EVENTS_PER_MINIGROUP * MINIGROUPS
        assert await Database(postgres_url).inbox() == {"done": events}

        # Each event went to one instance, and both received some.
        log = BrokerLog(platform.broker)
        received = [log.deliveries(s.agent_id) for s in served]
        assert sum(received) == events, received
        assert min(received) > 0, received
        # Both handled events and sent side effects; together, each once.
        texts = [await metrics_of(s) for s in served]
        handled = [metric_sum(t, "minigroups_inbox_events_total", outcome="handled") for t in texts]
        sent = [metric_sum(t, "minigroups_outbox_messages_total", outcome="sent") for t in texts]
        assert sum(handled) == events, handled
        assert min(handled) > 0, handled
        assert sum(sent) == EFFECTS_PER_MINIGROUP * MINIGROUPS, sent
        assert min(sent) > 0, sent
    finally:
        await asyncio.gather(*(stop(s) for s in served))


def metric_sum(text: str, name: str, **labels: str) -> float:
    """The sum of a counter's samples whose labels include `labels` (Prometheus text format)."""
    total = 0.0
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(label in line for label in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def metrics_of(served: Served) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(served.metrics, timeout=5)).text
