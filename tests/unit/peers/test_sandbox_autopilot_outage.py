"""The sandbox autopilot through an outage of the service's intake: it backs off, logs one line
per step without traceback, and publishes what was due once the intake answers again."""

from __future__ import annotations

import asyncio
import logging
import time
from uuid import uuid4

import pytest

from minigroups.adapters.sandbox import Sandbox, TqTask
from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from minigroups.domain.errors import DatabaseUnavailable
from minigroups.domain.tasks import TRANSCODE_TEMPLATE

AUTOPILOT_LOGGER = "minigroups.adapters.sandbox.autopilot"


class Intake:
    """The service's intake, down for `down_for` seconds: each publish raises meanwhile."""

    def __init__(self, down_for: float) -> None:
        self.up_at = time.monotonic() + down_for
        self.refused = 0
        self.received: list[str] = []
        self.answered = asyncio.Event()

    async def emit(self, topic: str, properties: dict[str, str], payload: str) -> None:
        if time.monotonic() < self.up_at:
            self.refused += 1
            raise DatabaseUnavailable("database unavailable: [Errno 111] Connection refused")
        self.received.append(properties["label"])
        self.answered.set()


async def test_the_autopilot_survives_an_outage_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="minigroups")
    sandbox = Sandbox()
    intake = Intake(down_for=0.5)
    autopilot = SandboxAutopilot(sandbox, Accounts("event", "conference", "tq"), intake.emit)
    body = {"template": TRANSCODE_TEMPLATE, "bindings": {}, "tags": {}}
    sandbox.tq.tasks.append(TqTask("usr.example.org", "transcode-1", uuid4(), body, {}))
    running = asyncio.create_task(autopilot.run(pace=0.01))
    try:
        await asyncio.wait_for(intake.answered.wait(), timeout=5)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert intake.received == ["task.complete"]  # published once the intake answered
    records = [r for r in caplog.records if r.name == AUTOPILOT_LOGGER]
    assert [r for r in records if r.exc_info] == []
    failures = [r for r in records if "publishing failed" in r.getMessage()]
    assert len(failures) == intake.refused
    assert 3 <= intake.refused <= 8  # 10 ms doubling over 0.5 s, not one per 10 ms
    recoveries = [r.getMessage() for r in records if "recovered" in r.getMessage()]
    assert len(recoveries) == 1
    assert f"publishing recovered after {intake.refused} failed attempts" in recoveries[0]
