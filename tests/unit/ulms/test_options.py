"""Connection options from `[mqtt]` (contract.md upstream §1.3)."""

from __future__ import annotations

import pytest

from minigroups.adapters.ulms import AgentOptions
from minigroups.adapters.ulms.options import broker_address
from minigroups.config import MqttSettings


@pytest.mark.parametrize(
    ("uri", "address"),
    [
        ("mqtt://0.0.0.0:1883", ("0.0.0.0", 1883)),
        ("tcp://mqtt-gateway-cluster:51883", ("mqtt-gateway-cluster", 51883)),
        ("127.0.0.1:1884", ("127.0.0.1", 1884)),
        ("mqtt://broker", ("broker", 1883)),
    ],
)
def test_only_host_and_port_of_the_uri_are_used(uri: str, address: tuple[str, int]) -> None:
    assert broker_address(uri) == address


@pytest.mark.parametrize("uri", ["mqtt://:1883", "mqtt://host:port", ""])
def test_a_uri_without_host_or_with_a_bad_port_is_refused(uri: str) -> None:
    with pytest.raises(ValueError, match=r"mqtt\.uri"):
        broker_address(uri)


def test_settings_become_options_with_the_reference_defaults() -> None:
    options = AgentOptions.from_settings(
        MqttSettings(uri="mqtt://h:1"), agent_id="a.dispatcher.e", password="token"
    )
    assert (options.host, options.port, options.agent_id) == ("h", 1, "a.dispatcher.e")
    assert (options.username, options.password) == ("v2::service", "token")
    assert options.clean_session is False
    assert (options.keep_alive, options.reconnect_interval) == (60, 1.0)
    tuned = AgentOptions.from_settings(
        MqttSettings(
            uri="mqtt://h:1",
            clean_session=True,
            keep_alive_interval=15,
            reconnect_interval=3,
            max_message_size=1000,
            incoming_message_queue_size=5,
            outgoing_message_queue_size=7,
        ),
        agent_id="a.dispatcher.e",
        password="token",
    )
    assert (tuned.clean_session, tuned.keep_alive, tuned.reconnect_interval) == (True, 15, 3)
    assert (tuned.max_message_size, tuned.incoming_queue_size, tuned.max_inflight) == (1000, 5, 7)
