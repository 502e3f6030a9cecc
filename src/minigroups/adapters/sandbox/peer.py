"""What both in-process peers share: dispatch a method to its handler, answer problems."""

from __future__ import annotations

import copy
from collections.abc import Callable

from minigroups.adapters.peers.transport import Answer
from minigroups.adapters.sandbox import problems as p
from minigroups.domain.minigroup import JsonObject

Handler = Callable[[JsonObject], Answer]


class SandboxPeer:
    """`handle(method, payload)` as the real service answers: a copy, problems as answers."""

    _handlers: dict[str, Handler]

    def handle(self, method: str, payload: JsonObject) -> Answer:
        handler = self._handlers.get(method)
        if handler is None:
            return p.PeerProblem(p.UNKNOWN_METHOD, f"unknown method {method!r}").to_answer()
        try:
            answer = handler(payload)
        except p.PeerProblem as problem:
            return problem.to_answer()
        return Answer(answer.status, copy.deepcopy(answer.payload))
