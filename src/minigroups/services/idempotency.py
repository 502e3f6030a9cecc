"""Idempotency keys of POST requests: claim, keep alive, complete or release, replay, purge.

A request with a key first claims it (one transaction). The claim is a row in the database, so
another instance meeting the same key sees it: while the first request runs, the others get
`409 idempotency_key_in_use`; once it completed, its answer is replayed. The running request
renews its claim every third of `[idempotency] lease_seconds`; a claim not renewed for that long
belongs to a request that died with its process, and the next request with the key takes it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from minigroups.domain.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from minigroups.domain.idempotency import KeyScope, fingerprint, is_stored
from minigroups.ports import KeyClaim, StoredResponse
from minigroups.services.context import Context

log = logging.getLogger(__name__)

# A key released or purged between the failed claim and the look-up is claimed again; a key that
# keeps changing hands this often is in use, as far as this request is concerned.
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A POST that carries an `Idempotency-Key`: its scope, the key and its raw body."""

    scope: KeyScope
    key: str
    body: bytes


async def claim_key(ctx: Context, request: KeyedRequest) -> KeyClaim | StoredResponse:
    """The claim under which the request may run, or the stored answer to replay.

    Raises IdempotencyKeyReused when the key was used with another body, IdempotencyKeyInUse
    while the key's first request is still running.
    """
    claim = KeyClaim(
        record_id=request.scope.record_id(request.key),
        account_id=str(request.scope.account),
        route=request.scope.route,
        key=request.key,
        fingerprint=fingerprint(request.body),
        token=uuid4(),
    )
    options = ctx.options.idempotency
    for _ in range(CLAIM_ATTEMPTS):
        now = ctx.clock.now()
        async with ctx.store.unit_of_work() as uow:
            claimed = await uow.idempotency.claim(
                claim, now=now, locked_until=now + options.lease, expires_at=now + options.ttl
            )
            stored = None if claimed else await uow.idempotency.get(claim.record_id)
            await uow.commit()
        if claimed:
            return claim
        if stored is None:
            continue
        if stored.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request body on this route"
            )
        if stored.response is None:
            raise IdempotencyKeyInUse("A request with this Idempotency-Key is still running")
        return stored.response
    raise IdempotencyKeyInUse("A request with this Idempotency-Key is still running")


@contextlib.asynccontextmanager
async def holding(ctx: Context, claim: KeyClaim) -> AsyncIterator[None]:
    """Renew the claim in the background while the request runs."""
    renewing = asyncio.create_task(_renew(ctx, claim), name="idempotency-key-renewal")
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing


async def _renew(ctx: Context, claim: KeyClaim) -> None:
    lease = ctx.options.idempotency.lease
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            async with ctx.store.unit_of_work() as uow:
                held = await uow.idempotency.renew(claim, ctx.clock.now() + lease)
                await uow.commit()
        except Exception as exc:  # noqa: BLE001 - the database may be back before the lease ends
            log.warning("idempotency: renewing the claim on a key failed: %s", exc)
            continue
        if not held:
            log.warning("idempotency: the claim on key %r was taken over", claim.key)
            return


async def finish(ctx: Context, claim: KeyClaim, response: StoredResponse | None) -> None:
    """Store the answer for replay when its status is kept (`is_stored`); otherwise, or when the
    answer cannot be stored (`None`), release the key so that a retry runs again."""
    if response is None or not is_stored(response.status):
        await release(ctx, claim)
        return
    async with ctx.store.unit_of_work() as uow:
        expires_at = ctx.clock.now() + ctx.options.idempotency.ttl
        stored = await uow.idempotency.complete(claim, response, expires_at)
        await uow.commit()
    if not stored:
        log.warning("idempotency: key %r was taken over before its answer was stored", claim.key)


async def release(ctx: Context, claim: KeyClaim) -> None:
    """Forget the key (if this request still holds it)."""
    async with ctx.store.unit_of_work() as uow:
        await uow.idempotency.release(claim)
        await uow.commit()


async def purge_expired_keys(ctx: Context, now: datetime, batch: int) -> int:
    """Delete one batch of keys expired by `now`, in a short transaction; how many."""
    async with ctx.store.unit_of_work() as uow:
        purged = await uow.idempotency.purge_expired(now, batch)
        await uow.commit()
    return purged
