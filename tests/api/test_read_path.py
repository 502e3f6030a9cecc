"""The read path's budget: at most three database statements and no upstream call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.api.conftest import Api
from tests.api.helpers import add_recording, ago


@pytest.fixture
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    yield seen
    event.remove(Engine, "before_cursor_execute", count)


async def test_a_full_read_takes_three_statements(api: Api, statements: list[str]) -> None:
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
    assert len(statements) == 3, statements
    assert len(api.faults.calls) == calls_before


async def test_a_plain_read_takes_two_statements(api: Api, statements: list[str]) -> None:
    created = await api.create()
    statements.clear()
    response = await api.client.get(f"/api/v1/minigroups/{created['id']}", headers=api.auth())
    assert response.status_code == 200
    assert len(statements) == 2, statements
