"""R13 restart transcoding (D12) and the edition commit route (contract.md HTTP appendix A)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from tests.api.conftest import AUDIENCE, MEDIA, Api
from tests.api.pipeline import Pipeline, adjusted, modified_room, recorded


@pytest.fixture
def pipeline(api: Api) -> Pipeline:
    return Pipeline(api)


async def _adjusted_minigroup(pipeline: Pipeline) -> tuple[str, UUID]:
    minigroup, _, _ = await recorded(pipeline)
    modified = modified_room(pipeline.api, minigroup, [])
    await pipeline.deliver("room.adjust", adjusted(minigroup, uuid4(), modified), source="event")
    await pipeline.settle()
    return minigroup["id"], modified


def _transcode_tasks(api: Api) -> list[dict[str, object]]:
    return [t.body for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]


async def test_restart_submits_the_task_again_with_the_priority(pipeline: Pipeline) -> None:
    api = pipeline.api
    minigroup_id, modified = await _adjusted_minigroup(pipeline)
    response = await api.client.post(
        f"/api/v1/transcoding/minigroup/{minigroup_id}/restart",
        json={"priority": "high"},
        headers=api.auth(),
    )
    assert response.status_code == 200
    assert response.content == b""
    await pipeline.settle()
    tasks = _transcode_tasks(api)
    assert [task["priority"] for task in tasks] == ["normal", "high"]
    assert tasks[0]["bindings"] == tasks[1]["bindings"]
    dumps = api.faults.calls_to("event", "room.dump_events")
    assert [call.payload for call in dumps] == [{"id": str(modified)}] * 2


async def test_restart_without_a_body_is_normal_priority(pipeline: Pipeline) -> None:
    api = pipeline.api
    minigroup_id, _ = await _adjusted_minigroup(pipeline)
    response = await api.client.post(
        f"/api/v1/transcoding/minigroup/{minigroup_id}/restart", headers=api.auth()
    )
    assert response.status_code == 200
    await pipeline.settle()
    assert [task["priority"] for task in _transcode_tasks(api)] == ["normal", "normal"]


async def test_restart_refuses_an_unknown_priority(pipeline: Pipeline) -> None:
    api = pipeline.api
    minigroup_id, _ = await _adjusted_minigroup(pipeline)
    response = await api.client.post(
        f"/api/v1/transcoding/minigroup/{minigroup_id}/restart",
        json={"priority": "urgent"},
        headers=api.auth(),
    )
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_payload"
    assert "priority" in response.json()["detail"]


async def test_restart_preconditions_are_422_with_a_detail(pipeline: Pipeline) -> None:
    api = pipeline.api
    fresh = await api.create()
    not_adjusted = await api.client.post(
        f"/api/v1/transcoding/minigroup/{fresh['id']}/restart", headers=api.auth()
    )
    assert not_adjusted.status_code == 422
    assert not_adjusted.json() == {
        "type": "transcoding_flow_failed",
        "title": "Transcoding flow failed",
        "detail": "Not adjusted yet",
    }
    minigroup, _, _ = await recorded(pipeline)
    no_host = modified_room(api, minigroup, [])
    await pipeline.deliver("room.adjust", adjusted(minigroup, uuid4(), no_host), source="event")
    await pipeline.settle()
    api.sandbox.event.store.of_room(no_host).clear()  # the host event disappears
    response = await api.client.post(
        f"/api/v1/transcoding/minigroup/{minigroup['id']}/restart", headers=api.auth()
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "No host event in the modified event room"
    missing = await api.client.post(
        f"/api/v1/transcoding/minigroup/{uuid4()}/restart", headers=api.auth()
    )
    assert missing.status_code == 404


async def test_restart_upstream_failure_follows_d6(pipeline: Pipeline) -> None:
    api = pipeline.api
    minigroup_id, _ = await _adjusted_minigroup(pipeline)
    api.faults.silence("event", "event.list")
    response = await api.client.post(
        f"/api/v1/transcoding/minigroup/{minigroup_id}/restart", headers=api.auth()
    )
    assert response.status_code == 504


async def test_edition_commit_asks_the_event_service(api: Api) -> None:
    minigroup = await api.create(audience=MEDIA, scope="edited")
    edition = uuid4()
    url = f"/api/v1/audiences/{MEDIA}/classes/edited/editions/{edition}"
    response = await api.client.post(url, headers=api.auth())
    assert response.status_code == 202
    assert [call.payload for call in api.faults.calls_to("event", "edition.commit")] == [
        {"id": str(edition), "offset": 1234}
    ]
    api.faults.fail("event", "edition.commit", status=404)
    failed = await api.client.post(url, headers=api.auth())
    assert failed.status_code == 502
    assert failed.json()["type"] == "edition_flow_failed"
    unknown = await api.client.post(
        f"/api/v1/audiences/{AUDIENCE}/classes/nope/editions/{edition}", headers=api.auth()
    )
    assert unknown.status_code == 404
    assert minigroup["scope"] == "edited"
