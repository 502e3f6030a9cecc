"""Webhook deliveries: a leased queue like the outbox, with a log of every attempt.

A claim takes due deliveries of enabled endpoints only, and at most `per_endpoint` of one
endpoint in flight at once (counting every instance's claims), so that one slow or dead
endpoint holds at most that many of a sender's slots and never delays the others. Two
instances may pick the same rows; the UPDATE's own conditions are checked again on the row it
locks (PostgreSQL re-evaluates them on the newer version), so only one of them gets each.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID, uuid4

from sqlalchemy import Integer, Row, and_, bindparam, func, or_, select, true, update

from minigroups.adapters.db.connection import Prepared
from minigroups.adapters.db.queues import PENDING, _claim_arguments, _leasing, _Queue
from minigroups.adapters.db.tables import webhook_attempt, webhook_delivery, webhook_endpoint
from minigroups.domain.errors import LeaseLost
from minigroups.domain.webhooks import Attempt, Delivery, DeliveryStatus, Outcome
from minigroups.ports import DeliveryItem, DeliveryPage, NewDelivery, Owner

SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"


def _item(row: Row[Any]) -> DeliveryItem:
    return DeliveryItem(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_type=row.event_type,
        body=row.body,
        attempts=row.attempts,
        lease=row.lease,
    )


def _attempt(row: Row[Any]) -> Attempt:
    outcome = Outcome(row.status_code, row.error, row.duration_ms, row.response)
    return Attempt(row.delivery_id, row.attempted_at, outcome, row.next_attempt_at)


def _delivery(row: Row[Any], log: Sequence[Attempt]) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_type=row.event_type,
        status=row.status,
        created_at=row.created_at,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == PENDING else None,
        last_error=row.last_error,
        log=tuple(log),
    )


@functools.cache
def _claim() -> Prepared:
    """Lease the due deliveries of enabled endpoints, oldest first, up to `p_limit`, at most
    `p_per_endpoint` of one endpoint in flight. Built once: an idle sender claims every poll
    interval, and building this statement anew cost more than running it (issue 12, session 10:
    most of an idle service's Python samples in py-spy)."""
    c = webhook_delivery.c
    now = bindparam("p_now", type_=c.next_attempt_at.type)
    free = or_(c.lease_until.is_(None), c.lease_until < now)
    in_flight = webhook_delivery.alias("in_flight")
    busy = (
        select(func.count())
        .where(
            in_flight.c.endpoint_id == c.endpoint_id,
            in_flight.c.status == PENDING,
            in_flight.c.lease_until >= now,
        )
        .scalar_subquery()
    )
    rank = func.row_number().over(partition_by=c.endpoint_id, order_by=(c.next_attempt_at, c.id))
    ranked = (
        select(c.id, c.next_attempt_at, rank.label("rank"), busy.label("busy"))
        .select_from(
            webhook_delivery.join(webhook_endpoint, webhook_endpoint.c.id == c.endpoint_id)
        )
        .where(
            c.status == PENDING,
            c.next_attempt_at <= now,
            free,
            webhook_endpoint.c.enabled.is_(true()),
        )
        .subquery("ranked")
    )
    chosen = (
        select(ranked.c.id)
        .where(ranked.c.rank + ranked.c.busy <= bindparam("p_per_endpoint", type_=Integer()))
        .order_by(ranked.c.next_attempt_at)
        .limit(bindparam("p_limit", type_=Integer()))
    )
    return Prepared(
        update(webhook_delivery)
        .where(c.id.in_(chosen.scalar_subquery()), c.status == PENDING, free)
        .values(_leasing(webhook_delivery))
        .returning(webhook_delivery)
    )


class SqlDeliveryQueue(_Queue):
    table = webhook_delivery
    settled = SUCCEEDED  # purge_settled is overridden: both final statuses go
    settled_at = "settled_at"

    async def add(self, delivery: NewDelivery) -> bool:
        return await self._insert_once(
            {
                "key": delivery.key,
                "endpoint_id": delivery.endpoint_id,
                "event_type": delivery.event_type,
                "body": delivery.body,
                "created_at": delivery.created_at,
                "next_attempt_at": delivery.due_at,
            }
        )

    async def claim_due(
        self, now: datetime, owner: Owner, until: datetime, limit: int, per_endpoint: int
    ) -> list[DeliveryItem]:
        params = {**_claim_arguments(now, owner, until, limit), "p_per_endpoint": per_endpoint}
        rows = await self._connection.rows(_claim(), params)
        return [_item(row) for row in sorted(rows, key=lambda row: row.next_attempt_at)]

    async def settle(
        self,
        item: DeliveryItem,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        error: str | None,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == PENDING:
            values["next_attempt_at"] = next_attempt_at
        else:
            values["settled_at"] = now
        if not await self._release(item.id, item.lease, **values):
            raise LeaseLost(f"webhook delivery {item.id} was taken over")

    async def record_attempt(self, attempt: Attempt) -> None:
        outcome = attempt.outcome
        statement = webhook_attempt.insert().values(
            id=uuid4(),
            delivery_id=attempt.delivery_id,
            attempted_at=attempt.attempted_at,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            response=outcome.response,
            next_attempt_at=attempt.next_attempt_at,
        )
        await self._connection.execute(statement)

    async def fail_pending(self, endpoint_id: UUID, error: str, now: datetime) -> int:
        c = webhook_delivery.c
        statement = (
            update(webhook_delivery)
            .where(
                c.endpoint_id == endpoint_id,
                c.status == PENDING,
                or_(c.lease_until.is_(None), c.lease_until < now),
            )
            .values(status=FAILED, settled_at=now, last_error=error, lease=None, lease_until=None)
        )
        return await self._connection.execute(statement)

    async def page(
        self, endpoint_id: UUID, after: tuple[datetime, UUID] | None, limit: int
    ) -> DeliveryPage:
        c = webhook_delivery.c
        statement = (
            select(webhook_delivery)
            .where(c.endpoint_id == endpoint_id)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(limit + 1)
        )
        if after is not None:
            created_at, last_id = after
            statement = statement.where(
                or_(c.created_at < created_at, and_(c.created_at == created_at, c.id < last_id))
            )
        rows = list(await self._connection.all(statement))
        more = len(rows) > limit
        rows = rows[:limit]
        logs = await self._attempts([row.id for row in rows])
        deliveries = [_delivery(row, logs.get(row.id, [])) for row in rows]
        cursor = (rows[-1].created_at, rows[-1].id) if more else None
        return DeliveryPage(deliveries, cursor)

    async def get(self, delivery_id: UUID, endpoint_id: UUID | None) -> Delivery | None:
        c = webhook_delivery.c
        statement = select(webhook_delivery).where(c.id == delivery_id)
        if endpoint_id is not None:
            statement = statement.where(c.endpoint_id == endpoint_id)
        row = await self._connection.first(statement)
        if row is None:
            return None
        logs = await self._attempts([row.id])
        return _delivery(row, logs.get(row.id, []))

    async def requeue(self, delivery_id: UUID, attempts: int, now: datetime) -> bool:
        c = webhook_delivery.c
        in_flight = and_(c.status == PENDING, c.lease_until.is_not(None), c.lease_until >= now)
        statement = (
            update(webhook_delivery)
            .where(c.id == delivery_id, ~in_flight)
            .values(
                status=PENDING,
                attempts=attempts,
                next_attempt_at=now,
                settled_at=None,
                lease=None,
                lease_until=None,
            )
        )
        return bool(await self._connection.execute(statement))

    async def purge_settled(self, before: datetime, limit: int) -> int:
        c = webhook_delivery.c
        return await self._delete(
            limit,
            c.status.in_([SUCCEEDED, FAILED]),
            c.next_attempt_at < before,
            c.settled_at < before,
        )

    async def _attempts(self, delivery_ids: list[UUID]) -> dict[UUID, list[Attempt]]:
        if not delivery_ids:
            return {}
        a = webhook_attempt.c
        statement = (
            select(webhook_attempt)
            .where(a.delivery_id.in_(delivery_ids))
            .order_by(a.attempted_at, a.id)
        )
        logs: dict[UUID, list[Attempt]] = {}
        for row in await self._connection.all(statement):
            logs.setdefault(row.delivery_id, []).append(_attempt(row))
        return logs
