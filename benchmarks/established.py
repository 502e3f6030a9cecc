"""A fresh PostgreSQL database with established classes, for the benchmarks that measure
statements on them (`plan_cache`, `unit_cost`).

The admin URL is the tests' (`MINIGROUPS_TEST_POSTGRES_URL`, default
`postgresql://postgres@127.0.0.1:5432/postgres`); the database is migrated to head, seeded, and
dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import make_url
from tests.integration.db.helpers import establish, new_minigroup
from tests.support.databases import ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL, admin

from minigroups.adapters.db import create_store, migrate_async


@asynccontextmanager
async def established_classes(
    prefix: str, count: int
) -> AsyncIterator[tuple[str, list[uuid.UUID]]]:
    """The database's URL and the ids of its `count` classes (scopes `<prefix>-<n>`)."""
    admin_url = os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL)
    name = f"minigroups_{prefix}_{uuid.uuid4().hex[:8]}"
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(False)
    try:
        await migrate_async(url)
        store = create_store(url)
        try:
            minigroups = [
                await establish(store, new_minigroup(f"{prefix}-{n}")) for n in range(count)
            ]
        finally:
            await store.close()
        yield url, [minigroup.id for minigroup in minigroups]
    finally:
        await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
