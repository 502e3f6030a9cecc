"""Bodies of the tq tasks for a minigroup's recordings (contract.md upstream §5.1, HTTP §7.4)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple
from uuid import UUID

from minigroups.domain.errors import InvalidPayload
from minigroups.domain.json_value import JsonObject, JsonValue
from minigroups.domain.minigroup import Minigroup
from minigroups.domain.streams import Stream, stream_binding

CONVERT_TEMPLATE = "convert-mjr-dumps-to-stream"
TRANSCODE_TEMPLATE = "transcode-minigroup-to-hls"


class Priority(Enum):
    """A tq task priority; serialised in lower case."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class AudienceMedia:
    """An audience's transcoding extras (`tq_client.audience_settings.<audience>`)."""

    preroll: str
    postroll: str
    watermark: str
    preroll_offset: int  # ms between the event room's opening and the host's recording start
    to: str | None = None


class TqTask(NamedTuple):
    """A task to create: its id in the URL and its JSON body."""

    task_id: str
    body: JsonObject


def parse_priority(value: object, field: str = "priority") -> Priority:
    """`low`, `normal` or `high` exactly; anything else is `InvalidPayload` (D12)."""
    if isinstance(value, str):
        for priority in Priority:
            if priority.value == value:
                return priority
    choices = ", ".join(f"`{priority.value}`" for priority in Priority)
    raise InvalidPayload(f"`{field}` must be one of {choices}")


def task_tags(minigroup: Minigroup) -> JsonValue:
    """The class tags (or `{"scope"}`), with `conference_room_id` added when they are an object.

    Non-object tags get nothing added, as in the reference: tq's answer cannot be matched then.
    """
    tags = {"scope": minigroup.scope} if minigroup.tags is None else copy.deepcopy(minigroup.tags)
    if isinstance(tags, dict):
        tags["conference_room_id"] = str(minigroup.conference_room_id)
    return tags


def convert_task(
    minigroup: Minigroup,
    *,
    stream_id: UUID,
    stream_uri: str,
    mjr_dumps_uris: Sequence[str],
    audience_settings: AudienceMedia | None,
) -> TqTask:
    """Convert one rtc's dumps into a stream (upstream §6.2 step 5); always normal priority."""
    bindings: JsonObject = {
        "mjr_dumps_uris": list(mjr_dumps_uris),
        "stream_uri": stream_uri,
        "stream_id": str(stream_id),
    }
    if audience_settings is not None and audience_settings.to is not None:
        bindings["to"] = audience_settings.to
    task_id = f"{CONVERT_TEMPLATE}-{minigroup.scope}-{stream_id}"
    return TqTask(task_id, _body(minigroup, CONVERT_TEMPLATE, Priority.NORMAL, bindings))


def transcode_task(
    minigroup: Minigroup,
    streams: Sequence[Stream],
    host_stream_id: UUID,
    *,
    priority: Priority,
    audience_settings: AudienceMedia | None,
) -> TqTask:
    """Transcode all streams into one HLS recording (contract.md HTTP §7.4 step 10)."""
    bindings: JsonObject = {
        "streams": [stream_binding(stream) for stream in streams],
        "host_stream_id": str(host_stream_id),
    }
    if audience_settings is not None:
        if audience_settings.to is not None:
            bindings["to"] = audience_settings.to
        bindings["preroll"] = audience_settings.preroll
        bindings["postroll"] = audience_settings.postroll
        bindings["watermark"] = audience_settings.watermark
    task_id = f"{TRANSCODE_TEMPLATE}-{minigroup.scope}"
    return TqTask(task_id, _body(minigroup, TRANSCODE_TEMPLATE, priority, bindings))


def _body(
    minigroup: Minigroup, template: str, priority: Priority, bindings: JsonObject
) -> JsonObject:
    return {
        "audience": minigroup.audience,
        "tags": task_tags(minigroup),
        "priority": priority.value,
        "template": template,
        "bindings": bindings,
    }
