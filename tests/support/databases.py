"""Pytest fixtures for real databases: a migrated SQLite file or PostgreSQL database per test.

Import the fixtures into a conftest (`from tests.support.databases import database_url, ...`).
PostgreSQL: one template database per run, migrated once, cloned per test with
`CREATE DATABASE ... TEMPLATE`. The admin URL comes from `MINIGROUPS_TEST_POSTGRES_URL`. When
PostgreSQL is unreachable its tests are skipped, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import make_url

from minigroups.adapters.db import migrate

ADMIN_URL_VARIABLE = "MINIGROUPS_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

T = TypeVar("T")


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a thread with its own loop (the test's loop stays put)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


async def admin(admin_url: str, *statements: str) -> None:
    """Statements on the admin database, each outside a transaction (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)  # CREATE/DROP DATABASE: outside a transaction
    finally:
        await connection.close()


async def _drop_matching(admin_url: str, prefix: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=5)
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix
        )
        for row in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await connection.close()


@dataclass
class PostgresTemplate:
    """A migrated database that each test clones.

    Creating a database takes a while (~0.2 s), so the next clone is made in the background
    while a test runs, and drops happen there too.
    """

    admin_url: str
    name: str
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="clones")
    )
    _spare: Future[str] | None = None

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(False)

    def clone(self, *, empty: bool = False) -> str:
        """Create a fresh copy of the template (or an empty database); return its name."""
        if empty:
            return self._background.submit(self._create, empty=True).result()
        spare, self._spare = self._spare, None
        if spare is None:
            spare = self._background.submit(self._create, empty=False)
        name = spare.result()
        self._spare = self._background.submit(self._create, empty=False)
        return name

    def drop(self, name: str) -> None:
        """Drop a clone (in the background; `close` waits for it)."""
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        self._background.submit(lambda: asyncio.run(admin(self.admin_url, statement)))

    def close(self) -> None:
        """Finish the background work and drop the template with every clone."""
        self._background.shutdown(wait=True)
        _run(lambda: _drop_matching(self.admin_url, self.name))

    def _create(self, *, empty: bool) -> str:
        name = f"{self.name}_{next(self._counter)}"
        template = "" if empty else f' TEMPLATE "{self.name}"'
        asyncio.run(admin(self.admin_url, f'CREATE DATABASE "{name}"{template}'))
        return name


def _unreachable(admin_url: str, error: BaseException) -> None:
    shown = make_url(admin_url).render_as_string(hide_password=True)
    in_ci = os.environ.get("CI", "").lower() == "true"
    message = (
        f"PostgreSQL is not reachable at {shown}: tests that need it are "
        f"{'FAILED (CI=true)' if in_ci else 'SKIPPED'} "
        f"({type(error).__name__}: {error}; set {ADMIN_URL_VARIABLE} to point elsewhere)"
    )
    if in_ci:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    """One migrated template database for the whole run; dropped with all its clones at the end."""
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    try:
        _run(lambda: admin(admin_url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        _unreachable(admin_url, error)
    template = PostgresTemplate(admin_url, f"minigroups_test_{os.getpid()}_{secrets.token_hex(4)}")
    try:
        _run(lambda: admin(admin_url, f'CREATE DATABASE "{template.name}"'))
        migrate(template.url(template.name))
        yield template
    finally:
        template.close()


@pytest.fixture
def postgres_url(postgres_template: PostgresTemplate) -> Iterator[str]:
    """A freshly migrated PostgreSQL database of this test's own."""
    name = postgres_template.clone()
    try:
        yield postgres_template.url(name)
    finally:
        postgres_template.drop(name)


# Migrated SQLite files, one per pytest run (keyed by the run's base temporary directory).
_sqlite_templates: dict[Path, Path] = {}


def _sqlite_template(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    if base not in _sqlite_templates:
        path = factory.mktemp("sqlite-template") / "template.db"
        migrate(f"sqlite:///{path}")
        _sqlite_templates[base] = path
    return _sqlite_templates[base]


@pytest.fixture
def sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated SQLite file of this test's own.

    The file is a copy of one migrated once per run: faster than migrating for every test.
    """
    path = tmp_path / "minigroups.db"
    shutil.copyfile(_sqlite_template(tmp_path_factory), path)  # migrated: no -wal file left
    return f"sqlite:///{path}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test runs once on SQLite and once on PostgreSQL (ids `sqlite` and `postgres`)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
