"""`serve --workers N`: N processes on one listener, each a whole instance of the service.

The parent checks what can stop a start, migrates the database and binds one socket per worker
on the API's port with SO_REUSEPORT (the kernel spreads the new connections over them; one shared
socket let one busy worker take nearly all of them), then forks the workers. Each serves its own
socket and builds its own container after the fork, so no event loop, thread or connection
crosses it. The parent keeps every socket open, so that connections that reach a dead worker's
socket wait for the worker started in its place instead of being refused.

A worker is an instance as two instances of the service are (see docs/decisions.md, "Workers"):
its own agent label `<label>-<n>` (its MQTT client id and the owner of its claims), its own
pools, its own metrics listener on the configured port + n; the pipeline's work is shared
through the database. The parent forwards SIGTERM and SIGINT to the workers and
waits for them; a worker that dies while the service runs is started again after a second, and
one that cannot start (exit status 2) stops the whole service.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from types import FrameType

import msgspec

from minigroups.bootstrap import StartupError
from minigroups.config import Settings
from minigroups.entrypoints.startup import bind_listener

log = logging.getLogger(__name__)

CANNOT_START = 2  # a worker's exit status when its start failed (a StartupError)
RESTART_DELAY_SECONDS = 1.0

Worker = Callable[[Settings, socket.socket], None]


def check_workers(settings: Settings) -> None:
    """Workers need peers outside the process: the sandbox's stand-in platform lives in one."""
    if settings.upstream == "sandbox":
        raise StartupError(
            '--workers needs upstream = "ulms": the sandbox keeps its stand-in rooms in one '
            "process; run the sandbox with one worker"
        )


def worker_settings(settings: Settings, index: int) -> Settings:
    """The settings of worker `index`: its own agent label and metrics port."""
    http = settings.http
    metrics = http.metrics_listener_address
    if metrics:
        host, _, port = metrics.rpartition(":")
        if port.isdigit() and int(port) != 0:
            metrics = f"{host}:{int(port) + index}"
    return msgspec.structs.replace(
        settings,
        agent_label=f"{settings.agent_label}-{index}",
        http=msgspec.structs.replace(http, metrics_listener_address=metrics),
    )


def bind_worker_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` sockets on one port (the first one's, when `port` is 0), with SO_REUSEPORT."""
    setting = "[http] listener_address"
    first = bind_listener(host, port, setting, reuse_port=True)
    sockets = [first]
    try:
        bound = first.getsockname()[1]
        sockets.extend(
            bind_listener(host, bound, setting, reuse_port=True) for _ in range(count - 1)
        )
    except StartupError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def run_workers(settings: Settings, listeners: list[socket.socket], worker: Worker) -> None:
    """Fork one worker per listener and supervise them until SIGTERM/SIGINT; returns when all
    ended."""
    children: dict[int, int] = {}  # pid -> worker index
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            _signal(pid, signal.SIGTERM)

    for index in range(len(listeners)):
        children[_fork(settings, listeners, index, worker)] = index
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    failed: str | None = None
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = children.pop(pid, -1)
            if index < 0 or stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == CANNOT_START:
                failed = f"worker {index} could not start"
                stop(signal.SIGTERM, None)
                continue
            log.error("worker %d ended (exit status %d): starting it again", index, code)
            time.sleep(RESTART_DELAY_SECONDS)
            if not stopping:
                children[_fork(settings, listeners, index, worker)] = index
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for listener in listeners:
            listener.close()
    if failed is not None:
        raise StartupError(failed)


def _fork(settings: Settings, listeners: list[socket.socket], index: int, worker: Worker) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)  # until uvicorn installs its own
        for number, other in enumerate(listeners):
            if number != index:
                other.close()  # the other workers' sockets stay open in the parent only
        worker(worker_settings(settings, index), listeners[index])
    except StartupError as exc:
        print(f"minigroups: worker {index}: {exc}", file=sys.stderr, flush=True)
        code = CANNOT_START
    except BaseException:  # noqa: BLE001 - a worker reports and exits; the parent restarts it
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)
    return 0  # not reached


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended already
        os.kill(pid, sig)
