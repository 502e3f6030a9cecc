"""`minigroups serve` on the embedded default, in a fresh data directory, on a free port.

`serve()` starts it and yields its base URL and the development token it prints (HS256, the
embedded issuer's secret, authorization `none`); the process is stopped with SIGTERM after.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
START_SECONDS = 30


@dataclass(frozen=True)
class Served:
    base: str
    token: str
    output: list[str]  # what the process printed after its token (drained, so it never blocks)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(directory: Path) -> Iterator[Served]:
    port = free_port()
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(directory / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"{HOST}:{port}",
        "APP_HTTP__METRICS_LISTENER_ADDRESS": f"{HOST}:{free_port()}",
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "minigroups", "serve"],
        env=env,
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = read_token(process)
        output: list[str] = []
        threading.Thread(target=_drain, args=(process, output), daemon=True).start()
        base = f"http://{HOST}:{port}"
        wait_until_ready(base, process)
        yield Served(base, token, output)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


def _drain(process: subprocess.Popen[str], output: list[str]) -> None:
    if process.stdout is not None:
        output.extend(process.stdout)


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
