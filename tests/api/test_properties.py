"""R6/R7 class properties, R14/R15 account properties, D16 atomic writes."""

from __future__ import annotations

import asyncio

from tests.api.conftest import Api


async def test_class_property_round_trip(api: Api) -> None:
    created = await api.create(properties={"test1": "test2", "nothing": None})
    url = f"/api/v1/minigroups/{created['id']}/properties"
    read = await api.client.get(f"{url}/test1", headers=api.auth())
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/json"
    assert read.json() == "test2"
    null = await api.client.get(f"{url}/nothing", headers=api.auth())
    assert null.status_code == 200
    assert null.content == b"null"
    written = await api.client.put(f"{url}/test1", json="test3", headers=api.auth())
    assert written.status_code == 200
    assert written.json() == {"test1": "test3", "nothing": None}
    nested = await api.client.put(
        f"{url}/a%2Eb%3Ac-d_e", json={"deep": [1, {"x": None}]}, headers=api.auth()
    )
    assert nested.json()["a.b:c-d_e"] == {"deep": [1, {"x": None}]}
    again = await api.client.get(f"{url}/a.b:c-d_e", headers=api.auth())
    assert again.json() == {"deep": [1, {"x": None}]}
    outside = await api.client.put(f"{url}/a%2Fb c", json=1, headers=api.auth())
    assert outside.status_code == 422  # `[limits] property_key_pattern`
    assert outside.json()["type"] == "invalid_property_key"


async def test_missing_class_property_and_class(api: Api) -> None:
    created = await api.create()
    missing = await api.client.get(
        f"/api/v1/minigroups/{created['id']}/properties/none", headers=api.auth()
    )
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "class_property_not_found",
        "title": "Class property not found",
    }
    no_class = await api.client.put(
        "/api/v1/minigroups/00000000-0000-4000-8000-000000000000/properties/x",
        json=1,
        headers=api.auth(),
    )
    assert no_class.status_code == 404
    assert no_class.json()["detail"] == "Failed to find class"
    bad_json = await api.client.put(
        f"/api/v1/minigroups/{created['id']}/properties/x",
        content=b"{",
        headers={**api.auth(), "content-type": "application/json"},
    )
    assert bad_json.status_code == 400


async def test_fifty_concurrent_writers_to_different_keys_all_keep_their_key(api: Api) -> None:
    """D16."""
    created = await api.create(properties={"seed": 0})
    url = f"/api/v1/minigroups/{created['id']}/properties"
    responses = await asyncio.gather(
        *(api.client.put(f"{url}/key{i}", json=i, headers=api.auth()) for i in range(50))
    )
    assert {response.status_code for response in responses} == {200}
    final = await api.client.put(f"{url}/last", json=True, headers=api.auth())
    assert final.json() == {"seed": 0, "last": True} | {f"key{i}": i for i in range(50)}


async def test_account_properties(api: Api) -> None:
    url = "/api/v1/account/properties"
    none_yet = await api.client.get(f"{url}/x", headers=api.auth("fresh"))
    assert none_yet.status_code == 404
    assert none_yet.json()["type"] == "account_not_found"
    first = await api.client.put(f"{url}/a", json={"v": 1}, headers=api.auth())
    assert first.status_code == 200
    assert first.json() == {"a": {"v": 1}}
    second = await api.client.put(f"{url}/b", json=[1], headers=api.auth())
    assert second.json() == {"a": {"v": 1}, "b": [1]}  # merged
    replaced = await api.client.put(f"{url}/a", json={"w": 2}, headers=api.auth())
    assert replaced.json() == {"a": {"w": 2}, "b": [1]}  # replaced wholesale, no deep merge
    read = await api.client.get(f"{url}/a", headers=api.auth())
    assert read.json() == {"w": 2}
    missing = await api.client.get(f"{url}/zzz", headers=api.auth())
    assert missing.status_code == 404
    assert missing.json()["type"] == "account_property_not_found"
    other = await api.client.get(f"{url}/a", headers=api.auth("someone-else"))
    assert other.status_code == 404  # accounts are per caller


async def test_fifty_concurrent_account_writers_keep_every_key(api: Api) -> None:
    url = "/api/v1/account/properties"
    responses = await asyncio.gather(
        *(api.client.put(f"{url}/k{i}", json=i, headers=api.auth("busy")) for i in range(50))
    )
    assert {response.status_code for response in responses} == {200}
    final = await api.client.put(f"{url}/done", json=1, headers=api.auth("busy"))
    assert final.json() == {"done": 1} | {f"k{i}": i for i in range(50)}
