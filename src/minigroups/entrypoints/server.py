"""`minigroups serve`: the HTTP API under uvicorn, metrics on their own listener.

Whatever can stop the start-up is checked before the first line is printed: the key files, the
database (migrated here), then both listeners are bound (`startup.py`). Each failure is a
`StartupError`: one line on stderr and a non-zero exit (`cli.main`).
"""

from __future__ import annotations

import asyncio

import uvicorn

from minigroups.bootstrap import StartupError, build_container, create_app
from minigroups.config import Settings
from minigroups.entrypoints.startup import (
    bind_listener,
    migrate_database,
    require_key_files,
    start_metrics,
)

GRACEFUL_SHUTDOWN_SECONDS = 10


def parse_address(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 hosts in brackets) as written in `[http]`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise StartupError(f"listener address must be host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an empty host means all


def serve(settings: Settings, *, dev_token: str | None) -> None:
    """Build the service from the settings and run it until SIGINT/SIGTERM."""
    host, port = parse_address(settings.http.listener_address)
    require_key_files(settings)
    container = build_container(settings)
    migrate_database(settings.database_url)
    listener = bind_listener(host, port, "[http] listener_address")
    if settings.http.metrics_listener_address:
        metrics_host, metrics_port = parse_address(settings.http.metrics_listener_address)
        try:
            start_metrics(
                metrics_host, metrics_port, container.registry, "[http] metrics_listener_address"
            )
        except StartupError:
            listener.close()
            raise
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
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))
