"""`upstream = "ulms"` in the composition root: required sections, what is built (no I/O)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.tq import TqClient
from minigroups.adapters.sandbox import SandboxNotifier
from minigroups.adapters.ulms import MqttNotifier
from minigroups.bootstrap import StartupError, build_container
from minigroups.config import MqttSettings, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    secret = tmp_path / "id.secret"
    secret.write_text("a-secret-of-the-service")
    return msgspec.convert(
        {
            "id": "dispatcher.svc.example.org",
            "agent_label": "alpha",
            "turn_hosts": ["turn0"],
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "storage": {"base_url": "https://storage.example.com"},
            "event_client": {"account_id": "event.svc.example.org"},
            "conference_client": {"account_id": "conference.svc.example.org"},
            "tq_client": {"base_url": "http://tq/", "account_id": "tq.svc.example.org"},
            "upstream": "ulms",
            "mqtt": {"uri": "mqtt://127.0.0.1:1883"},
            "id_token": {"algorithm": "HS256", "key": str(secret)},
        },
        Settings,
    )


@pytest.mark.parametrize("section", ["mqtt", "id_token"])
def test_ulms_needs_mqtt_and_id_token(settings: Settings, section: str) -> None:
    with pytest.raises(StartupError, match=rf"\[{section}\]"):
        build_container(msgspec.structs.replace(settings, **{section: None}))


def test_a_broker_uri_without_host_is_a_startup_error(settings: Settings) -> None:
    broken = msgspec.structs.replace(settings, mqtt=MqttSettings(uri="mqtt://:1883"))
    with pytest.raises(StartupError, match=r"mqtt\.uri"):
        build_container(broken)


async def test_ulms_builds_the_agent_the_clients_and_the_mqtt_notifier(settings: Settings) -> None:
    container = build_container(settings)
    try:
        assert container.agent is not None
        assert container.agent.agent_id == "alpha.dispatcher.svc.example.org"
        assert not container.agent.connected  # it connects in start(), not at build
        assert isinstance(container.ctx.events, EventClient)
        assert isinstance(container.ctx.conferences, ConferenceClient)
        assert isinstance(container.ctx.tasks, TqClient)
        assert isinstance(container.ctx.notifier, MqttNotifier)
        assert container.autopilot is None
    finally:
        await container.close()


async def test_the_sandbox_stays_the_default(settings: Settings) -> None:
    container = build_container(msgspec.structs.replace(settings, upstream="sandbox", mqtt=None))
    try:
        assert container.agent is None
        assert isinstance(container.ctx.notifier, SandboxNotifier)
        assert container.autopilot is not None
        await container.start()  # nothing to connect
    finally:
        await container.close()
