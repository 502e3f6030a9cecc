"""One set of migrations builds exactly `tables.py` on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from minigroups.adapters.db import migrate, migrate_async, schema_differences
from minigroups.adapters.db.migrate import alembic_config
from tests.integration.db.helpers import execute
from tests.support.databases import PostgresTemplate


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    assert await schema_differences(database_url) == []


async def test_schema_drift_is_detected(database_url: str) -> None:
    await execute(database_url, text("DROP INDEX recording_rtc_id"))

    differences = await schema_differences(database_url)

    assert [difference[0] for difference in differences] == ["add_index"]


async def test_migrating_again_changes_nothing(database_url: str) -> None:
    await migrate_async(database_url)

    assert await execute(database_url, text("SELECT version_num FROM alembic_version")) == [
        (head(),)
    ]
    assert await schema_differences(database_url) == []


def test_an_empty_sqlite_file_is_migrated_by_the_blocking_form(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"

    migrate(url)  # as the CLI calls it

    assert (tmp_path / "fresh.db").exists()


async def test_an_empty_postgres_database_is_migrated(postgres_template: PostgresTemplate) -> None:
    name = postgres_template.clone(empty=True)
    url = postgres_template.url(name)
    try:
        await migrate_async(url)
        assert await schema_differences(url) == []
    finally:
        postgres_template.drop(name)


async def test_an_empty_sqlite_file_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"

    await migrate_async(url)

    assert await schema_differences(url) == []
