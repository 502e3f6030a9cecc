"""`[limits]` on what a caller stores or forwards (issue 8): each limit on each kind of write,
and a refused write changes nothing. Small limits keep the bodies small."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.api.conftest import ADMIN, AUDIENCE, Api, running_api

SMALL: dict[str, Any] = {
    "property_value_bytes": 40,
    "property_keys": 3,
    "property_map_bytes": 100,
    "property_key_length": 8,
    "tags_bytes": 40,
    "event_bytes": 120,
    "scope_bytes": 16,
}
TEXT_30 = "x" * 28  # 30 bytes as JSON


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path, **SMALL) as api:
        yield api


async def _stored_class_properties(api: Api, minigroup_id: str) -> dict[str, Any]:
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        minigroup = await uow.minigroups.get(UUID(minigroup_id), any_kind=True)
    assert minigroup is not None
    return dict(minigroup.properties)


def _refused(response: Any, status: int, type_: str) -> None:
    assert (response.status_code, response.json()["type"]) == (status, type_), response.text
    assert response.json()["detail"]


async def _limit_cases(api: Api, url: str) -> None:
    """Every property limit against one map at `url`, which starts empty."""
    put = api.client.put
    _refused(
        await put(f"{url}/big", json="x" * 39, headers=api.auth()), 413, "property_value_too_large"
    )
    _refused(
        await put(f"{url}/k123456789", json=1, headers=api.auth()), 422, "property_key_too_long"
    )
    _refused(await put(f"{url}/a%20b", json=1, headers=api.auth()), 422, "invalid_property_key")
    _refused(await put(f"{url}/%C3%A9", json=1, headers=api.auth()), 422, "invalid_property_key")
    assert (await put(f"{url}/a", json=TEXT_30, headers=api.auth())).status_code == 200
    assert (await put(f"{url}/b", json=TEXT_30, headers=api.auth())).status_code == 200
    # a third 30-byte value would make the map 106 bytes of JSON
    _refused(await put(f"{url}/c", json=TEXT_30, headers=api.auth()), 413, "properties_too_large")
    assert (await put(f"{url}/c", json=1, headers=api.auth())).status_code == 200
    _refused(await put(f"{url}/d", json=1, headers=api.auth()), 422, "too_many_properties")
    replaced = await put(f"{url}/c", json=2, headers=api.auth())  # an existing key still works
    assert replaced.json() == {"a": TEXT_30, "b": TEXT_30, "c": 2}


async def test_class_property_limits(limited: Api) -> None:
    created = await limited.create()
    await _limit_cases(limited, f"/api/v1/minigroups/{created['id']}/properties")
    stored = await _stored_class_properties(limited, created["id"])
    assert stored == {"a": TEXT_30, "b": TEXT_30, "c": 2}


async def test_account_property_limits(limited: Api) -> None:
    url = "/api/v1/account/properties"
    await _limit_cases(limited, url)
    for key in ("big", "k123456789", "d"):
        missing = await limited.client.get(f"{url}/{key}", headers=limited.auth())
        assert missing.status_code == 404


async def _create(api: Api, **body: Any) -> Any:
    body = {"scope": "limited", "audience": AUDIENCE, **body}
    return await api.client.post("/api/v1/minigroups", json=body, headers=api.auth(ADMIN))


async def test_create_body_limits_refuse_before_anything_is_made(limited: Api) -> None:
    api = limited
    _refused(await _create(api, scope="s" * 17), 422, "scope_too_long")
    _refused(await _create(api, scope="é" * 9), 422, "scope_too_long")  # 18 bytes of UTF-8
    _refused(await _create(api, tags={"t": "x" * 40}), 413, "tags_too_large")
    _refused(await _create(api, properties={"k" * 9: 1}), 422, "property_key_too_long")
    _refused(await _create(api, properties={"a b": 1}), 422, "invalid_property_key")
    _refused(await _create(api, properties={"v": "x" * 39}), 413, "property_value_too_large")
    four = dict.fromkeys("abcd", 1)
    _refused(await _create(api, properties=four), 422, "too_many_properties")
    wide = dict.fromkeys("abc", TEXT_30)
    _refused(await _create(api, properties=wide), 413, "properties_too_large")
    assert api.faults.calls_to("event", "room.create") == []
    found = await api.client.get(
        f"/api/v1/audiences/{AUDIENCE}/minigroups/limited", headers=api.auth()
    )
    assert found.status_code == 404
    made = await _create(api, scope="s" * 16, tags={"t": "x" * 30}, properties={"a": 1})
    assert made.status_code == 201


async def test_event_limit_refuses_before_the_event_service_is_asked(limited: Api) -> None:
    created = await limited.create()
    url = f"/api/v1/minigroups/{created['id']}/events"
    big = {"type": "message", "data": {"text": "x" * 100}}
    _refused(
        await limited.client.post(url, json=big, headers=limited.auth()), 413, "event_too_large"
    )
    assert limited.faults.calls_to("event", "event.create") == []
    small = {"type": "message", "data": {"text": "hi"}}
    assert (await limited.client.post(url, json=small, headers=limited.auth())).status_code == 201


async def test_the_defaults_hold_without_a_limits_section(api: Api) -> None:
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}/properties"
    over = "x" * (64 * 1024 - 1)  # 64 KiB + 1 byte of JSON
    _refused(
        await api.client.put(f"{url}/v", json=over, headers=api.auth()),
        413,
        "property_value_too_large",
    )
    fits = "x" * (64 * 1024 - 2)
    assert (await api.client.put(f"{url}/v", json=fits, headers=api.auth())).status_code == 200
    _refused(
        await api.client.put(f"{url}/{'k' * 129}", json=1, headers=api.auth()),
        422,
        "property_key_too_long",
    )
    assert (
        await api.client.put(f"{url}/{'k' * 128}", json=1, headers=api.auth())
    ).status_code == 200
