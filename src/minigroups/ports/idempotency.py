"""Stored idempotency keys: claimed while their first request runs, then its answer for replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An answer as it is replayed: status, the headers the route set, the exact body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """A request's claim on a key: `record_id` names (account, route, key) and `token` this run."""

    record_id: str
    account_id: str  # for operators: whose key it is
    route: str  # for operators: `POST /api/v1/minigroups`
    key: str
    fingerprint: str  # the SHA-256 of the request body
    token: UUID


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A key as found: its body's fingerprint, and the answer once its request completed."""

    fingerprint: str
    response: StoredResponse | None  # None while the first request runs
    locked_until: datetime | None


class IdempotencyRepository(Protocol):
    async def claim(
        self, claim: KeyClaim, *, now: datetime, locked_until: datetime, expires_at: datetime
    ) -> bool:
        """Insert the key as running, or take over an expired key or a running one whose lock ran
        out before `now` (its request is presumed dead). False when the key is held otherwise;
        one atomic statement, so two instances never both claim a key."""
        ...

    async def get(self, record_id: str) -> StoredKey | None: ...

    async def renew(self, claim: KeyClaim, locked_until: datetime) -> bool:
        """Extend the running claim's lock; False when the claim is no longer held."""
        ...

    async def complete(
        self, claim: KeyClaim, response: StoredResponse, expires_at: datetime
    ) -> bool:
        """Store the answer, if the claim is still held; False otherwise."""
        ...

    async def release(self, claim: KeyClaim) -> bool:
        """Forget the key, if the claim is still held, so that a retry runs again."""
        ...

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` keys expired by `now` (`expires_at <= now`); how many."""
        ...
