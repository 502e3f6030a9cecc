"""Webhook endpoints: a tenant's URLs, events, secrets and health, per audience."""

from __future__ import annotations

from typing import Any
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


class SqlWebhookRepository:
    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def add(self, endpoint: Endpoint) -> None:
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
        rows = await self._connection.all(_SUBSCRIBERS, {"p_audience": audience})
        return [_endpoint(row) for row in rows]
