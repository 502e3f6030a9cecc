"""The backlog gauges of /metrics (issue 11), read from the database in the background: inbox
pending and dead, outbox pending, the oldest pending row's age, and minigroups by stage."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from minigroups.consumer.upkeep import PurgeOptions, Upkeep
from minigroups.ports import IncomingEvent, OutgoingMessage, Owner
from minigroups.services.upkeep import refresh_gauges
from tests.api.conftest import Api
from tests.api.pipeline import Pipeline, uploaded

OWNER = Owner("test", uuid4())


def gauge(api: Api, name: str, **labels: str) -> float | None:
    value: float | None = api.container.registry.get_sample_value(f"minigroups_{name}", labels)
    return value


async def seed_queues(api: Api) -> datetime:
    """Inbox: 2 pending (the oldest 90 s old), 1 dead, 1 handled; outbox: 1 pending (45 s old)
    and 1 sent."""
    now = datetime.now(UTC)
    store = api.container.ctx.store
    async with store.unit_of_work() as uow:
        for key, age in (("old", 90), ("new", 0), ("dead", 300), ("done", 400)):
            event = IncomingEvent(key, "topic", "room.close", "{}", now - timedelta(seconds=age))
            assert await uow.inbox.add(event)
        for key, age in (("pending", 45), ("sent", 600)):
            message = OutgoingMessage(key, "notify", {"audience": "a", "label": "l", "payload": {}})
            await uow.outbox.add(message, now - timedelta(seconds=age))
        await uow.commit()
    async with store.unit_of_work() as uow:
        claimed = await uow.inbox.claim_due(now, OWNER, now + timedelta(minutes=1), 10)
        by_key = {item.key: item for item in claimed}
        await uow.inbox.bury(by_key["dead"], "broken")
        await uow.inbox.complete(by_key["done"], now)
        for key in ("old", "new"):
            await uow.inbox.retry_later(by_key[key], "later", now)
        [sent] = [
            item
            for item in await uow.outbox.claim_due(now, OWNER, now + timedelta(minutes=1), 10)
            if item.key == "sent"
        ]
        await uow.outbox.mark_sent(sent, now)
        await uow.commit()
    return now


async def test_gauges_count_the_backlog_and_the_stages(api: Api) -> None:
    now = int(time.time())
    await api.create(time=[now + 3600, now + 7200])  # real_time
    await api.create(time=[now + 60, None])  # real_time: no end yet
    await api.create(time=[now - 7200, now - 3600])  # closed: ended, nothing recorded
    finished = await api.create(time=[now - 7200, now - 3600])
    pipeline = Pipeline(api)
    await uploaded(pipeline, finished, [uuid4()])  # finished: a recording uploaded
    await pipeline.settle()  # its conversion task sent: the outbox is empty again
    before = time.time()
    await seed_queues(api)
    await refresh_gauges(api.container.ctx)
    elapsed = time.time() - before
    assert gauge(api, "inbox_pending_events") == 2
    assert gauge(api, "inbox_dead_letters") == 1
    assert gauge(api, "outbox_pending_messages") == 1
    inbox_age = gauge(api, "inbox_oldest_pending_age_seconds")
    assert inbox_age is not None
    assert 90 <= inbox_age <= 90 + elapsed + 1
    outbox_age = gauge(api, "outbox_oldest_pending_age_seconds")
    assert outbox_age is not None
    assert 45 <= outbox_age <= 45 + elapsed + 1
    stages = {s: gauge(api, "by_stage", stage=s) for s in ("real_time", "closed", "finished")}
    assert stages == {"real_time": 2, "closed": 1, "finished": 1}
    assert gauge(api, "by_stage", stage="transcoded") == 0


async def test_an_empty_database_reports_zeros(api: Api) -> None:
    api.container.ctx.metrics.set_gauge("inbox_oldest_pending_age_seconds", 99)
    await refresh_gauges(api.container.ctx)
    for name in ("inbox_pending_events", "inbox_dead_letters", "outbox_pending_messages"):
        assert gauge(api, name) == 0
    assert gauge(api, "inbox_oldest_pending_age_seconds") == 0


async def test_the_upkeep_refreshes_the_gauges_in_the_background(api: Api) -> None:
    upkeep = Upkeep(api.container.ctx, OWNER, PurgeOptions(gauge_interval=0.05))
    task = asyncio.create_task(upkeep.run())
    try:
        await seed_queues(api)
        deadline = time.monotonic() + 10
        while gauge(api, "inbox_dead_letters") != 1:
            assert time.monotonic() < deadline, "the gauges were not refreshed"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert gauge(api, "inbox_pending_events") == 2
