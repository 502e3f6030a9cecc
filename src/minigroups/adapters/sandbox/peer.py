"""What both in-process peers share: dispatch a method to its handler, answer problems."""

from __future__ import annotations

import copy
from collections.abc import Callable
from uuid import UUID

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import problems as p
from minigroups.domain.json_value import JsonObject

Handler = Callable[[JsonObject], Answer]


class SandboxPeer:
    """`handle(method, payload)` as the real service answers: a copy, problems as answers."""

    _handlers: dict[str, Handler]
    rooms: dict[UUID, JsonObject]

    def room(self, room_id: UUID) -> JsonObject:
        """The stored room object; raises PeerProblem(room_not_found)."""
        room = self.rooms.get(room_id)
        if room is None:
            raise p.PeerProblem(p.ROOM_NOT_FOUND, self._room_not_found(room_id))
        return room

    def _room_not_found(self, room_id: UUID) -> str:
        """The peer's own wording of the 404 detail."""
        return "Room not found"

    def handle(self, method: str, payload: JsonObject) -> Answer:
        handler = self._handlers.get(method)
        if handler is None:
            return p.PeerProblem(p.UNKNOWN_METHOD, f"unknown method {method!r}").to_answer()
        try:
            answer = handler(payload)
        except p.PeerProblem as problem:
            return problem.to_answer()
        return Answer(answer.status, copy.deepcopy(answer.payload))
