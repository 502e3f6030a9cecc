"""A throwaway Redis on a free loopback port, for the rate limits' shared storage.

Fixture: `redis_server` (one server per test; `stop()`/`start()` for outage tests: same port,
nothing persisted, so a restarted server starts empty). Import it into a conftest. The installed
binary is used (`REDIS_BINARY`, default /usr/bin/redis-server), never a system Redis on 6379.
When the binary is missing the tests are skipped, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

BINARY_VARIABLE = "REDIS_BINARY"
DEFAULT_BINARY = "/usr/bin/redis-server"
HOST = "127.0.0.1"


class RedisServer:
    """One `redis-server` process without persistence; its log lives in `directory`."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> None:
        """Start (or start again) on the same port."""
        if self.running:
            return
        arguments = [
            *("--port", str(self.port), "--bind", HOST),
            *("--save", "", "--appendonly", "no"),  # nothing persisted: a restart is empty
            *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            *("--daemonize", "no", "--protected-mode", "no"),
        ]
        self._process = subprocess.Popen(
            [self.binary, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start:\n{self.log}")
            if self._answers():
                return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer on {self.port}:\n{self.log}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGKILL, as a crash: the port is free afterwards and the counts are gone."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def redis_binary() -> str:
    """The server binary; skip (or fail under CI=true) loudly when it is not installed."""
    binary = os.environ.get(BINARY_VARIABLE, DEFAULT_BINARY)
    found = shutil.which(binary)
    if found is None:
        in_ci = os.environ.get("CI", "").lower() == "true"
        message = (
            f"redis-server is not installed at {binary}: tests that need Redis are "
            f"{'FAILED (CI=true)' if in_ci else 'SKIPPED'} (install the `redis-server` package "
            f"or set {BINARY_VARIABLE})"
        )
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def started(server: RedisServer, attempts: int = 3) -> RedisServer:
    """Start a new server; another process may take the free port first, so try a few."""
    for attempt in range(attempts):
        try:
            server.start()
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            server.port = free_port()
        else:
            break
    return server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, started; stopped at the end."""
    directory = tmp_path / "redis"
    directory.mkdir()
    server = started(RedisServer(redis_binary(), directory))
    try:
        yield server
    finally:
        server.stop()
