"""`serve --workers N`: N processes on one listener, each a whole instance of the service.

The parent checks what can stop a start, migrates the database and binds the API's listener,
then forks the workers. Each inherits the listening socket (the kernel hands every new connection
to one of them) and builds its own container after the fork, so no event loop, thread or
connection crosses it. A worker is an instance as two instances of the service are (see
docs/decisions.md, "Workers"): its own agent label `<label>-<n>` (its MQTT client id and the owner
of its claims), its own pools, its own metrics listener on the configured port + n; the pipeline's
work is shared through the database. The parent forwards SIGTERM and SIGINT to the workers and
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


def run_workers(settings: Settings, listener: socket.socket, count: int, worker: Worker) -> None:
    """Fork `count` workers and supervise them until SIGTERM/SIGINT; returns when all ended."""
    children: dict[int, int] = {}  # pid -> worker index
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            _signal(pid, signal.SIGTERM)

    for index in range(count):
        children[_fork(settings, listener, index, worker)] = index
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
                children[_fork(settings, listener, index, worker)] = index
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        listener.close()
    if failed is not None:
        raise StartupError(failed)


def _fork(settings: Settings, listener: socket.socket, index: int, worker: Worker) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)  # until uvicorn installs its own
        worker(worker_settings(settings, index), listener)
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
