"""EventClient decoding: answers that cannot be read are MALFORMED; extra keys are ignored."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from minigroups.adapters.peers.transport import Answer
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from tests.unit.peers.support import call_event_method, scripted_event

HOST = "web.user1.dev.usr.example.com"

ROOM_ID = str(uuid4())


def event_object(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": str(uuid4()),
        "room_id": ROOM_ID,
        "type": "host",
        "set": "host",
        "attribute": None,
        "data": {"agent_id": HOST},
        "occurred_at": 10,
        "original_occurred_at": 10,
        "created_by": HOST,
        "original_created_by": HOST,
        "created_at": 1_690_000_000_000,
        "removed": False,
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        ("room.create", Answer(201, {"id": "nope", "time": [1, None]})),
        ("room.create", Answer(201, {"id": ROOM_ID, "time": [1]})),
        ("room.read", Answer(200, {"id": ROOM_ID})),
        ("room.update", Answer(200, {"id": ROOM_ID, "time": ["1", None]})),
        ("room.locked_types", Answer(200, [])),
        ("room.adjust", Answer(202, [])),
        ("edition.commit", Answer(202, "accepted")),
        ("room.dump_events", Answer(202, None)),
        ("event.create", Answer(201, [1])),
        ("event.list", Answer(200, {})),
        ("event.list", Answer(200, [event_object(type="message")])),
        ("event.list", Answer(200, [event_object(data={})])),
        ("event.list", Answer(200, [event_object(data={"agent_id": 7})])),
        ("event.list", Answer(200, [event_object(created_by="nobody")])),
        ("event.list", Answer(200, [event_object(occurred_at=-1)])),
        ("event.list", Answer(200, [event_object(room_id="r")])),
        ("event.list", Answer(200, [event_object(created_at="now")])),
    ],
)
async def test_an_unreadable_answer_is_malformed(method: str, answer: Answer) -> None:
    client, _ = scripted_event(answer)
    with pytest.raises(UpstreamFailed) as caught:
        await call_event_method(client, method, UUID(ROOM_ID))
    assert (caught.value.kind, caught.value.method) == (UpstreamFailureKind.MALFORMED, method)


async def test_pin_events_may_omit_the_agent_and_extra_keys_are_ignored() -> None:
    pin = event_object(type="pin", set="pin", data={}, label="l", deleted_at=1)
    del pin["original_occurred_at"]
    client, _ = scripted_event(Answer(200, [pin]))
    [decoded] = await client.list_events(room_id=UUID(ROOM_ID), kind="pin")
    assert (decoded.kind, decoded.agent_id, decoded.label) == ("pin", None, "l")
