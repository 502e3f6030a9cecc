"""A throwaway Mosquitto on a free loopback port, with persistence, for tests that need a broker.

Fixtures: `mosquitto` (one broker per test, `stop()`/`start()` for restart tests: same port, same
persistence directory) and `shared_mosquitto` (one broker per run, never restarted). Import them
into a conftest. The installed binary is used (`MOSQUITTO_BINARY`, default /usr/sbin/mosquitto),
never a system broker on 1883. When the binary is missing the tests are skipped, except under
`CI=true`, where they fail.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import HOST, free_port

BINARY_VARIABLE = "MOSQUITTO_BINARY"
DEFAULT_BINARY = "/usr/sbin/mosquitto"


class Mosquitto:
    """One broker process; its configuration, database and log live in `directory`."""

    def __init__(self, binary: str, directory: Path, *, autosave_interval: int = 1) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.autosave_interval = autosave_interval
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return HOST

    @property
    def uri(self) -> str:
        return f"mqtt://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        path = self.directory / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, timeout: float = 10.0) -> None:
        """Start (or start again) on the same port, persistence directory and log."""
        if self.running:
            return
        config = self.directory / "mosquitto.conf"
        config.write_text(self._config())
        self._process = subprocess.Popen(
            [self.binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start:\n{self.log}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.02)
                continue
            return
        raise RuntimeError(f"mosquitto did not listen on {self.port}:\n{self.log}")

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its database and exits; the port is free afterwards."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _config(self) -> str:
        # Run as ourselves: started as root, Mosquitto would switch to the `mosquitto` user,
        # which cannot write into our temporary directory.
        return "\n".join(
            [
                f"user {getpass.getuser()}",
                f"listener {self.port} {HOST}",
                "allow_anonymous true",
                "persistence true",
                f"persistence_location {self.directory}/",
                f"autosave_interval {self.autosave_interval}",
                f"log_dest file {self.directory / 'mosquitto.log'}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_type information",
                "",
            ]
        )


def mosquitto_binary() -> str:
    """The broker binary; skip (or fail under CI=true) loudly when it is not installed."""
    binary = os.environ.get(BINARY_VARIABLE, DEFAULT_BINARY)
    found = shutil.which(binary)
    if found is None:
        in_ci = os.environ.get("CI", "").lower() == "true"
        message = (
            f"Mosquitto is not installed at {binary}: tests that need a broker are "
            f"{'FAILED (CI=true)' if in_ci else 'SKIPPED'} (install the `mosquitto` package or "
            f"set {BINARY_VARIABLE})"
        )
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def started(broker: Mosquitto, attempts: int = 3) -> Mosquitto:
    """Start a new broker; another process may take the free port first, so try a few."""
    for attempt in range(attempts):
        try:
            broker.start()
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            broker.port = free_port()
        else:
            break
    return broker


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, started; stopped at the end."""
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    broker = started(Mosquitto(mosquitto_binary(), directory))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def shared_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for the whole run; tests that use it must not stop it."""
    broker = started(Mosquitto(mosquitto_binary(), tmp_path_factory.mktemp("mosquitto")))
    try:
        yield broker
    finally:
        broker.stop()
