"""`minigroups serve`: the HTTP API under uvicorn, metrics on their own listener."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import uvicorn
from prometheus_client import start_http_server

from minigroups.bootstrap import StartupError, build_container, create_app
from minigroups.config import Settings

# HTTP requests in flight get this long after SIGTERM; the pipeline's grace (5 s by default) runs
# alongside, so that the process is gone within 10 s.
GRACEFUL_SHUTDOWN_SECONDS = 8


class _Server(uvicorn.Server):
    """uvicorn's server, telling the pipeline to stop claiming as soon as the shutdown begins,
    not only after the HTTP requests completed (the lifespan shutdown comes then)."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


def parse_address(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 hosts in brackets) as written in `[http]`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise StartupError(f"listener address must be host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an empty host means all


def serve(settings: Settings, *, dev_token: str | None) -> None:
    """Build the service from the settings and run it until SIGINT/SIGTERM."""
    host, port = parse_address(settings.http.listener_address)
    container = build_container(settings)
    container.prepare_database()
    if settings.http.metrics_listener_address:
        metrics_host, metrics_port = parse_address(settings.http.metrics_listener_address)
        start_http_server(metrics_port, addr=metrics_host, registry=container.registry)
    config = uvicorn.Config(
        create_app(container),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    base = f"http://{host}:{port}"
    print(f"minigroups {settings.agent_label}.{settings.id} serving on {base}", flush=True)
    if dev_token is not None:
        print(f"development token (audience usr.minigroups.local):\n{dev_token}", flush=True)
        print(f"try: curl -H 'Authorization: Bearer {dev_token}' {base}/healthz", flush=True)
    asyncio.run(_Server(config, container.runtime.begin_stop).serve())
