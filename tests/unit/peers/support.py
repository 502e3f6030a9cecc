"""Helpers of the peer client tests: a frozen clock, a scripted requester, room shortcuts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.transport import Answer
from minigroups.domain.json_value import JsonObject
from minigroups.domain.timerange import to_unix

EVENT_ACCOUNT = "event.svc.example.org"
CONFERENCE_ACCOUNT = "conference.svc.example.org"
AGENT = "alpha.dispatcher.svc.example.org"
AUDIENCE = "dev.usr.example.com"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW_S = to_unix(NOW)
TIMEOUT = 0.1


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedRequester:
    """A `Requester` that answers from a script, for payloads no honest peer would send."""

    answers: list[Answer]
    requests: list[tuple[str, str, JsonObject]] = field(default_factory=list)

    async def request(
        self,
        *,
        peer: str,
        api_version: str,
        method: str,
        payload: JsonObject,
        timeout: float,  # noqa: ASYNC109
    ) -> Answer:
        self.requests.append((peer, method, payload))
        return self.answers.pop(0)


def scripted_event(*answers: Answer) -> tuple[EventClient, ScriptedRequester]:
    requester = ScriptedRequester(list(answers))
    return EventClient(requester, account_id=EVENT_ACCOUNT, timeout=TIMEOUT), requester


def scripted_conference(*answers: Answer) -> tuple[ConferenceClient, ScriptedRequester]:
    requester = ScriptedRequester(list(answers))
    return ConferenceClient(requester, account_id=CONFERENCE_ACCOUNT, timeout=TIMEOUT), requester


async def open_event_room(event: EventClient, *, time: list[int | None] | None = None) -> UUID:
    """An event room opened now (or with the given time), created through the client."""
    room = await event.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None] if time is None else time,
        preserve_history=True,
        tags=None,
        classroom_id=uuid4(),
        kind="Minigroup",
    )
    return room.id


async def open_conference_room(
    conference: ConferenceClient, *, time: list[int | None] | None = None, policy: str = "owned"
) -> UUID:
    room = await conference.create_room(
        audience=AUDIENCE,
        time=[NOW_S, None] if time is None else time,
        rtc_sharing_policy=policy,
        reserve=None,
        tags=None,
        classroom_id=uuid4(),
    )
    return room.id


async def call_event_method(client: EventClient, method: str, room_id: UUID) -> object:
    """Call one client method with plausible arguments."""
    if method == "room.create":
        return await client.create_room(
            audience=AUDIENCE,
            time=[NOW_S, None],
            preserve_history=True,
            tags=None,
            classroom_id=uuid4(),
            kind="Minigroup",
        )
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "room.read": lambda: client.read_room(room_id=room_id),
        "room.update": lambda: client.update_room(room_id=room_id, time=[NOW_S, None]),
        "room.locked_types": lambda: client.lock_types(room_id=room_id, locked_types={"a": True}),
        "room.adjust": lambda: client.adjust_room(
            room_id=room_id, started_at=0, segments=[[0, 1]], offset=0
        ),
        "edition.commit": lambda: client.commit_edition(edition_id=room_id, offset=0),
        "edition.list": lambda: client.list_editions(room_id=room_id),
        "room.dump_events": lambda: client.dump_events(room_id=room_id),
        "event.list": lambda: client.list_events(room_id=room_id, kind="host"),
        "event.create": lambda: client.create_event(
            event={"room_id": str(room_id), "type": "t", "data": {}}
        ),
    }
    return await calls[method]()
