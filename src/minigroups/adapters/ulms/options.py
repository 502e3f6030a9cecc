"""How the agent connects (upstream §1.3), built from `[mqtt]` and the service's identity."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from minigroups.config import MqttSettings

SERVICE_USERNAME = "v2::service"  # connection version v2, mode service
DEFAULT_PORT = 1883
DEFAULT_KEEP_ALIVE = 60
DEFAULT_RECONNECT_INTERVAL = 1.0
MAX_RECONNECT_INTERVAL = 10.0


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """One agent's connection: client id = agent id, username/password, session and limits."""

    host: str
    port: int
    agent_id: str
    password: str | None = None
    username: str | None = SERVICE_USERNAME
    clean_session: bool = False
    keep_alive: int = DEFAULT_KEEP_ALIVE
    reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL
    max_reconnect_interval: float = MAX_RECONNECT_INTERVAL
    connect_timeout: float = 5.0  # a CONNECT or SUBSCRIBE unanswered this long drops the attempt
    publish_timeout: float = 5.0  # QoS 1 publishes wait this long for PUBACK by default
    max_message_size: int | None = None
    incoming_queue_size: int | None = None
    max_inflight: int | None = None

    @classmethod
    def from_settings(cls, mqtt: MqttSettings, *, agent_id: str, password: str) -> AgentOptions:
        """Only host and port of `mqtt.uri` are used; the scheme is ignored (as svc-agent does)."""
        host, port = broker_address(mqtt.uri)
        return cls(
            host=host,
            port=port,
            agent_id=agent_id,
            password=password,
            clean_session=mqtt.clean_session,
            keep_alive=mqtt.keep_alive_interval or DEFAULT_KEEP_ALIVE,
            reconnect_interval=mqtt.reconnect_interval or DEFAULT_RECONNECT_INTERVAL,
            max_message_size=mqtt.max_message_size,
            incoming_queue_size=mqtt.incoming_message_queue_size,
            max_inflight=mqtt.outgoing_message_queue_size,
        )


def broker_address(uri: str) -> tuple[str, int]:
    """`scheme://host:port` → (host, port); a missing port is 1883. Raise ValueError."""
    parts = urlsplit(uri if "//" in uri else f"//{uri}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"mqtt.uri has an invalid port: {uri!r}") from exc
    if not parts.hostname:
        raise ValueError(f"mqtt.uri has no host: {uri!r}")
    return parts.hostname, port or DEFAULT_PORT
