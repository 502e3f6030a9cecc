"""contract.md upstream §5.1, §6.13 and HTTP §7.4 step 10: tq task ids, bodies, tags, priorities."""

from __future__ import annotations

from datetime import timedelta

import pytest

from minigroups.adapters.peers.tq import task_url
from minigroups.domain.errors import InvalidPayload
from minigroups.domain.json_value import JsonObject
from minigroups.domain.minigroup import Segments
from minigroups.domain.streams import build_streams
from minigroups.domain.tasks import (
    AudienceMedia,
    Priority,
    TqTask,
    convert_task,
    parse_priority,
    task_tags,
    transcode_task,
)
from tests.unit.pipeline.support import (
    AUDIENCE,
    CLASS_ID,
    CONFERENCE_ROOM_ID,
    NOW,
    RTC1,
    RTC2,
    SCOPE,
    USER1,
    USER2,
    minigroup,
    pin,
    recording,
    stream_uri_of,
)

MEDIA = AudienceMedia(
    preroll="s3://apps-data/dev/defaults/tenant/preroll.mp4",
    postroll="s3://apps-data/dev/defaults/tenant/postroll.mp4",
    watermark="s3://apps-data/dev/defaults/tenant/watermark.png",
    preroll_offset=0,
)
CUT: Segments = [(3000, 1_500_000), (1_800_000, 3_000_000)]


def _handle_adjust_task(media: AudienceMedia | None) -> TqTask:
    """Upstream §10 item 3 end to end in the pure part: streams, then the transcoding task."""
    rec1 = recording(
        RTC1,
        USER1,
        started_at=NOW - timedelta(hours=1),
        segments=[(0, 1_500_000), (1_800_000, 3_000_000)],
        modified_segments=CUT,
    )
    rec2 = recording(
        RTC2,
        USER2,
        started_at=NOW - timedelta(minutes=50),
        segments=[(0, 2_700_000)],
        modified_segments=[(0, 2_700_000)],
        created=1,
    )
    pins = [pin(USER1, 0), pin(USER2, 1_200_000_000_000), pin(USER1, 1_500_000_000_000)]
    streams = build_streams([rec1, rec2], rec1, preroll_offset=0, pins=pins, snapshots=[])
    return transcode_task(
        minigroup(tags={"foo": "bar"}),
        streams,
        rec1.rtc_id,
        priority=Priority.NORMAL,
        audience_settings=media,
    )


def _expected_streams() -> list[JsonObject]:
    return [
        {
            "id": str(RTC1),
            "uri": stream_uri_of(RTC1),
            "offset": 0,
            "segments": [[0, 1_500_000], [1_800_000, 3_000_000]],
            "modified_segments": [[3000, 1_500_000], [1_800_000, 3_000_000]],
            "pin_segments": [[0, 1_200_000], [1_500_000, 3_000_000]],
            "video_mute_segments": [],
            "audio_mute_segments": [],
        },
        {
            "id": str(RTC2),
            "uri": stream_uri_of(RTC2),
            "offset": 600_000,
            "segments": [[0, 2_700_000]],
            "modified_segments": [[0, 2_700_000]],
            "pin_segments": [[600_000, 900_000]],
            "video_mute_segments": [],
            "audio_mute_segments": [],
        },
    ]


def test_handle_adjust_task_with_audience_settings() -> None:
    """Upstream §10 item 3 and the §6.13 tq request after adjust."""
    task_id, body = _handle_adjust_task(MEDIA)

    assert task_id == "transcode-minigroup-to-hls-minigroup-abc"
    assert task_url("http://tq-cluster:3000/", AUDIENCE, task_id, CLASS_ID) == (
        "http://tq-cluster:3000/api/v1/audiences/dev.usr.example.com/tasks/"
        f"transcode-minigroup-to-hls-minigroup-abc/classrooms/{CLASS_ID}"
    )
    assert body["audience"] == AUDIENCE
    assert body["tags"] == {"foo": "bar", "conference_room_id": str(CONFERENCE_ROOM_ID)}
    assert body["priority"] == "normal"
    assert body["template"] == "transcode-minigroup-to-hls"
    assert body["bindings"] == {
        "streams": _expected_streams(),
        "host_stream_id": str(RTC1),
        "preroll": MEDIA.preroll,
        "postroll": MEDIA.postroll,
        "watermark": MEDIA.watermark,
    }
    assert set(body) == {"audience", "tags", "priority", "template", "bindings"}


def test_handle_adjust_task_without_audience_settings() -> None:
    task_id, body = _handle_adjust_task(None)

    assert task_id == "transcode-minigroup-to-hls-minigroup-abc"
    assert body == {
        "audience": AUDIENCE,
        "tags": {"foo": "bar", "conference_room_id": str(CONFERENCE_ROOM_ID)},
        "priority": "normal",
        "template": "transcode-minigroup-to-hls",
        "bindings": {"streams": _expected_streams(), "host_stream_id": str(RTC1)},
    }


def test_transcode_task_carries_to_and_the_requested_priority() -> None:
    media = AudienceMedia("p", "q", "w", 1234, to="archive")

    _, body = transcode_task(minigroup(), [], RTC1, priority=Priority.HIGH, audience_settings=media)

    assert body["priority"] == "high"
    assert body["bindings"] == {
        "streams": [],
        "host_stream_id": str(RTC1),
        "to": "archive",
        "preroll": "p",
        "postroll": "q",
        "watermark": "w",
    }


def test_convert_task_of_6_2() -> None:
    dumps = ["s3://b/k1.mjr", "s3://b/k2.mjr"]
    uri = f"s3://origin.webinar.dev.usr.example.com/{CLASS_ID}/{RTC1}.source.webm"

    task_id, body = convert_task(
        minigroup(),
        stream_id=RTC1,
        stream_uri=uri,
        mjr_dumps_uris=dumps,
        audience_settings=MEDIA,
    )

    assert task_id == f"convert-mjr-dumps-to-stream-minigroup-abc-{RTC1}"
    assert body == {
        "audience": AUDIENCE,
        "tags": {"scope": SCOPE, "conference_room_id": str(CONFERENCE_ROOM_ID)},
        "priority": "normal",
        "template": "convert-mjr-dumps-to-stream",
        "bindings": {"mjr_dumps_uris": dumps, "stream_uri": uri, "stream_id": str(RTC1)},
    }
    assert body["bindings"]["mjr_dumps_uris"] is not dumps


def test_convert_task_takes_only_to_from_the_audience() -> None:
    media = AudienceMedia("p", "q", "w", 0, to="archive")

    _, body = convert_task(
        minigroup(), stream_id=RTC1, stream_uri="u", mjr_dumps_uris=[], audience_settings=media
    )

    assert body["bindings"] == {
        "mjr_dumps_uris": [],
        "stream_uri": "u",
        "stream_id": str(RTC1),
        "to": "archive",
    }


def test_tags_default_to_the_scope() -> None:
    assert task_tags(minigroup()) == {
        "scope": SCOPE,
        "conference_room_id": str(CONFERENCE_ROOM_ID),
    }


def test_object_tags_get_the_room_id_on_a_copy() -> None:
    tags = {"foo": {"bar": 1}}
    group = minigroup(tags=tags)

    result = task_tags(group)

    assert result == {"foo": {"bar": 1}, "conference_room_id": str(CONFERENCE_ROOM_ID)}
    assert tags == {"foo": {"bar": 1}}
    result["foo"]["bar"] = 2
    assert group.tags == {"foo": {"bar": 1}}


@pytest.mark.parametrize("tags", [["a", "b"], "tag", 7, True])
def test_non_object_tags_get_nothing_added(tags: object) -> None:
    assert task_tags(minigroup(tags=tags)) == tags


def test_empty_object_tags_stay_an_object() -> None:
    assert task_tags(minigroup(tags={})) == {"conference_room_id": str(CONFERENCE_ROOM_ID)}


@pytest.mark.parametrize(
    ("value", "priority"),
    [("low", Priority.LOW), ("normal", Priority.NORMAL), ("high", Priority.HIGH)],
)
def test_known_priorities_parse(value: str, priority: Priority) -> None:
    assert parse_priority(value) is priority
    assert priority.value == value


@pytest.mark.parametrize("value", ["urgent", "HIGH", " low", "", None, 1, ["low"], {"p": 1}])
def test_unknown_priorities_are_invalid_payload(value: object) -> None:
    """D12: the reference silently used `normal`."""
    with pytest.raises(InvalidPayload, match="`priority` must be one of"):
        parse_priority(value)
