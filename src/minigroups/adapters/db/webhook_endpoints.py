"""Webhook endpoints: a tenant's URLs, events, secrets and health, per audience."""

from __future__ import annotations

import time
from typing import Any, Final
from uuid import UUID

from sqlalchemy import Row, bindparam, delete, func, select, true, update

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.tables import webhook_endpoint
from minigroups.domain.webhooks import Endpoint

_ENDPOINT_FIELDS = (
    "url",
    "description",
    "secret",
    "previous_secret",
    "previous_secret_until",
    "enabled",
    "disabled_at",
    "disabled_reason",
    "failing_since",
    "updated_at",
)


def _endpoint(row: Row[Any]) -> Endpoint:
    return Endpoint(
        id=row.id,
        audience=row.audience,
        url=row.url,
        events=tuple(row.events),
        secret=row.secret,
        created_at=row.created_at,
        updated_at=row.updated_at,
        description=row.description,
        previous_secret=row.previous_secret,
        previous_secret_until=row.previous_secret_until,
        enabled=row.enabled,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        failing_since=row.failing_since,
    )


# Built once: every create and every lifecycle event with a webhook asks this (issue 12).
_SUBSCRIBERS = (
    select(webhook_endpoint)
    .where(
        webhook_endpoint.c.audience == bindparam("p_audience"),
        webhook_endpoint.c.enabled.is_(true()),
    )
    .order_by(webhook_endpoint.c.created_at, webhook_endpoint.c.id)
)


# How long an audience found without enabled endpoints is believed to have none (decisions.md,
# "Pipeline throughput"): an endpoint added through another instance counts after at most this.
NO_SUBSCRIBERS_SECONDS: Final = 2.0


class NoSubscribers:
    """The audiences this process recently found without an enabled endpoint (most have none):
    a lifecycle event of theirs then reads no endpoints. Forgotten at once when this process
    adds or saves an endpoint of the audience (and again after that commits); other instances'
    changes count after `ttl` seconds. A found endpoint is never remembered: those are read."""

    def __init__(self, ttl: float = NO_SUBSCRIBERS_SECONDS) -> None:
        self._ttl = ttl
        self._until: dict[str, float] = {}
        self._generation = 0  # bumped by every forget: a read begun before one is not kept

    @property
    def generation(self) -> int:
        return self._generation

    def has_none(self, audience: str) -> bool:
        until = self._until.get(audience)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self._until[audience]
        return False

    def remember(self, audience: str, generation: int) -> None:
        """`audience` had no enabled endpoint by a read begun at `generation`."""
        if generation == self._generation:
            self._until[audience] = time.monotonic() + self._ttl

    def forget(self, audiences: set[str]) -> None:
        self._generation += 1
        for audience in audiences:
            self._until.pop(audience, None)


class SqlWebhookRepository:
    def __init__(
        self, connection: TranslatingConnection, no_subscribers: NoSubscribers | None = None
    ) -> None:
        self._connection = connection
        self._no_subscribers = no_subscribers or NoSubscribers(ttl=0.0)
        self.changed: set[str] = set()  # audiences whose endpoints this unit of work wrote

    def _changing(self, audience: str) -> None:
        self.changed.add(audience)
        self._no_subscribers.forget({audience})

    async def add(self, endpoint: Endpoint) -> None:
        self._changing(endpoint.audience)
        values = {name: getattr(endpoint, name) for name in _ENDPOINT_FIELDS}
        statement = webhook_endpoint.insert().values(
            id=endpoint.id,
            audience=endpoint.audience,
            events=list(endpoint.events),
            created_at=endpoint.created_at,
            **values,
        )
        await self._connection.execute(statement)

    async def count(self, audience: str) -> int:
        statement = select(func.count()).where(webhook_endpoint.c.audience == audience)
        counted: int = await self._connection.scalar_one(statement)
        return counted

    async def find_all(self, audience: str | None) -> list[Endpoint]:
        c = webhook_endpoint.c
        statement = select(webhook_endpoint).order_by(c.created_at, c.id)
        if audience is not None:
            statement = statement.where(c.audience == audience)
        return [_endpoint(row) for row in await self._connection.all(statement)]

    async def get(self, endpoint_id: UUID, audience: str | None = None) -> Endpoint | None:
        statement = select(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id)
        if audience is not None:
            statement = statement.where(webhook_endpoint.c.audience == audience)
        row = await self._connection.first(statement)
        return None if row is None else _endpoint(row)

    async def lock(self, endpoint_id: UUID) -> Endpoint | None:
        statement = (
            select(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id).with_for_update()
        )
        row = await self._connection.first(statement)
        return None if row is None else _endpoint(row)

    async def save(self, endpoint: Endpoint) -> None:
        self._changing(endpoint.audience)  # an endpoint enabled again, or subscribed anew
        values = {name: getattr(endpoint, name) for name in _ENDPOINT_FIELDS}
        statement = (
            update(webhook_endpoint)
            .where(webhook_endpoint.c.id == endpoint.id)
            .values(events=list(endpoint.events), **values)
        )
        await self._connection.execute(statement)

    async def delete(self, endpoint_id: UUID) -> bool:
        # Deliveries and their attempts go with it (ON DELETE CASCADE).
        statement = delete(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id)
        return bool(await self._connection.execute(statement))

    async def subscribers(self, audience: str) -> list[Endpoint]:
        if self._no_subscribers.has_none(audience):
            return []
        generation = self._no_subscribers.generation
        rows = await self._connection.all(_SUBSCRIBERS, {"p_audience": audience})
        if not rows:
            self._no_subscribers.remember(audience, generation)
        return [_endpoint(row) for row in rows]
