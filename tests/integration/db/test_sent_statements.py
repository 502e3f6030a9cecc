"""The statement counter the budget tests rely on (`tests/support/sent.py`) counts only what the
code under test sends: the test databases' admin work on the background thread is not counted."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.databases import PostgresTemplate, admin
from tests.support.sent import sent_statements

pytestmark = pytest.mark.postgres


async def test_statements_of_another_thread_are_not_counted(
    postgres_template: PostgresTemplate,
) -> None:
    url = postgres_template.admin_url
    with sent_statements() as seen:
        await asyncio.to_thread(lambda: asyncio.run(admin(url, "SELECT 1 AS elsewhere")))
        await admin(url, "SELECT 2 AS here")
    assert seen == ["SELECT 2 AS here"]
