"""An in-process tq: records every created task and answers 200 `{}` (contract.md upstream §5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import httpx

from minigroups.domain.json_value import JsonValue

TQ_METHOD = "create_task"


@dataclass(frozen=True, slots=True)
class TqTask:
    """A task as tq received it; header names are lowercase."""

    audience: str
    task_id: str
    classroom_id: UUID
    body: JsonValue
    headers: dict[str, str]


class SandboxTq:
    """tq's task creation: keeps every task. Its answer body is unknown upstream; `{}` here."""

    def __init__(self) -> None:
        self.tasks: list[TqTask] = []

    def create(self, task: TqTask) -> httpx.Response:
        self.tasks.append(task)
        return httpx.Response(200, json={})
