"""Events proxied into a minigroup's event room (R11) and whiteboard documents (R12)."""

from __future__ import annotations

from uuid import UUID, uuid4

from minigroups.domain.errors import (
    CreationWhiteboardFailed,
    EventCreationFailed,
    InvalidPayload,
    UpstreamFailed,
    UpstreamFailureKind,
)
from minigroups.domain.json_value import JsonObject
from minigroups.services.access import ById, Guard, load_authorized
from minigroups.services.context import Context

# Statuses with which the event service rejects the event itself: the caller's payload is at fault.
_PAYLOAD_REJECTIONS = frozenset({400, 422})


async def create_event(ctx: Context, guard: Guard, minigroup_id: UUID, event: JsonObject) -> None:
    """R11: forward the caller's event with `room_id` set to the minigroup's event room."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id, any_kind=True))
    ctx.options.limits.check_event(event)
    try:
        await ctx.events.create_event(event={**event, "room_id": str(minigroup.event_room_id)})
    except UpstreamFailed as exc:
        if exc.kind is UpstreamFailureKind.REJECTED and exc.peer_status in _PAYLOAD_REJECTIONS:
            raise InvalidPayload(f"Failed to create event: {exc.detail}") from exc
        raise EventCreationFailed(exc, "Failed to create event") from exc


async def create_whiteboard(ctx: Context, guard: Guard, minigroup_id: UUID) -> None:
    """R12: a whiteboard document and its first page, in that order."""
    minigroup = await load_authorized(ctx, guard, ById(minigroup_id))
    room_id = str(minigroup.event_room_id)
    document = str(uuid4())
    try:
        await ctx.events.create_event(
            event={
                "room_id": room_id,
                "type": "document",
                "set": "document",
                "data": {
                    "title": "whiteboard",
                    "page": 1,
                    "published": True,
                    "url": "about:whiteboard",
                },
                "label": document,
            }
        )
        await ctx.events.create_event(
            event={
                "room_id": room_id,
                "type": "document_page",
                "set": f"document_page_{document}",
                "data": {"page": 1, "title": ""},
                "label": f"document_page_{document}_1",
            }
        )
    except UpstreamFailed as exc:
        # The peer's own problem text when it refused; a transport failure's text stays in logs.
        rejected = exc.kind is UpstreamFailureKind.REJECTED and exc.detail
        detail = exc.detail if rejected else "Failed to create whiteboard"
        raise CreationWhiteboardFailed(exc, detail or "Failed to create whiteboard") from exc
