"""The pipeline's log lines (issue 11): each inbox event handled, retried or buried and each
outbox item sent or retried, with key-values: which item, its label and its attempt.

An inbox event's `minigroup_id` comes from its handler, which binds it for the rest of the task
once it has found the minigroup (services/trail.py). An outbox item names its minigroup in its
payload (a notification's `id`, a tq task's `classroom_id`); an event request names a room.
"""

from __future__ import annotations

import logging
from typing import Any

from minigroups.ports import InboxItem, OutboxItem

log = logging.getLogger("minigroups.consumer.loops")


def log_event(level: int, item: InboxItem, outcome: str, error: str | None = None) -> None:
    """`inbox: room.upload <id> handled (attempt 1)`, plus `: <error>` for a failure."""
    text = f": {error}" if error else ""
    fields = event_fields(item) if error is None else event_fields(item, error=error)
    log.log(
        level,
        "inbox: %s %s %s (attempt %d)%s",
        item.label,
        item.id,
        outcome,
        item.attempts,
        text,
        extra=fields,
    )


def log_effect(level: int, item: OutboxItem, outcome: str, error: str | None = None) -> None:
    """`outbox: notify <key> sent (attempt 1)`, plus `: <error>` for a failure."""
    text = f": {error}" if error else ""
    fields = effect_fields(item) if error is None else effect_fields(item, error=error)
    log.log(
        level,
        "outbox: %s %s %s (attempt %d)%s",
        item.kind,
        item.key,
        outcome,
        item.attempts,
        text,
        extra=fields,
    )


def event_fields(item: InboxItem, **more: Any) -> dict[str, Any]:
    return {"event_id": str(item.id), "label": item.label, "attempt": item.attempts, **more}


def effect_fields(item: OutboxItem, **more: Any) -> dict[str, Any]:
    message = item.payload
    fields: dict[str, Any] = {"effect_id": str(item.id), "kind": item.kind}
    fields["attempt"] = item.attempts
    inner = message.get("payload")
    if item.kind == "notify" and isinstance(inner, dict):
        fields["label"] = message.get("label")
        fields["minigroup_id"] = inner.get("id")
    elif item.kind == "tq_task":
        task = message.get("task")
        fields["label"] = task.get("template") if isinstance(task, dict) else None
        fields["minigroup_id"] = message.get("classroom_id")
    elif item.kind == "event_request":
        params = message.get("params")
        fields["label"] = message.get("method")
        fields["room_id"] = params.get("room_id") if isinstance(params, dict) else None
    return {**fields, **more}
