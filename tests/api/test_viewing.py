"""R5 viewing positions (D10) and R10 download links (D11)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import AUDIENCE, STORAGE, Api
from tests.api.helpers import add_recording, ago


async def _transcoded(api: Api, scope: str = "lesson 42") -> dict[str, Any]:
    created = await api.create(scope=scope)
    await add_recording(api, created["id"], transcoded_at=ago(1))
    return created


@pytest.mark.parametrize(("position", "shown"), [(50, 50), (0, 0), (10**30, 86400), (86401, 86400)])
async def test_positions_are_clamped_and_shown_when_transcoded(
    api: Api, position: int, shown: int
) -> None:
    created = await _transcoded(api)
    url = f"/api/v1/minigroups/{created['id']}"
    saved = await api.client.post(
        f"{url}/timestamps", json={"position": position}, headers=api.auth()
    )
    assert saved.status_code == 201
    assert saved.content == b""
    assert (await api.client.get(url, headers=api.auth())).json()["position"] == shown


async def test_position_is_not_shown_before_transcoding(api: Api) -> None:
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}"
    saved = await api.client.post(f"{url}/timestamps", json={"position": 5}, headers=api.auth())
    assert saved.status_code == 201
    assert "position" not in (await api.client.get(url, headers=api.auth())).json()


@pytest.mark.parametrize(
    "body",
    [{"position": -1}, {"position": 12.0}, {"position": 1e3}, {"position": "5"}, {"position": None},
     {}, {"position": True}],
)  # fmt: skip
async def test_invalid_positions_are_400(api: Api, body: dict[str, Any]) -> None:
    created = await api.create()
    response = await api.client.post(
        f"/api/v1/minigroups/{created['id']}/timestamps", json=body, headers=api.auth()
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_payload"
    assert "position" in response.json()["detail"]


async def test_download_url_once_every_recording_is_transcoded(api: Api) -> None:
    created = await _transcoded(api)
    response = await api.client.get(
        f"/api/v1/minigroups/{created['id']}/download", headers=api.auth()
    )
    assert response.status_code == 200
    assert response.json() == {
        "url": f"{STORAGE}/api/v2/backends/yandex/sets/"
        f"ms.webinar.{AUDIENCE}::lesson%2042/objects/mp4"
    }


async def test_download_without_recordings_or_transcoding_is_404(api: Api) -> None:
    created = await api.create()
    url = f"/api/v1/minigroups/{created['id']}/download"
    none = await api.client.get(url, headers=api.auth())
    assert none.status_code == 404  # D11
    assert none.json()["type"] == "recording_not_found"
    await add_recording(api, created["id"], transcoded_at=ago(1))
    await add_recording(api, created["id"], created_by="web.user2.usr.example.org")
    pending = await api.client.get(url, headers=api.auth())
    assert pending.status_code == 404
    assert pending.json()["detail"] == "Minigroup recordings were not transcoded"
