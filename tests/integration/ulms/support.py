"""Helpers of the ULMS integration tests: agents on a test broker, waiting for conditions."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

from minigroups.adapters.ulms import AgentOptions, MqttAgent
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import CountingMetrics

ACCOUNT = "dispatcher.svc.example.org"


def agent_id(label: str | None = None) -> str:
    return f"{label or 'test-' + secrets.token_hex(3)}.{ACCOUNT}"


def new_agent(broker: Mosquitto, *, label: str | None = None, **options: Any) -> MqttAgent:
    """An agent (not started) with quick reconnects; options override AgentOptions fields."""
    options.setdefault("reconnect_interval", 0.1)
    options.setdefault("max_reconnect_interval", 0.5)
    options.setdefault("connect_timeout", 2.0)
    return MqttAgent(
        AgentOptions(host=broker.host, port=broker.port, agent_id=agent_id(label), **options),
        CountingMetrics(),
    )


def metrics_of(agent: MqttAgent) -> CountingMetrics:
    metrics = agent._metrics
    assert isinstance(metrics, CountingMetrics)
    return metrics


async def wait_until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll until `condition()` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)
