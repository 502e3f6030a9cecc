"""Start-up failures of the real command: one line on stderr, no traceback, a non-zero exit.

Each test runs `minigroups serve` or `minigroups migrate` in a subprocess, as an operator would,
with the embedded configuration (no warnings) and the failing part overridden.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import make_url

from minigroups.config.loader import embedded_config
from tests.support.databases import PostgresTemplate
from tests.support.ports import free_port

UNREACHABLE = {
    "postgres": "postgresql://postgres:secret@127.0.0.1:1/none",
    "sqlite": "sqlite:////nonexistent/dir/minigroups.sqlite3",
}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def minigroups(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(cwd / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"127.0.0.1:{free_port()}",
        **env,
    }
    if "DATABASE_URL" not in env:
        environ.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "minigroups", *args],
        env=environ,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failed start-up (checked: non-zero exit, no traceback)."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("minigroups: ")
    assert "serving on" not in done.stdout
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "database"),
    [("serve", "postgres"), ("migrate", "sqlite")],  # each run costs seconds: one of each
)
def test_an_unreachable_database(command: str, database: str, tmp_path: Path) -> None:
    line = one_line_failure(minigroups(command, cwd=tmp_path, DATABASE_URL=UNREACHABLE[database]))
    assert "cannot migrate the database" in line
    assert "database unavailable" in line
    assert "secret" not in line  # the password is hidden


async def _refuse_connections(template: PostgresTemplate, url: str) -> None:
    connection = await asyncpg.connect(template.admin_url, timeout=5)
    try:
        await connection.execute(
            f'ALTER DATABASE "{make_url(url).database}" ALLOW_CONNECTIONS false'
        )
    finally:
        await connection.close()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_database_refusing_connections(
    command: str, postgres_template: PostgresTemplate, postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(_refuse_connections(postgres_template, postgres_url))
    line = one_line_failure(minigroups(command, cwd=tmp_path, DATABASE_URL=postgres_url))
    assert "cannot migrate the database" in line
    assert "not currently accepting connections" in line


@pytest.mark.slow
def test_the_api_port_in_use(busy_port: int, tmp_path: Path) -> None:
    address = f"127.0.0.1:{busy_port}"
    done = minigroups("serve", cwd=tmp_path, APP_HTTP__LISTENER_ADDRESS=address)
    line = one_line_failure(done)
    assert (
        line
        == f"minigroups: [http] listener_address {address}: cannot listen: Address already in use"
    )
    assert done.stdout == ""  # no "serving on", no token


@pytest.mark.slow
def test_the_metrics_port_in_use(busy_port: int, tmp_path: Path) -> None:
    address = f"127.0.0.1:{busy_port}"
    done = minigroups("serve", cwd=tmp_path, APP_HTTP__METRICS_LISTENER_ADDRESS=address)
    line = one_line_failure(done)
    assert line == (
        f"minigroups: [http] metrics_listener_address {address}: cannot listen: "
        "Address already in use"
    )
    assert done.stdout == ""


@pytest.mark.slow
def test_a_missing_key_file(tmp_path: Path) -> None:
    config = tmp_path / "App.toml"
    config.write_text(
        embedded_config().substitute(
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", secret_path="keys/gone.secret"
        )
    )
    line = one_line_failure(minigroups("serve", "--config", str(config), cwd=tmp_path))
    assert line == (
        f'minigroups: [authn."minigroups.local"] key: key file {tmp_path / "keys/gone.secret"}: '
        "No such file or directory"
    )
