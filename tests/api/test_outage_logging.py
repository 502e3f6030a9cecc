"""A database outage in the pipeline loops' log: bounded lines, no tracebacks, one recovery.

Before, each poll during an outage logged a traceback (about 650 KB a minute at the default
poll); now the loops back off (capped, jittered) and log one line per backoff step.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from minigroups.adapters.peers.lifecycle import LifecycleWire
from minigroups.bootstrap import build_container
from minigroups.consumer.loops import InboxWorker, LoopOptions, OutboxRelay, QueueLoop
from minigroups.ports import InboxItem, OutboxItem
from minigroups.services.context import Context
from tests.api.conftest import build_settings
from tests.support.outage import FlakyStore

LOOPS_LOGGER = "minigroups.consumer.loops"
POLL = 0.01
OUTAGE = 1.0


def _loop(kind: str, ctx: Context) -> QueueLoop[InboxItem] | QueueLoop[OutboxItem]:
    options = LoopOptions(poll=POLL)
    if kind == "inbox":
        return InboxWorker(ctx, options, LifecycleWire())
    return OutboxRelay(ctx, options)


async def _until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("kind", ["inbox", "outbox"])
async def test_a_database_outage_logs_one_line_per_backoff_step_and_one_recovery(
    kind: str, sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="minigroups")
    container = build_container(build_settings(sqlite_url, tmp_path, "http://127.0.0.1:9/authz"))
    store = FlakyStore(container.ctx.store, down_for=OUTAGE)
    loop = _loop(kind, dataclasses.replace(container.ctx, store=store))
    task = asyncio.create_task(loop.run())
    try:
        await _until(lambda: store.served_after_outage >= 2)  # a claim done after the outage
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await container.close()

    records = [r for r in caplog.records if r.name == LOOPS_LOGGER]
    failures = [r for r in records if f"{kind}: claiming failed" in r.getMessage()]
    recoveries = [r for r in records if "recovered after" in r.getMessage()]
    assert [r for r in records if r.exc_info] == []  # no traceback
    assert len(failures) == store.refused  # one line per backoff step
    # 10 ms doubling (jittered 0.8-1.0) over a 1 s outage: about 7 steps, where a line per poll
    # would be about 100.
    assert 4 <= store.refused <= 9
    assert len(recoveries) == 1
    assert f"{kind}: claiming recovered after {store.refused} failed attempts" in (
        recoveries[0].getMessage()
    )
    assert "DatabaseUnavailable: database unavailable" in failures[0].getMessage()


async def test_new_work_ends_the_backoff_at_once(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Storing an event wakes the worker: proof that the database answers again."""
    caplog.set_level(logging.WARNING, logger="minigroups")
    container = build_container(build_settings(sqlite_url, tmp_path, "http://127.0.0.1:9/authz"))
    store = FlakyStore(container.ctx.store, down_for=0.3)
    worker = InboxWorker(
        dataclasses.replace(container.ctx, store=store), LoopOptions(poll=5.0), LifecycleWire()
    )
    task = asyncio.create_task(worker.run())
    try:
        await _until(lambda: store.refused >= 1)
        await _until(lambda: not store.down)  # backing off for about 5 s now
        worker.wake()
        # Well before the backoff's 4-5 s would end: the wake-up, not the timer, ended it.
        await _until(lambda: store.served_after_outage >= 1, within=3.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await container.close()
