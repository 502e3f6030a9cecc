"""The `idempotency_key` table behind `IdempotencyRepository`.

A claim is one `INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE <expired or stale>`: of two
instances claiming the same key at once, the database lets exactly one insert (or take over) the
row, and the other finds it held. Every later statement names the claim's token, so a request
whose claim was taken over can neither store its answer nor release the new holder's key.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.tables import idempotency_key
from minigroups.ports import KeyClaim, StoredKey, StoredResponse

_c = idempotency_key.c


@functools.cache
def _claim_statement(dialect_name: str) -> ReturningInsert[Any]:
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(idempotency_key)
    new = statement.excluded  # its created_at is the claimer's `now`
    taken_over = {
        "fingerprint": new.fingerprint,
        "claim": new.claim,
        "locked_until": new.locked_until,
        "status": None,
        "headers": None,
        "body": None,
        "created_at": new.created_at,
        "expires_at": new.expires_at,
    }
    expired = _c.expires_at <= new.created_at
    stale = and_(_c.status.is_(None), _c.locked_until < new.created_at)
    return statement.on_conflict_do_update(
        index_elements=[_c.id], set_=taken_over, where=or_(expired, stale)
    ).returning(_c.id)


def _held(claim: KeyClaim) -> Any:
    return and_(_c.id == claim.record_id, _c.claim == claim.token, _c.status.is_(None))


def _response_from_row(row: Row[Any]) -> StoredResponse | None:
    if row.status is None:
        return None
    headers = tuple((str(name), str(value)) for name, value in row.headers or [])
    return StoredResponse(status=row.status, headers=headers, body=bytes(row.body or b""))


class SqlIdempotencyRepository:
    """Statements on `idempotency_key` inside one unit of work's connection."""

    def __init__(self, connection: TranslatingConnection) -> None:
        self._connection = connection

    async def claim(
        self, claim: KeyClaim, *, now: datetime, locked_until: datetime, expires_at: datetime
    ) -> bool:
        values = {
            "id": claim.record_id,
            "account_id": claim.account_id,
            "route": claim.route,
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "claim": claim.token,
            "locked_until": locked_until,
            "created_at": now,
            "expires_at": expires_at,
        }
        statement = _claim_statement(self._connection.dialect_name).values(values)
        return await self._connection.first(statement) is not None

    async def get(self, record_id: str) -> StoredKey | None:
        row = await self._connection.first(select(idempotency_key).where(_c.id == record_id))
        if row is None:
            return None
        return StoredKey(
            fingerprint=row.fingerprint,
            response=_response_from_row(row),
            locked_until=row.locked_until,
        )

    async def renew(self, claim: KeyClaim, locked_until: datetime) -> bool:
        statement = update(idempotency_key).where(_held(claim)).values(locked_until=locked_until)
        return bool(await self._connection.execute(statement))

    async def complete(
        self, claim: KeyClaim, response: StoredResponse, expires_at: datetime
    ) -> bool:
        statement = (
            update(idempotency_key)
            .where(_held(claim))
            .values(
                claim=None,
                locked_until=None,
                status=response.status,
                headers=[list(pair) for pair in response.headers],
                body=response.body,
                expires_at=expires_at,
            )
        )
        return bool(await self._connection.execute(statement))

    async def release(self, claim: KeyClaim) -> bool:
        return bool(await self._connection.execute(delete(idempotency_key).where(_held(claim))))

    async def purge_expired(self, now: datetime, limit: int) -> int:
        batch = (
            select(_c.id)
            .where(_c.expires_at <= now)
            .order_by(_c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = delete(idempotency_key).where(_c.id.in_(batch.scalar_subquery()))
        return await self._connection.execute(statement)
