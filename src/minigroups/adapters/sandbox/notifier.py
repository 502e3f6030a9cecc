"""The sandbox's notifier: keeps what the service would broadcast to the platform."""

from __future__ import annotations

from dataclasses import dataclass, field

from minigroups.domain.json_value import JsonObject


@dataclass(frozen=True, slots=True)
class Notification:
    audience: str
    label: str
    payload: JsonObject


@dataclass
class SandboxNotifier:
    """Implements `ports.Notifier` in process; `published` lists every notification in order."""

    published: list[Notification] = field(default_factory=list)

    async def notify(self, *, audience: str, label: str, payload: JsonObject) -> None:
        self.published.append(Notification(audience, label, payload))
