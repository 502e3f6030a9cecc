"""Issue 4, item 2: one minigroup through the whole pipeline, over a real broker.

The service is a real `minigroups serve --config` process (upstream = "ulms", PostgreSQL) that
subscribes the shared lifecycle topics. The platform around it is simulated on the same broker:
the conference and the event service answer requests (`BrokerPeers`), tq takes tasks over HTTP
(`TqServer`), and the autopilot publishes each lifecycle event a peer would, one stage at a time,
so that every stage is seen on its own.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from minigroups.adapters.sandbox.autopilot import Emit
from minigroups.domain.tasks import CONVERT_TEMPLATE as CONVERT
from minigroups.domain.tasks import TRANSCODE_TEMPLATE as TRANSCODE
from tests.integration.pipeline.conftest import Credentials
from tests.integration.pipeline.support import (
    NOTIFICATIONS,
    RECORDING_MS,
    Platform,
    ServiceApi,
    eventually,
)
from tests.integration.ulms.processes import AUDIENCE, serve, stop, wait_ready, write_config

TAGS = {"foo": "bar"}


def timing_out(emit: Emit) -> Emit:
    """The conference closed an orphaned room by timeout: `timed_out: true` (upstream §6.1)."""

    async def publish(topic: str, properties: dict[str, str], payload: str) -> None:
        if properties["label"] == "room.close":
            payload = json.dumps({**json.loads(payload), "timed_out": True})
        await emit(topic, properties, payload)

    return publish


def check_envelope(platform: Platform, label: str) -> dict[str, Any]:
    """The one broadcast of `label`: its topic, its exact properties; returns its payload."""
    (notice,) = platform.notified(label)
    assert notice.topic == NOTIFICATIONS.replace("+", AUDIENCE)
    assert notice.properties.keys() == {"type", "label", "timestamp"}
    assert notice.properties["type"] == "event"
    assert notice.properties["timestamp"].isdigit()
    return notice.payload


@pytest.mark.slow
async def test_a_minigroup_goes_from_real_time_to_transcoded_through_peers_on_the_broker(
    platform: Platform, credentials: Credentials, postgres_url: str, tmp_path: Any
) -> None:
    config = write_config(
        tmp_path,
        "alpha",
        platform.broker,
        credentials.secret,
        credentials.key,
        database_url=postgres_url,
        tq_base_url=platform.tq.base_url,
    )
    served = serve(config, "alpha")
    try:
        await wait_ready(served)
        async with ServiceApi(served, credentials.secret) as api:
            await _walk_through(api, platform)
    finally:
        await stop(served)


async def _walk_through(api: ServiceApi, platform: Platform) -> None:
    created = await api.create("lesson-e2e", tags=TAGS)
    minigroup_id, scope = created["id"], created["scope"]
    saved = await api.client.post(
        f"/api/v1/minigroups/{minigroup_id}/timestamps", json={"position": 42}, headers=api.auth()
    )
    assert saved.status_code == 201
    read = await api.read(minigroup_id)
    assert read["status"] == "real-time"
    assert "position" not in read  # shown once transcoded
    tq, autopilot = platform.sandbox.tq, platform.autopilot

    # close -> minigroup.stop on apps/<own account>/api/v1/audiences/<audience>/events, `closed`
    autopilot.emit = timing_out(platform.emit)
    await platform.finish(created, participants=2)
    await eventually(lambda: platform.notified("minigroup.stop"))
    stop_payload = check_envelope(platform, "minigroup.stop")
    assert stop_payload == {"tags": TAGS, "scope": scope, "id": minigroup_id}
    read = await api.read(minigroup_id)
    assert (read["status"], read["timed_out"]) == ("closed", True)

    # upload -> recordings and one convert task per recording at tq
    await autopilot.step()
    await eventually(lambda: len(tq.tasks) == 2)
    assert {task.body["template"] for task in tq.tasks} == {CONVERT}
    assert {str(task.classroom_id) for task in tq.tasks} == {minigroup_id}
    streams = [task.body["bindings"]["stream_id"] for task in tq.tasks]
    assert len(set(streams)) == 2
    await eventually(lambda: _status(api, minigroup_id, "finished"))
    assert (await api.read(minigroup_id))["real_time"]["rtc_id"] in streams

    # conversions -> room.adjust asked of the event service, with the host's recording
    await autopilot.step()
    await eventually(lambda: platform.peers.requests_to("event", "room.adjust"))
    (adjust,) = platform.peers.requests_to("event", "room.adjust")
    assert adjust.payload["id"] == created["event_room_id"]
    assert adjust.payload["segments"] == [[0, RECORDING_MS]]

    # adjust result -> the tq transcoding task (and the dump request)
    await autopilot.step()
    await eventually(lambda: len(tq.tasks) == 3)
    transcode = tq.tasks[-1]
    assert transcode.body["template"] == TRANSCODE
    assert str(transcode.classroom_id) == minigroup_id
    # The host (the first author) uploaded the first rtc; the relay sends the two conversion
    # tasks concurrently, so tq may have received them in either order.
    (upload,) = [json.loads(p) for _, m, p in platform.published if m["label"] == "room.upload"]
    assert transcode.body["bindings"]["host_stream_id"] == upload["rtcs"][0]["id"]
    assert len(transcode.body["bindings"]["streams"]) == 2
    await eventually(lambda: platform.peers.requests_to("event", "room.dump_events"))
    await eventually(lambda: _status(api, minigroup_id, "adjusted"))

    # dump result -> room_events_uri; transcoding complete -> minigroup.ready, `transcoded`
    await autopilot.step()
    await eventually(lambda: platform.notified("minigroup.ready"))
    ready_payload = check_envelope(platform, "minigroup.ready")
    assert ready_payload == {
        "id": minigroup_id,
        "scope": scope,
        "tags": TAGS,
        "status": "success",
        "stream_duration": RECORDING_MS // 1000,
    }
    await eventually(lambda: _status(api, minigroup_id, "transcoded"))
    await _check_transcoded(api, platform, minigroup_id)


async def _check_transcoded(api: ServiceApi, platform: Platform, minigroup_id: str) -> None:
    (dump,) = platform.peers.requests_to("event", "room.dump_events")
    modified_room = dump.payload["id"]
    expected_uri = f"s3://eventsdump.minigroup.{AUDIENCE}/{modified_room}.json"

    async def dumped() -> bool:
        versions = (await api.read(minigroup_id))["on_demand"]
        return bool(versions[1].get("room_events_uri") == expected_uri)

    await eventually(dumped)
    read = await api.read(minigroup_id)
    versions = read["on_demand"]
    assert [version["version"] for version in versions] == ["original", "modified"]
    assert versions[1]["event_room_id"] == modified_room
    assert read["position"] == 42
    download = await api.client.get(
        f"/api/v1/minigroups/{minigroup_id}/download", headers=api.auth()
    )
    assert download.status_code == 200
    assert download.json()["url"].startswith("https://storage.example.com/")


async def _status(api: ServiceApi, minigroup_id: str, status: str) -> bool:
    return bool((await api.read(minigroup_id)).get("status") == status)
