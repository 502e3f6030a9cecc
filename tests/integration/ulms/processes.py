"""Real `minigroups serve --config FILE` processes on a test broker: config, start, stop, kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.api.conftest import ISSUER
from tests.integration.ulms.service import CONFERENCE_ACCOUNT, EVENT_ACCOUNT
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port, free_port_run

ACCOUNT = "dispatcher.svc.example.org"
AUDIENCE = "usr.example.org"
TQ_ACCOUNT = "tq.svc.example.org"
WORKERS_MAX = 4  # `serve --workers N` up to this: worker n's metrics on the port + n


@dataclass
class Served:
    """One running process: its HTTP API, its metrics listener and the log it writes."""

    label: str
    base: str
    metrics: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def agent_id(self) -> str:
        return f"{self.label}.{ACCOUNT}"


def write_config(
    tmp_path: Path,
    label: str,
    broker: Mosquitto,
    secret: Path,
    key: Path,
    *,
    database_url: str | None = None,
    tq_base_url: str = "http://127.0.0.1:9/",
    peer_timeout: float = 5,
    pipeline: Mapping[str, float] | None = None,
) -> Path:
    """An App.toml of agent `label` with upstream = "ulms" on `broker` (SQLite by default)."""
    config = tmp_path / f"{label}.toml"
    database = database_url or f"sqlite:///{tmp_path / label}.db"
    pipeline_section = "".join(f"{name} = {value}\n" for name, value in (pipeline or {}).items())
    config.write_text(f"""\
id = "{ACCOUNT}"
agent_label = "{label}"
turn_hosts = ["turn0"]
tenants = ["{AUDIENCE}"]
database_url = "{database}"
upstream = "ulms"

[http]
listener_address = "127.0.0.1:{free_port()}"
metrics_listener_address = "127.0.0.1:{free_port_run(WORKERS_MAX)}"

[authn."{ISSUER}"]
audience = ["{AUDIENCE}"]
algorithm = "HS256"
key = "{secret}"

[authz."{AUDIENCE}"]
type = "none"

[storage]
base_url = "https://storage.example.com"

[event_client]
account_id = "{EVENT_ACCOUNT}"
timeout = {peer_timeout}

[conference_client]
account_id = "{CONFERENCE_ACCOUNT}"
timeout = {peer_timeout}

[tq_client]
base_url = "{tq_base_url}"
account_id = "{TQ_ACCOUNT}"
timeout = {peer_timeout}

[id_token]
algorithm = "ES256"
key = "{key}"

[mqtt]
uri = "mqtt://{broker.host}:{broker.port}"
reconnect_interval = 0.2

[pipeline]
{pipeline_section}""")
    return config


def serve(
    config: Path, label: str, *options: str, extra_env: Mapping[str, str] | None = None
) -> Served:
    """Start `minigroups serve --config` (and `options`); output goes to `<config>.log`.

    `extra_env` is added to its environment (a benchmark runs an older commit with PYTHONPATH).
    """
    text = config.read_text()
    listener = text.split('listener_address = "', 1)[1].split('"', 1)[0]
    metrics = text.split('metrics_listener_address = "', 1)[1].split('"', 1)[0]
    log = config.with_suffix(".log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_") and k != "DATABASE_URL"}
    env.update(extra_env or {})
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "minigroups", "serve", "--config", str(config), *options],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Served(label, f"http://{listener}", f"http://{metrics}/metrics", process, log)


async def wait_ready(served: Served) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            assert served.process.poll() is None, served.log.read_text()
            try:
                if (await client.get(f"{served.base}/readyz", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{served.label} never became ready:\n{served.log.read_text()}")


async def stop(served: Served) -> None:
    """SIGTERM (a graceful shutdown); SIGKILL if it takes longer than 15 s."""
    if served.process.poll() is not None:
        return
    served.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(served.process.wait, 15)
    except subprocess.TimeoutExpired:
        served.process.kill()
        await asyncio.to_thread(served.process.wait)


async def kill(served: Served) -> None:
    """`kill -9`: no shutdown code runs, sockets are closed by the kernel."""
    served.process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(served.process.wait)
