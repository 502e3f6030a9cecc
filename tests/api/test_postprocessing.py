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


async def _edited_class(api: Api, scope: str, audience: str = MEDIA) -> tuple[str, UUID]:
    """A class whose lesson was adjusted: its original event room exists in the event service."""
    minigroup = await api.create(audience=audience, scope=scope)
    rooms = [
        api.sandbox.event.add_room(
            audience=audience,
            time=[1_700_000_000, 1_700_003_600],
            classroom_id=UUID(minigroup["id"]),
            source_room_id=UUID(minigroup["event_room_id"]),
        )
        for _ in range(2)
    ]
    async with api.container.ctx.store.unit_of_work() as uow:
        await uow.minigroups.record_adjustment(
            UUID(minigroup["id"]), UUID(rooms[0]["id"]), UUID(rooms[1]["id"])
        )
        await uow.commit()
    return minigroup["id"], UUID(rooms[0]["id"])


def _edition_of(api: Api, room_id: UUID | str, created_at: int | None = None) -> str:
    edition = api.sandbox.event.add_edition(
        UUID(str(room_id)), created_by="web.editor.usr.example.org", created_at=created_at
    )
    return str(edition["id"])


def _edition_url(scope: str, edition: str | UUID, audience: str = MEDIA) -> str:
    return f"/api/v1/audiences/{audience}/classes/{scope}/editions/{edition}"


async def test_edition_commit_asks_the_event_service(api: Api) -> None:
    _, original = await _edited_class(api, "edited")
    edition = _edition_of(api, original)
    response = await api.client.post(_edition_url("edited", edition), headers=api.auth())
    assert response.status_code == 202
    assert [call.payload for call in api.faults.calls_to("event", "edition.commit")] == [
        {"id": edition, "offset": 1234}
    ]
    api.faults.fail("event", "edition.commit", status=404)
    failed = await api.client.post(_edition_url("edited", edition), headers=api.auth())
    assert failed.status_code == 502
    assert failed.json()["type"] == "edition_flow_failed"
    unknown = await api.client.post(
        _edition_url("nope", edition, audience=AUDIENCE), headers=api.auth()
    )
    assert unknown.status_code == 404
    assert unknown.json()["type"] == "class_not_found"


async def test_an_edition_of_another_class_is_refused_and_nothing_is_committed(api: Api) -> None:
    mine, _ = await _edited_class(api, "mine")
    _, theirs = await _edited_class(api, "theirs")
    fresh = await api.create(audience=MEDIA, scope="fresh")
    foreign = [
        _edition_of(api, theirs),  # the other class's original room
        _edition_of(api, fresh["event_room_id"]),  # another class's real-time room
        str(uuid4()),  # no edition at all
    ]
    for scope in ("mine", "fresh"):  # adjusted, and not adjusted yet (no original room)
        for edition in foreign:
            response = await api.client.post(_edition_url(scope, edition), headers=api.auth())
            assert response.status_code == 404, (scope, edition)
            assert response.json()["type"] == "edition_not_found"
    assert api.faults.calls_to("event", "edition.commit") == []
    assert api.sandbox.event.pending_results == []
    assert mine


async def test_the_edition_is_looked_for_page_by_page(api: Api) -> None:
    _, original = await _edited_class(api, "paged")
    oldest = _edition_of(api, original, created_at=1_700_000_000)
    for n in range(1, 60):
        _edition_of(api, original, created_at=1_700_000_000 + n)
    response = await api.client.post(_edition_url("paged", oldest), headers=api.auth())
    assert response.status_code == 202
    listed = api.faults.calls_to("event", "edition.list")
    assert [call.payload.get("last_created_at") for call in listed] == [
        None,
        1_700_000_035,
        1_700_000_010,
    ]


async def test_a_failing_edition_list_is_an_edition_flow_failure(api: Api) -> None:
    _, original = await _edited_class(api, "listless")
    edition = _edition_of(api, original)
    api.faults.silence("event", "edition.list")
    response = await api.client.post(_edition_url("listless", edition), headers=api.auth())
    assert response.status_code == 504
    assert response.json()["type"] == "edition_flow_failed"
    assert api.faults.calls_to("event", "edition.commit") == []
