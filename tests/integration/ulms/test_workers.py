"""`serve --workers N` (issue 12): N processes on one listener, each a whole instance.

Real processes on a test broker: both workers answer on the one port (each with its own agent,
seen by the peers, and its own metrics listener), a worker killed with SIGKILL is started again
while the other keeps serving, SIGTERM stops them all, and the sandbox is refused.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from minigroups.adapters.sandbox import Sandbox
from tests.api.conftest import _private_key_pem, bearer_token
from tests.integration.ulms.processes import AUDIENCE, Served, serve, stop, wait_ready, write_config
from tests.integration.ulms.service import running_peers
from tests.integration.ulms.support import wait_until
from tests.support.mosquitto import Mosquitto
from tests.support.simulators import BrokerPeers

ACCOUNT_SUFFIX = ".dispatcher.svc.example.org"


@pytest.fixture
async def peers(mosquitto: Mosquitto) -> AsyncIterator[BrokerPeers]:
    async with running_peers(mosquitto, Sandbox()) as running:
        yield running


def _workers(served: Served) -> list[int]:
    """The worker processes of a served parent (its children)."""
    children = Path(f"/proc/{served.process.pid}/task/{served.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def _metrics_urls(served: Served, count: int) -> list[str]:
    host, _, port = served.metrics.removeprefix("http://").split("/")[0].rpartition(":")
    return [f"http://{host}:{int(port) + n}/metrics" for n in range(count)]


@pytest.mark.slow
async def test_two_workers_share_one_listener_and_restart_when_killed(
    mosquitto: Mosquitto, peers: BrokerPeers, tmp_path: Path
) -> None:
    secret = tmp_path / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    key = _private_key_pem(tmp_path / "svc.private.pem")
    served = serve(
        write_config(tmp_path, "alpha", mosquitto, secret, key), "alpha", "--workers", "2"
    )
    headers = {"authorization": f"Bearer {bearer_token(secret, 'admin', AUDIENCE)}"}
    try:
        await wait_ready(served)
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            for url in _metrics_urls(served, 2):  # every worker has its own metrics listener
                await wait_until(functools.partial(_answers, url), within=20)

            # Each connection lands on one worker; both workers make creates over the broker.
            async def create(n: int) -> int:
                async with httpx.AsyncClient(headers=headers, timeout=10) as fresh:
                    response = await fresh.post(
                        f"{served.base}/api/v1/minigroups",
                        json={"audience": AUDIENCE, "scope": f"w-{n}"},
                    )
                    return response.status_code

            statuses = await asyncio.gather(*(create(n) for n in range(30)))
            assert statuses == [201] * 30
            askers = {r.topic.split("/")[1] for r in peers.requests}
            assert askers == {f"alpha-0{ACCOUNT_SUFFIX}", f"alpha-1{ACCOUNT_SUFFIX}"}

            workers = _workers(served)
            assert len(workers) == 2
            os.kill(workers[0], signal.SIGKILL)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # the other worker serves meanwhile
                response = await client.get(f"{served.base}/readyz")
                assert response.status_code == 200
                current = _workers(served)
                if len(current) == 2 and workers[0] not in current:
                    break
                await asyncio.sleep(0.2)
            replaced = _workers(served)
            assert len(replaced) == 2, served.log.read_text()
            assert workers[0] not in replaced
            assert "worker 0 ended" in served.log.read_text()
    finally:
        started = time.monotonic()
        await stop(served)
    assert served.process.returncode == 0, served.log.read_text()
    assert time.monotonic() - started < 12


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_workers_refuse_the_sandbox(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_") and k != "DATABASE_URL"}
    env["MINIGROUPS_DATA_DIR"] = str(tmp_path / "data")
    finished = subprocess.run(
        [sys.executable, "-m", "minigroups", "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode != 0
    assert '--workers needs upstream = "ulms"' in finished.stderr
    assert "Traceback" not in finished.stderr


def test_workers_must_be_a_positive_number(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "minigroups", "serve", "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert "must be a whole number > 0" in finished.stderr
