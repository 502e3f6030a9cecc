"""`minigroups serve`: the HTTP API under uvicorn; metrics and the console on their own listener.

Whatever can stop the start-up is checked before the first line is printed: the key files, the
database (migrated here), then both listeners are bound (`startup.py`). Each failure is a
`StartupError`: one line on stderr and a non-zero exit (`cli.main`). The two listeners are two
uvicorn servers in one event loop: the API's handles the signals and stops the other one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import socket
from collections.abc import Callable, Generator

import uvicorn
import uvloop
from starlette.types import ASGIApp

from minigroups.bootstrap import (
    Container,
    StartupError,
    build_container,
    create_app,
    create_console,
)
from minigroups.config import AuthzNoneSettings, Settings
from minigroups.config.settings import LimitsSettings
from minigroups.entrypoints.protocol import bounded_protocol
from minigroups.entrypoints.startup import (
    bind_listener,
    migrate_database,
    require_key_files,
)
from minigroups.entrypoints.workers import bind_worker_listeners, check_workers, run_workers

# HTTP requests in flight get this long after SIGTERM; the pipeline's grace (5 s by default) runs
# alongside, so that the process is gone within 10 s.
GRACEFUL_SHUTDOWN_SECONDS = 8
HEAD_FRAMING_BYTES = 4 * 1024  # CRLFs and colons around the headers


class _Server(uvicorn.Server):
    """uvicorn's server, telling the pipeline to stop claiming as soon as the shutdown begins,
    not only after the HTTP requests completed (the lifespan shutdown comes then)."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


class SecondServer(uvicorn.Server):
    """A server beside the API's in the same loop (the metrics listener's): it leaves the
    signals to the API's server, which ends it by setting `should_exit`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def metrics_server(app: ASGIApp, *, limits: LimitsSettings) -> SecondServer:
    """The metrics listener's server: `/metrics` and the console (`bootstrap.create_console`)."""
    config = uvicorn.Config(
        app,
        loop="none",
        lifespan="off",
        log_config=None,  # the API's server configured uvicorn's loggers already
        access_log=False,
        timeout_graceful_shutdown=2,
        limit_concurrency=100,
        timeout_keep_alive=limits.keep_alive_seconds,
        h11_max_incomplete_event_size=limits.header_bytes + limits.header_field_bytes,
    )
    return SecondServer(config)


def parse_address(address: str) -> tuple[str, int]:
    """`host:port` (IPv6 hosts in brackets) as written in `[http]`."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise StartupError(f"listener address must be host:port, got {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an empty host means all


def is_loopback(host: str) -> bool:
    """Only this machine can connect (a name other than `localhost` is not resolved: no)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def insecurity(settings: Settings) -> str | None:
    """What makes a configuration unfit for a public listener, or None."""
    reasons = []
    if settings.upstream == "sandbox":
        reasons.append('upstream = "sandbox" (fake peers, the sandbox control route)')
    unchecked = [
        aud for aud, authz in settings.authz.items() if isinstance(authz, AuthzNoneSettings)
    ]
    if unchecked:
        reasons.append(f'authorization "none" for {", ".join(sorted(unchecked))}')
    return " and ".join(reasons) or None


def check_listener(settings: Settings, host: str, *, insecure_public: bool) -> None:
    """The embedded kind of configuration listens on loopback only, unless told otherwise."""
    reason = insecurity(settings)
    if reason is not None and not is_loopback(host) and not insecure_public:
        raise StartupError(
            f"refusing to listen on {settings.http.listener_address} with {reason}: use a "
            "loopback address, or pass --insecure-public to expose it anyway"
        )


def serve(
    settings: Settings,
    *,
    dev_token: str | None,
    insecure_public: bool = False,
    workers: int = 1,
) -> None:
    """Build the service from the settings and run it until SIGINT/SIGTERM.

    With `workers` > 1 the listener is bound here and shared by that many processes
    (`workers.py`), each a whole instance as two instances of the service are.
    """
    host, port = parse_address(settings.http.listener_address)
    check_listener(settings, host, insecure_public=insecure_public)
    require_key_files(settings)
    if workers > 1:
        check_workers(settings)
        migrate_database(settings.database_url)
        listeners = bind_worker_listeners(host, port, workers)
        _announce(settings, f"http://{host}:{port}", dev_token, workers)
        run_workers(settings, listeners, serve_worker)
        return
    container = build_container(settings)
    migrate_database(settings.database_url)
    listener = bind_listener(host, port, "[http] listener_address")
    metrics_listener = _bind_metrics(settings, listener)
    _announce(settings, f"http://{host}:{port}", dev_token, workers)
    _serve_container(settings, container, listener, metrics_listener)


def serve_worker(settings: Settings, listener: socket.socket) -> None:
    """One worker of `serve --workers`: its own container on the shared listener."""
    container = build_container(settings)
    _serve_container(settings, container, listener, _bind_metrics(settings, listener))


def _announce(settings: Settings, base: str, dev_token: str | None, workers: int) -> None:
    processes = f" with {workers} worker processes" if workers > 1 else ""
    print(
        f"minigroups {settings.agent_label}.{settings.id} serving on {base}{processes}", flush=True
    )
    if dev_token is not None:
        print(f"development token (audience usr.minigroups.local):\n{dev_token}", flush=True)
        print(f"try: curl -H 'Authorization: Bearer {dev_token}' {base}/healthz", flush=True)


def _bind_metrics(settings: Settings, listener: socket.socket) -> socket.socket | None:
    """The metrics listener's socket, when one is configured (the API's closed if it fails)."""
    if not settings.http.metrics_listener_address:
        return None
    metrics_host, metrics_port = parse_address(settings.http.metrics_listener_address)
    try:
        return bind_listener(metrics_host, metrics_port, "[http] metrics_listener_address")
    except StartupError:
        listener.close()
        raise


# The young generation collected every 10,000 allocations net of frees, not every 700: each
# collection walks what is alive in it (the requests in flight), so the cost of collecting is
# about the same per collection and fourteen times rarer (issue 12, session 8).
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def _serve_container(
    settings: Settings,
    container: Container,
    listener: socket.socket,
    metrics_listener: socket.socket | None,
) -> None:
    limits = settings.limits
    # The request line may be as long as one header; the rest of the head is the headers.
    head_bytes = limits.header_bytes + limits.header_field_bytes + HEAD_FRAMING_BYTES
    host, port = listener.getsockname()[:2]
    config = uvicorn.Config(
        create_app(container),
        host=host,
        port=port,
        loop="uvloop",
        http=bounded_protocol(head_seconds=limits.header_read_seconds, head_bytes=head_bytes),
        lifespan="on",
        log_config=None,  # uvicorn's loggers propagate to the one setup (adapters/logging_setup)
        access_log=False,  # the app logs one access line per request itself (api/trail.py)
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive_seconds,
        h11_max_incomplete_event_size=head_bytes,  # the same bound, were h11 chosen
    )
    second = None
    if metrics_listener is not None:
        second = metrics_server(create_console(container), limits=limits)

    def stopping() -> None:
        container.runtime.begin_stop()
        if second is not None:
            second.should_exit = True

    api = _Server(config, stopping)
    # What start-up built lives as long as the process: out of the collector's sight, so that a
    # full collection walks only what requests made (shorter pauses in the tail; issue 12).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    # uvicorn's `loop` setting applies only to `uvicorn.run`; serving through our own runner, the
    # loop is chosen here (issue 12: the stdlib loop cost a third of the read path).
    uvloop.run(_serve_both(api, listener, second, metrics_listener))


async def _serve_both(
    api: uvicorn.Server,
    listener: socket.socket,
    second: uvicorn.Server | None,
    second_listener: socket.socket | None,
) -> None:
    if second is None or second_listener is None:
        await api.serve(sockets=[listener])
        return
    metrics = asyncio.create_task(second.serve(sockets=[second_listener]))
    try:
        await api.serve(sockets=[listener])
    finally:
        second.should_exit = True
        await metrics
