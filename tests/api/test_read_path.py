"""The read path's budget: one database statement and no upstream call (issue 12)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from minigroups.adapters.db import readers
from tests.api.conftest import Api
from tests.api.helpers import add_recording, ago
from tests.support.sent import sent_statements


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement sent: through SQLAlchemy (units of work), on asyncpg directly (the
    PostgreSQL reader; `tests/support/sent.py`) and on the SQLite reader's own `sqlite3`
    connection (traced)."""
    with sent_statements() as seen:
        connect = sqlite3.connect

        def trace(statement: str) -> None:
            if not statement.startswith("PRAGMA"):  # the reader's connection set-up
                seen.append(statement)

        def traced_connect(*args: Any, **kw: Any) -> sqlite3.Connection:
            connection: sqlite3.Connection = connect(*args, **kw)
            connection.set_trace_callback(trace)
            return connection

        monkeypatch.setattr(readers, "sqlite3", SimpleNamespace(connect=traced_connect))
        yield seen


async def test_a_full_read_takes_one_statement(api: Api, statements: list[str]) -> None:
    created = await api.create(properties={"a": 1})
    await add_recording(api, created["id"], transcoded_at=ago(1))
    await api.client.put("/api/v1/account/properties/p", json=1, headers=api.auth())
    url = f"/api/v1/minigroups/{created['id']}/timestamps"
    await api.client.post(url, json={"position": 5}, headers=api.auth())
    calls_before = len(api.faults.calls)
    statements.clear()
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}?class_keys[]=a&account_keys[]=p", headers=api.auth()
    )
    body = response.json()
    assert (body["status"], body["position"], body["account_properties"]) == (
        "transcoded",
        5,
        {"p": 1},
    )
    assert len(statements) == 1, statements
    assert len(api.faults.calls) == calls_before


async def test_a_plain_read_takes_one_statement(api: Api, statements: list[str]) -> None:
    created = await api.create()
    statements.clear()
    response = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
    assert response.status_code == 200
    assert len(statements) == 1, statements


async def test_a_read_by_scope_with_two_recordings_takes_one_statement(
    api: Api, statements: list[str]
) -> None:
    created = await api.create()
    await add_recording(api, created["id"], transcoded_at=ago(2))
    await add_recording(api, created["id"], created_by="web.user2.usr.example.org")
    statements.clear()
    response = await api.client.get(
        f"/api/v1/audiences/{created['audience']}/minigroups/{created['scope']}",
        headers=api.auth(),
    )
    assert (response.status_code, response.json()["status"]) == (200, "transcoded")
    assert len(statements) == 1, statements
