"""A broker outage in the agent's log: a line per reconnect attempt, no traceback, one recovery."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.integration.ulms.support import metrics_of, new_agent, wait_until
from tests.support.mosquitto import Mosquitto

AGENT_LOGGER = "minigroups.adapters.ulms.agent"


async def test_a_broker_outage_logs_one_line_per_attempt_and_one_recovery(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="minigroups")
    agent = new_agent(mosquitto, reconnect_interval=0.05, max_reconnect_interval=0.4)
    await agent.start()
    try:
        assert agent.connected
        mosquitto.stop()
        await wait_until(lambda: not agent.connected)
        await asyncio.sleep(1.5)  # 0.05, 0.1, 0.2, 0.4, 0.4, ...: a handful of attempts
        mosquitto.start()
        await wait_until(lambda: agent.connected)
    finally:
        await agent.close()

    metrics = metrics_of(agent)
    attempts = metrics.count("mqtt_connection_events_total", event="lost") + metrics.count(
        "mqtt_connection_events_total", event="failed"
    )
    records = [r for r in caplog.records if r.name == AGENT_LOGGER and r.levelno >= logging.WARNING]
    failures = [r for r in records if "failed (" in r.getMessage()]
    recoveries = [r for r in records if "recovered after" in r.getMessage()]
    assert [r.exc_info for r in records if r.exc_info] == []  # no traceback at all
    assert len(failures) == attempts  # one line per backoff step
    assert 3 <= attempts <= 9  # capped exponential backoff, not a reconnect every 50 ms
    assert len(recoveries) == 1
    assert f"after {attempts} failed attempts" in recoveries[0].getMessage()
    assert records[-1] is recoveries[0]
