"""The reference's pipeline scenarios (upstream §10) with their exact numbers, as golden tests
of the tq request bodies, the event-service requests and the database state."""

from __future__ import annotations

import time
from uuid import UUID, uuid4

import pytest

from tests.api.conftest import AUDIENCE, MEDIA, Api
from tests.api.pipeline import (
    HOUR_MS,
    Pipeline,
    adjusted,
    converted,
    host,
    modified_room,
    recorded,
    segments_text,
    uploaded,
    user,
)

NS_PER_MS = 1_000_000


@pytest.fixture
def pipeline(api: Api) -> Pipeline:
    return Pipeline(api)


async def test_upload_makes_bare_recordings_and_conversion_tasks(pipeline: Pipeline) -> None:
    """Upstream §10 item 2 (`handle_upload_mjr`)."""
    minigroup = await pipeline.api.create(scope="mg-upload")
    rtc1, rtc2 = uuid4(), uuid4()
    await uploaded(pipeline, minigroup, [rtc1, rtc2])
    recordings = await pipeline.recordings(minigroup["id"])
    assert [(r.rtc_id, r.created_by, r.stream_uri, r.segments) for r in recordings] == [
        (rtc1, user(1), None, None),
        (rtc2, user(2), None, None),
    ]
    tasks = pipeline.api.sandbox.tq.tasks
    assert [task.task_id for task in tasks] == [
        f"convert-mjr-dumps-to-stream-mg-upload-{rtc1}",
        f"convert-mjr-dumps-to-stream-mg-upload-{rtc2}",
    ]
    assert tasks[0].classroom_id == UUID(minigroup["id"])
    assert tasks[0].body == {
        "audience": AUDIENCE,
        "tags": {"scope": "mg-upload", "conference_room_id": minigroup["conference_room_id"]},
        "priority": "normal",
        "template": "convert-mjr-dumps-to-stream",
        "bindings": {
            "mjr_dumps_uris": [f"s3://dumps/{rtc1}-1.mjr", f"s3://dumps/{rtc1}-2.mjr"],
            "stream_uri": f"s3://origin.example.org/{rtc1}.source.webm",
            "stream_id": str(rtc1),
        },
    }
    read = (await pipeline.api.client.get(
        f"/api/v1/minigroups/{minigroup['id']}", headers=pipeline.api.auth()
    )).json()  # fmt: skip
    assert read["status"] == "finished"


async def test_conversions_ask_for_adjust_with_the_host_stream(pipeline: Pipeline) -> None:
    """Upstream §10 item 1 (`handle_upload_stream`): preroll offset 1234, rtc3 unreadable."""
    api = pipeline.api
    minigroup = await api.create(audience=MEDIA, scope="mg-convert")
    host(api, minigroup["event_room_id"], user(1))
    rtc1, rtc2, rtc3 = uuid4(), uuid4(), uuid4()
    await uploaded(pipeline, minigroup, [rtc1, rtc2, rtc3])
    now_ms = int(time.time() * 1000)
    started1, started2 = now_ms - HOUR_MS, now_ms - 50 * 60_000
    text1 = segments_text(started1, (0, "1500.0"), (1_800_000, "1200.0"))
    await pipeline.deliver(
        "task.complete", converted(minigroup, rtc1, text1), source="tq", audience=MEDIA
    )
    await pipeline.settle()
    ready = [r for r in await pipeline.recordings(minigroup["id"]) if r.is_ready]
    assert [(r.rtc_id, r.segments) for r in ready] == [
        (rtc1, [(0, 1_500_000), (1_800_000, 3_000_000)])
    ]
    assert ready[0].stream_uri == f"s3://streams/{rtc1}.webm"
    assert int(ready[0].started_at.timestamp() * 1000) == started1  # type: ignore[union-attr]
    text2 = segments_text(started2, (0, "2700.0"))
    await pipeline.deliver(
        "task.complete", converted(minigroup, rtc2, text2), source="tq", audience=MEDIA
    )
    await pipeline.settle()
    ready = [r for r in await pipeline.recordings(minigroup["id"]) if r.is_ready]
    assert [(r.rtc_id, r.created_by, r.segments) for r in ready] == [
        (rtc1, user(1), [(0, 1_500_000), (1_800_000, 3_000_000)]),
        (rtc2, user(2), [(0, 2_700_000)]),
    ]
    assert api.faults.calls_to("event", "room.adjust") == []  # rtc3 is not converted yet
    await pipeline.deliver(
        "task.complete", converted(minigroup, rtc3, "not,a\nsegment"), source="tq", audience=MEDIA
    )
    await pipeline.settle()
    assert [r.rtc_id for r in await pipeline.recordings(minigroup["id"])] == [rtc1, rtc2]
    assert [call.payload for call in api.faults.calls_to("event", "room.adjust")] == [
        {
            "id": minigroup["event_room_id"],
            "started_at": started1,
            "segments": [[0, 1_500_000], [1_800_000, 3_000_000]],
            "offset": 1234,
        }
    ]


async def test_adjust_result_submits_the_transcoding_task(pipeline: Pipeline) -> None:
    """Upstream §10 item 3 (`handle_adjust`) and the §6.13 tq request, field by field."""
    api = pipeline.api
    minigroup, rtc1, rtc2 = await recorded(pipeline, tags={"foo": "bar"})
    original = uuid4()
    modified = modified_room(api, minigroup, [(1, 0), (2, 1200 * 10**9), (1, 1500 * 10**9)])
    await pipeline.deliver("room.adjust", adjusted(minigroup, original, modified), source="event")
    await pipeline.settle()

    (task,) = [t for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]
    assert task.task_id == "transcode-minigroup-to-hls-minigroup-abc"
    assert task.classroom_id == UUID(minigroup["id"])
    assert task.body == {
        "audience": AUDIENCE,
        "tags": {"foo": "bar", "conference_room_id": minigroup["conference_room_id"]},
        "priority": "normal",
        "template": "transcode-minigroup-to-hls",
        "bindings": {
            "streams": [
                {
                    "id": str(rtc1),
                    "uri": f"s3://streams/{rtc1}.webm",
                    "offset": 0,
                    "segments": [[0, 1_500_000], [1_800_000, 3_000_000]],
                    "modified_segments": [[3000, 1_500_000], [1_800_000, 3_000_000]],
                    "pin_segments": [[0, 1_200_000], [1_500_000, 3_000_000]],
                    "video_mute_segments": [],
                    "audio_mute_segments": [],
                },
                {
                    "id": str(rtc2),
                    "uri": f"s3://streams/{rtc2}.webm",
                    "offset": 600_000,
                    "segments": [[0, 2_700_000]],
                    "modified_segments": [[0, 2_700_000]],
                    "pin_segments": [[600_000, 900_000]],
                    "video_mute_segments": [],
                    "audio_mute_segments": [],
                },
            ],
            "host_stream_id": str(rtc1),
        },
    }
    assert [c.payload for c in api.faults.calls_to("event", "room.dump_events")] == [
        {"id": str(modified)}
    ]
    recordings = await pipeline.recordings(minigroup["id"])
    assert all(r.adjusted_at is not None for r in recordings)
    assert recordings[0].modified_segments == [(3000, 1_500_000), (1_800_000, 3_000_000)]
    assert recordings[1].modified_segments == [(0, 2_700_000)]
    read = (
        await api.client.get(f"/api/v1/minigroups/{minigroup['id']}", headers=api.auth())
    ).json()
    assert read["status"] == "adjusted"
    assert read["on_demand"] == [
        {"version": "original", "event_room_id": str(original), "stream_id": str(rtc1),
         "tags": {"foo": "bar"}}
    ]  # fmt: skip


async def test_pin_then_unpin_gives_one_pin_segment(pipeline: Pipeline) -> None:
    """Upstream §10 item 4 (`handle_adjust_with_pin_and_unpin`)."""
    api = pipeline.api
    minigroup, _, _ = await recorded(pipeline)
    modified = modified_room(api, minigroup, [(1, 0), (None, 1000 * 10**9)])
    await pipeline.deliver("room.adjust", adjusted(minigroup, uuid4(), modified), source="event")
    await pipeline.settle()
    (task,) = [t for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]
    streams = task.body["bindings"]["streams"]
    assert [stream["pin_segments"] for stream in streams] == [[[0, 1_000_000]], []]


async def test_edition_commit_gives_the_host_empty_modified_segments(pipeline: Pipeline) -> None:
    """Upstream §6.7 with D20 (the reference's behaviour, kept)."""
    api = pipeline.api
    minigroup, _, _ = await recorded(pipeline)
    original = uuid4()
    first = modified_room(api, minigroup, [])
    await pipeline.deliver("room.adjust", adjusted(minigroup, original, first), source="event")
    await pipeline.settle()
    committed = modified_room(api, minigroup, [])
    commit = {
        "status": "success",
        "source_room_id": str(original),
        "committed_room_id": str(committed),
        "modified_segments": [[0, 200], [800, 4000]],
    }
    await pipeline.deliver("edition.commit", commit, source="event")
    await pipeline.settle()
    tasks = [t for t in api.sandbox.tq.tasks if t.task_id.startswith("transcode")]
    assert len(tasks) == 2
    streams = tasks[-1].body["bindings"]["streams"]
    assert [stream["modified_segments"] for stream in streams] == [[], [[0, 2_700_000]]]


async def test_transcoding_completion_publishes_ready(pipeline: Pipeline) -> None:
    """Upstream §10 item 5 (`handle_transcoding_completion`), then the status and versions read."""
    api = pipeline.api
    minigroup, rtc1, _ = await recorded(pipeline, tags={"foo": "bar"})
    original = uuid4()
    modified = modified_room(api, minigroup, [])
    await pipeline.deliver("room.adjust", adjusted(minigroup, original, modified), source="event")
    await pipeline.settle()  # the dump is requested once the adjust is stored
    dump = {
        "status": "success",
        "tags": {"foo": "bar"},
        "result": {
            "room_id": str(modified),
            "s3_uri": f"s3://eventsdump.minigroup/{modified}.json",
        },
    }
    await pipeline.deliver("room.dump_events", dump, source="event")
    transcoded = {
        "tags": {"foo": "bar", "conference_room_id": minigroup["conference_room_id"]},
        "status": "success",
        "template": "transcode-minigroup-to-hls",
        "recording_duration": "3000.0",
    }
    await pipeline.deliver("task.complete", transcoded, source="tq")
    await pipeline.settle()

    assert all(r.transcoded_at is not None for r in await pipeline.recordings(minigroup["id"]))
    ready = [n for n in pipeline.published if n.label == "minigroup.ready"]
    assert [(n.audience, n.payload) for n in ready] == [
        (
            AUDIENCE,
            {
                "tags": {"foo": "bar"},
                "scope": "minigroup-abc",
                "id": minigroup["id"],
                "status": "success",
                "stream_duration": 3000,
            },
        )
    ]
    url = f"/api/v1/minigroups/{minigroup['id']}"
    await api.client.post(f"{url}/timestamps", json={"position": 42}, headers=api.auth())
    read = (await api.client.get(url, headers=api.auth())).json()
    assert read["status"] == "transcoded"
    assert read["position"] == 42
    assert read["on_demand"][1] == {
        "version": "modified",
        "event_room_id": str(modified),
        "stream_id": str(rtc1),
        "tags": {"foo": "bar"},
        "room_events_uri": f"s3://eventsdump.minigroup/{modified}.json",
    }
    download = await api.client.get(f"{url}/download", headers=api.auth())
    assert download.status_code == 200


async def test_close_ends_the_minigroup_and_publishes_stop(pipeline: Pipeline) -> None:
    """Upstream §6.1: time end lowered to now, `timed_out` kept, `minigroup.stop` broadcast."""
    api = pipeline.api
    minigroup = await api.create(scope="closing", tags={"foo": "bar"}, time=[1700000000, None])
    close = {"id": minigroup["conference_room_id"], "audience": AUDIENCE,
             "time": [1700000000, None], "timed_out": True}  # fmt: skip
    before = int(time.time())
    await pipeline.deliver("room.close", close)
    await pipeline.settle()
    read = (
        await api.client.get(f"/api/v1/minigroups/{minigroup['id']}", headers=api.auth())
    ).json()
    assert read["status"] == "closed"
    assert read["timed_out"] is True
    row = (
        await api.client.put(f"/api/v1/minigroups/{minigroup['id']}", json={}, headers=api.auth())
    ).json()
    assert row["time"][0] == 1700000000
    assert before <= row["time"][1] <= int(time.time())
    assert [(n.label, n.payload) for n in pipeline.published] == [
        ("minigroup.stop", {"tags": {"foo": "bar"}, "scope": "closing", "id": minigroup["id"]})
    ]
