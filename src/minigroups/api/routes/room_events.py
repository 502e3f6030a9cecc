"""R11 events proxied to the event room and R12 whiteboards."""

from __future__ import annotations

from starlette.responses import Response

from minigroups.api.call import Call
from minigroups.api.representations import EventAccepted, empty_response, json_response
from minigroups.api.routing import RouteTable
from minigroups.api.schemas import EventBody, event_object
from minigroups.domain import errors as e
from minigroups.services import room_events


def register(table: RouteTable) -> None:
    @table.route(
        "POST",
        "/api/v1/minigroups/{id}/events",
        action="update",
        summary="R11: create an event in the minigroup's event room",
        description="A JSON object, or null meaning `{}` (D9).",
        body=EventBody,
        responses={201: EventAccepted},
        problems=(e.ClassNotFound, e.EventTooLarge, e.EventCreationFailed),
    )
    async def create_event(call: Call) -> Response:
        event = event_object(await call.json_value())
        await room_events.create_event(call.ctx, call.guard, call.minigroup_id, event)
        return json_response(EventAccepted(), status=201)

    @table.route(
        "POST",
        "/api/v1/minigroups/{id}/whiteboard",
        action="update",
        summary="R12: create the whiteboard documents in the event room",
        responses={201: None},
        problems=(e.ClassNotFound, e.CreationWhiteboardFailed),
    )
    async def create_whiteboard(call: Call) -> Response:  # takes no body, never reads one
        await room_events.create_whiteboard(call.ctx, call.guard, call.minigroup_id)
        return empty_response(201)
