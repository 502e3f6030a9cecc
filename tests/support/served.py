"""`minigroups serve` on the embedded default, in a fresh data directory, on a free port.

`serve()` starts it and yields its base URL and the development token it prints (HS256, the
embedded issuer's secret, authorization `none`); the process is stopped with SIGTERM after.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import HOST, free_port

DRAIN_SECONDS = 0.02
DRAIN_PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size
START_SECONDS = 30


@dataclass(frozen=True)
class Served:
    base: str
    token: str
    output: list[str]  # what the process printed after its token (drained, so it never blocks)
    pid: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def serve(
    directory: Path,
    *,
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
    keep_output: bool = True,
) -> Iterator[Served]:
    """`minigroups serve` in `directory`; `env` added to its environment (after the defaults),
    the command run under `prefix` (say `taskset -c 0`); with `keep_output` False what it prints
    after its token is read and dropped (a benchmark's millions of access lines)."""
    port = free_port()
    environ = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(directory / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"{HOST}:{port}",
        "APP_HTTP__METRICS_LISTENER_ADDRESS": f"{HOST}:{free_port()}",
    }
    environ.pop("DATABASE_URL", None)
    environ.update(env or {})
    process = subprocess.Popen(
        [*prefix, sys.executable, "-m", "minigroups", "serve"],
        env=environ,
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = read_token(process)
        output: list[str] = []
        kept = output if keep_output else None
        threading.Thread(target=_drain, args=(process, kept), daemon=True).start()
        base = f"http://{HOST}:{port}"
        wait_until_ready(base, process)
        yield Served(base, token, output, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


def _drain(process: subprocess.Popen[str], output: list[str] | None) -> None:
    if process.stdout is None:
        return
    if output is None:
        # Dropped (a benchmark's thousands of access lines a second): read from the pipe itself
        # in large chunks at most every DRAIN_SECONDS, into a pipe made large enough to hold
        # what comes meanwhile. A reader woken by every line, as the line-by-line text layer
        # was, took the load generator's core (the benchmark's process runs on it) from it.
        descriptor = process.stdout.fileno()
        with contextlib.suppress(OSError):  # a pipe of the default size will do
            fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, DRAIN_PIPE_BYTES)
        with contextlib.suppress(OSError):  # closed once the process has ended
            while os.read(descriptor, DRAIN_PIPE_BYTES):
                time.sleep(DRAIN_SECONDS)
        return
    for line in process.stdout:
        output.append(line)


def read_token(process: subprocess.Popen[str]) -> str:
    """The development token that `serve` prints on the embedded default."""
    if process.stdout is None:
        raise AssertionError("serve has no stdout pipe")
    lines: list[str] = []
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("development token"):
            return process.stdout.readline().strip()
    raise AssertionError("serve printed no token:\n" + "".join(lines))


def wait_until_ready(base: str, process: subprocess.Popen[str]) -> None:
    """Until `/readyz` answers 200; fail if the process exits or START_SECONDS pass."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("serve exited")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve never became ready")
