"""The sandbox plays the platform's side of the pipeline: a minigroup goes all the way through."""

from __future__ import annotations

from uuid import UUID

from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from tests.api.conftest import Api
from tests.api.pipeline import ACCOUNTS, Pipeline


async def test_a_finished_minigroup_reaches_transcoded(api: Api) -> None:
    pipeline = Pipeline(api)

    async def emit(topic: str, properties: dict[str, str], payload: str) -> None:
        await api.container.runtime.record(topic, properties, payload)

    accounts = Accounts(ACCOUNTS["event"], ACCOUNTS["conference"], ACCOUNTS["tq"])
    autopilot = SandboxAutopilot(api.sandbox, accounts, emit, upload_delay=0)
    minigroup = await api.create()
    url = f"/api/v1/minigroups/{minigroup['id']}"
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        room = await uow.minigroups.get(UUID(minigroup["id"]))
    assert room is not None
    seen = [(await api.client.get(url, headers=api.auth())).json()["status"]]
    await autopilot.finish(room, participants=3)
    await pipeline.settle()  # the close alone
    seen.append((await api.client.get(url, headers=api.auth())).json()["status"])
    for _ in range(20):
        await pipeline.settle()
        status = (await api.client.get(url, headers=api.auth())).json()["status"]
        if status != seen[-1]:
            seen.append(status)
        if not await autopilot.step():
            break
    assert seen == ["real-time", "closed", "finished", "adjusted", "transcoded"]
    labels = [notification.label for notification in pipeline.published]
    assert labels == ["minigroup.stop", "minigroup.ready"]
    read = (await api.client.get(url, headers=api.auth())).json()
    assert [version["version"] for version in read["on_demand"]] == ["original", "modified"]
    assert read["on_demand"][1]["room_events_uri"].startswith("s3://eventsdump.minigroup.")
    assert (await api.client.get(f"{url}/download", headers=api.auth())).status_code == 200
    (transcode,) = [t for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]
    assert len(transcode.body["bindings"]["streams"]) == 3


async def test_a_committed_edition_is_answered_and_transcoded_again(api: Api) -> None:
    pipeline = Pipeline(api)

    async def emit(topic: str, properties: dict[str, str], payload: str) -> None:
        await api.container.runtime.record(topic, properties, payload)

    accounts = Accounts(ACCOUNTS["event"], ACCOUNTS["conference"], ACCOUNTS["tq"])
    autopilot = SandboxAutopilot(api.sandbox, accounts, emit, upload_delay=0)
    minigroup = await api.create()
    async with api.container.ctx.store.unit_of_work(read_only=True) as uow:
        room = await uow.minigroups.get(UUID(minigroup["id"]))
    assert room is not None
    await autopilot.finish(room)
    for _ in range(20):
        await pipeline.settle()
        if not await autopilot.step():
            break
    url = f"/api/v1/minigroups/{minigroup['id']}"
    read = (await api.client.get(url, headers=api.auth())).json()
    assert read["status"] == "transcoded"
    original = UUID(read["on_demand"][0]["event_room_id"])
    edition = api.sandbox.event.add_edition(original, created_by="web.editor.usr.example.org")
    commit = f"/api/v1/audiences/{room.audience}/classes/{room.scope}/editions/{edition['id']}"
    assert (await api.client.post(commit, headers=api.auth())).status_code == 202
    for _ in range(20):
        await pipeline.settle()
        if not await autopilot.step():
            break
    transcodes = [t for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]
    assert len(transcodes) == 2
    edited = (await api.client.get(url, headers=api.auth())).json()
    assert edited["status"] == "transcoded"
    assert edited["on_demand"][1]["event_room_id"] != read["on_demand"][1]["event_room_id"]
