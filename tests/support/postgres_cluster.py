"""A throwaway PostgreSQL cluster of one test's own, for tests that restart the database.

It is made from the installed binaries (`initdb`, `pg_ctl`; MINIGROUPS_TEST_PG_BIN names their
directory, default the newest /usr/lib/postgresql/*/bin) in a temporary directory, listening on
a free loopback port and a socket in that directory. As root it runs as the `postgres` user,
since initdb refuses root. The machine's own server (5432) is never touched. Without the
binaries the tests are skipped, except under `CI=true`, where they fail.

Fixture: `temporary_postgres` (started; stopped and removed at the end). Import it into a
conftest.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import HOST, free_port

BIN_VARIABLE = "MINIGROUPS_TEST_PG_BIN"
SERVICE_USER = "postgres"
FAST_AND_UNSAFE = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


class TemporaryPostgres:
    """One cluster: `start()`, `restart()` (a fast shutdown: connections are cut), `remove()`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.directory = Path(tempfile.mkdtemp(prefix="minigroups-pg-"))
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", SERVICE_USER, "--"]
            account = pwd.getpwnam(SERVICE_USER)
            os.chown(self.directory, account.pw_uid, account.pw_gid)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> str:
        path = self.directory / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            "initdb",
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """Stop (fast: sessions are terminated, transactions rolled back) and start again."""
        self._pg_ctl("restart", "--mode=fast")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", f"--pgdata={self.data}", "--mode=immediate", "--wait", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def _pg_ctl(self, action: str, *extra: str) -> None:
        where = (f"-p {self.port}", f"-c listen_addresses={HOST}", f"-k {self.directory}")
        options = " ".join((*where, *FAST_AND_UNSAFE))
        self._run(
            "pg_ctl",
            f"--pgdata={self.data}",
            f"--log={self.directory / 'postgres.log'}",
            f"--options={options}",
            "--wait",
            "--timeout=30",
            *extra,
            action,
        )

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_user, str(self.bin_dir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr or done.stdout}\n{self.log}")


def postgres_binaries() -> Path:
    """The directory of initdb and pg_ctl; skip (or fail under CI=true) when there is none."""
    configured = os.environ.get(BIN_VARIABLE)
    candidates = [Path(configured)] if configured else _installed()
    can_switch_user = os.geteuid() != 0 or shutil.which("runuser") is not None
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists() and can_switch_user:
            return bin_dir
    in_ci = os.environ.get("CI", "").lower() == "true"
    message = (
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed: tests that restart "
        f"PostgreSQL are {'FAILED (CI=true)' if in_ci else 'SKIPPED'} (install the "
        f"postgresql package or set {BIN_VARIABLE})"
    )
    if in_ci:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _installed() -> list[Path]:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    return list(versions)


@pytest.fixture
def temporary_postgres() -> Iterator[TemporaryPostgres]:
    """A started cluster of this test's own; stopped and removed at the end."""
    cluster = TemporaryPostgres(postgres_binaries())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
