"""From a recorded event to the use case that handles it."""

from __future__ import annotations

import logging

from minigroups.ports import InboxItem
from minigroups.services.context import Context
from minigroups.services.inbox import ignore_event
from minigroups.services.pipeline.adjusting import handle_room_adjusted
from minigroups.services.pipeline.closing import handle_room_closed
from minigroups.services.pipeline.completion import (
    handle_events_dumped,
    handle_task_failed,
    handle_transcoded,
)
from minigroups.services.pipeline.events import (
    EventsDumped,
    LifecycleDecoder,
    MinigroupTranscoded,
    RoomAdjusted,
    RoomClosed,
    RoomUploaded,
    StreamConverted,
    TaskFailed,
)
from minigroups.services.pipeline.uploads import handle_room_uploaded, handle_stream_converted

log = logging.getLogger(__name__)


async def handle(ctx: Context, decoder: LifecycleDecoder, item: InboxItem) -> None:
    """Decode and handle; the handler marks the item done in its final unit of work."""
    event = decoder.decode(item.label, item.source, item.payload)
    match event:
        case RoomClosed():
            await handle_room_closed(ctx, item, event)
        case RoomUploaded():
            await handle_room_uploaded(ctx, item, event)
        case StreamConverted():
            await handle_stream_converted(ctx, item, event)
        case MinigroupTranscoded():
            await handle_transcoded(ctx, item, event)
        case TaskFailed():
            await handle_task_failed(ctx, item, event)
        case RoomAdjusted():
            await handle_room_adjusted(ctx, item, event)
        case EventsDumped():
            await handle_events_dumped(ctx, item, event)
        case None:
            log.info(
                "event %s (%s from %s) is not for the pipeline", item.id, item.label, item.source
            )
            await ignore_event(ctx, item)
