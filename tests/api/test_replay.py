"""`minigroups events replay` (issue 8): dead letters only unless `--force`, and even a forced
replay of a handled event never moves a minigroup's pipeline backwards."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from minigroups.entrypoints.cli import main
from minigroups.services import inbox_admin
from tests.api.conftest import Api
from tests.api.pipeline import (
    HOUR_MS,
    Pipeline,
    converted,
    deliver_all,
    host,
    modified_room,
    results,
    segments_text,
    uploaded,
    user,
)


async def _transcoded_after_a_second_upload(pipeline: Pipeline) -> tuple[dict[str, Any], UUID]:
    """A minigroup whose authors uploaded twice (new rtcs replace the first ones), then went all
    the way to `transcoded`; the first upload's inbox id."""
    api = pipeline.api
    minigroup = await api.create()
    host(api, minigroup["event_room_id"], user(1))
    first, second = [uuid4(), uuid4()], [uuid4(), uuid4()]
    await uploaded(pipeline, minigroup, first)
    await uploaded(pipeline, minigroup, second)
    for n, rtc in enumerate(second):
        text = segments_text(1_700_000_000_000 - HOUR_MS + n * 60_000, (0, "1500.0"))
        await pipeline.deliver("task.complete", converted(minigroup, rtc, text), source="tq")
    await pipeline.settle()
    modified = modified_room(api, minigroup, [])
    await deliver_all(pipeline, results(minigroup, uuid4(), modified))
    await pipeline.settle()
    uploads = await inbox_admin.list_events(api.container.ctx.store, status="done")
    (first_upload,) = [
        item
        for item in uploads
        if item.label == "room.upload"
        and str(first[0]) in json.loads(item.payload)["rtcs"][0]["id"]
    ]
    return minigroup, first_upload.id


async def _cli(*args: str) -> None:
    await asyncio.to_thread(main, ["events", *args])


async def _read(api: Api, minigroup: dict[str, Any]) -> tuple[str, int]:
    url = f"/api/v1/minigroups/{minigroup['id']}"
    status = (await api.client.get(url, headers=api.auth())).json()["status"]
    download = await api.client.get(f"{url}/download", headers=api.auth())
    return status, download.status_code


async def test_a_forced_replay_of_a_handled_upload_leaves_the_minigroup_transcoded(
    api: Api,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(tmp_path / "cli"))
    pipeline = Pipeline(api)
    minigroup, first_upload = await _transcoded_after_a_second_upload(pipeline)
    assert await _read(api, minigroup) == ("transcoded", 200)
    rtcs = [r.rtc_id for r in await pipeline.recordings(minigroup["id"])]

    with pytest.raises(SystemExit, match=r"already handled.*--force"):
        await _cli("replay", str(first_upload))
    store = api.container.ctx.store
    assert [e.id for e in await inbox_admin.list_events(store, status="pending")] == []

    capsys.readouterr()
    await _cli("replay", str(first_upload), "--force")
    printed = capsys.readouterr()
    assert printed.err.startswith(f"warning: event {first_upload} was already handled")
    assert f"event {first_upload} will be handled again" in printed.out
    assert [e.id for e in await inbox_admin.list_events(store, status="pending")] == [first_upload]
    await pipeline.settle()

    assert await _read(api, minigroup) == ("transcoded", 200)
    recordings = await pipeline.recordings(minigroup["id"])
    assert [r.rtc_id for r in recordings] == rtcs  # the old rtcs did not come back
    assert all(r.transcoded_at is not None and r.adjusted_at is not None for r in recordings)
    assert await inbox_admin.list_events(store, status="dead") == []


async def test_only_dead_letters_are_replayed_without_force(api: Api) -> None:
    store = api.container.ctx.store
    pipeline = Pipeline(api)
    assert await pipeline.deliver("room.upload", "{not json")
    for _ in range(5):
        await pipeline.settle()
    (dead,) = await inbox_admin.list_events(store, status="dead")
    assert await inbox_admin.replay(store, dead.id) is inbox_admin.Replay.REPLAYED
    again = await inbox_admin.replay(store, dead.id)
    assert again is inbox_admin.Replay.ALREADY_PENDING
    assert await inbox_admin.replay(store, uuid4()) is inbox_admin.Replay.UNKNOWN


async def test_a_late_adjust_after_an_edition_does_not_bring_back_the_old_room(api: Api) -> None:
    pipeline = Pipeline(api)
    minigroup = await api.create()
    host(api, minigroup["event_room_id"], user(1))
    rtcs = [uuid4(), uuid4()]
    await uploaded(pipeline, minigroup, rtcs)
    for n, rtc in enumerate(rtcs):
        text = segments_text(1_700_000_000_000 - HOUR_MS + n * 60_000, (0, "1500.0"))
        await pipeline.deliver("task.complete", converted(minigroup, rtc, text), source="tq")
    await pipeline.settle()
    original, modified = uuid4(), modified_room(api, minigroup, [])
    adjust, *rest = results(minigroup, original, modified)
    await deliver_all(pipeline, [adjust, *rest])
    await pipeline.settle()
    committed = modified_room(api, minigroup, [])
    commit = {
        "status": "success",
        "source_room_id": str(original),
        "committed_room_id": str(committed),
        "modified_segments": [],
    }
    await pipeline.deliver("edition.commit", commit, source="event")
    await pipeline.settle()
    await deliver_all(pipeline, [adjust])  # the first adjust, published again
    await pipeline.settle()
    read = await api.client.get(f"/api/v1/minigroups/{minigroup['id']}", headers=api.auth())
    assert read.json()["on_demand"][1]["event_room_id"] == str(committed)
