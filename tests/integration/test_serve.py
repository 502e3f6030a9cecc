"""`minigroups serve` with no arguments on a fresh data directory, as a new user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from minigroups.adapters.auth.tokens import read_token
from tests.support.ports import free_port
from tests.support.served import read_token as read_token_printed
from tests.support.served import wait_until_ready


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    port = free_port()
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(tmp_path / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"127.0.0.1:{port}",
        "APP_HTTP__METRICS_LISTENER_ADDRESS": f"127.0.0.1:{free_port()}",
    }
    (tmp_path / "metrics-address").write_text(env["APP_HTTP__METRICS_LISTENER_ADDRESS"])
    process = subprocess.Popen(
        [sys.executable, "-m", "minigroups", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        token = read_token_printed(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, process)
        yield base, token, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)  # drains and closes the pipe


@pytest.mark.slow
def test_serve_without_arguments_answers_a_create_and_read_round_trip(
    served: tuple[str, str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, token, _ = served
    headers = {"authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/api/v1/minigroups",
        json={"scope": "first-lesson", "audience": "usr.minigroups.local"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    minigroup_id = created.json()["id"]
    read = httpx.get(f"{base}/api/v1/minigroups/{minigroup_id}", headers=headers)
    assert read.status_code == 200
    assert read.json()["id"] == "first-lesson"
    assert read.json()["status"] == "real-time"
    assert (tmp_path / "data" / "minigroups.sqlite3").exists()
    assert (tmp_path / "data" / "dev-hs256.secret").exists()


@pytest.mark.slow
def test_the_development_token_of_serve_expires_in_24_hours(
    served: tuple[str, str, subprocess.Popen[str]],
) -> None:
    """Issue 8: the printed token used to have no `exp` and stayed valid forever."""
    _, token, _ = served
    claims = read_token(token).claims
    assert claims.exp is not None
    assert abs(claims.exp - (time.time() + 24 * 3600)) < 120


@pytest.mark.slow
def test_serve_exports_request_metrics(
    served: tuple[str, str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, token, _ = served
    httpx.get(f"{base}/api/v1/minigroups/not-a-uuid", headers={"authorization": f"Bearer {token}"})
    metrics = httpx.get(f"http://{(tmp_path / 'metrics-address').read_text()}/metrics").text
    assert (
        'minigroups_http_request_duration_seconds_count{method="GET",route="/api/v1/minigroups/{id}",'
        'status="400"} 1.0'
    ) in metrics


@pytest.mark.slow
def test_sandbox_finish_drives_a_fresh_service_to_transcoded(
    served: tuple[str, str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, token, _ = served
    created = httpx.post(
        f"{base}/api/v1/minigroups",
        json={"scope": "watched", "audience": "usr.minigroups.local"},
        headers={"authorization": f"Bearer {token}"},
    )
    port = base.rsplit(":", 1)[1]
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(tmp_path / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"127.0.0.1:{port}",
    }
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "minigroups", "sandbox", "finish", created.json()["id"]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    statuses = finished.stdout.split()
    assert statuses[0] == "real-time"
    assert statuses[-1] == "transcoded"
    assert set(statuses) <= {"real-time", "closed", "finished", "adjusted", "transcoded"}
    assert elapsed < 10, f"took {elapsed:.1f} s"
    download = httpx.get(
        f"{base}/api/v1/minigroups/{created.json()['id']}/download",
        headers={"authorization": f"Bearer {token}"},
    )
    assert download.status_code == 200
