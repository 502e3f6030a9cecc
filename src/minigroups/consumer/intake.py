"""Recording incoming lifecycle events in the inbox before they are acknowledged (D18)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from minigroups.consumer.messages import HANDLED_LABELS
from minigroups.ports import IncomingEvent
from minigroups.services.context import Context


def event_key(topic: str, properties: Mapping[str, str], payload: str) -> str:
    """Equal for redeliveries of one publication: publisher, label, publish time and payload."""
    parts = [topic, properties.get("label", ""), properties.get("timestamp", ""), payload]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


async def record_event(
    ctx: Context, topic: str, properties: Mapping[str, str], payload: str
) -> bool:
    """Store a handled-label event durably; True when it is new. Only then may it be acked."""
    label = properties.get("label")
    if label not in HANDLED_LABELS:
        return False
    event = IncomingEvent(
        key=event_key(topic, properties, payload),
        source=topic,
        label=label,
        payload=payload,
        received_at=ctx.clock.now(),
    )
    async with ctx.store.unit_of_work() as uow:
        added = await uow.inbox.add(event)
        await uow.commit()
    return added
