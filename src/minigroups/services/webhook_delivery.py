"""Sending queued webhook deliveries: claim, attempt once, record the attempt and its verdict.

The webhook sender (consumer/webhooks.py) decides when; these do one step each. A delivery's
attempt, its new state and its endpoint's health commit together, under the delivery's lease
and the endpoint's row lock.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from minigroups.domain.webhooks import Attempt, Outcome, Verdict, judge, message_id
from minigroups.ports import DeliveryItem, Owner, WebhookRequest
from minigroups.services.context import Context

DISABLED = "the endpoint is disabled"


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one attempt did: when, and how it ended (None: nothing was sent, the endpoint is
    gone or disabled)."""

    at: datetime
    outcome: Outcome | None


async def claim_deliveries(
    ctx: Context, owner: Owner, until: datetime, limit: int
) -> list[DeliveryItem]:
    per_endpoint = ctx.options.webhooks.per_endpoint_concurrency
    async with ctx.store.unit_of_work(single_statement=True) as uow:
        items = await uow.deliveries.claim_due(ctx.clock.now(), owner, until, limit, per_endpoint)
        await uow.commit()
    return items


async def renew_deliveries(ctx: Context, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
    async with ctx.store.unit_of_work() as uow:
        held = await uow.deliveries.renew(leases, until)
        await uow.commit()
    return held


async def attempt(ctx: Context, item: DeliveryItem) -> Attempted:
    """Sign with the endpoint's current secrets and POST once (never raises for the receiver)."""
    async with ctx.store.unit_of_work(read_only=True) as uow:
        endpoint = await uow.webhooks.get(item.endpoint_id)
    now = ctx.clock.now()
    if endpoint is None or not endpoint.enabled:
        return Attempted(now, None)
    request = WebhookRequest(
        url=endpoint.url,
        message_id=message_id(item.id),
        timestamp=now,
        body=item.body,
        secrets=endpoint.signing_secrets(now),
    )
    started = time.perf_counter()
    response = await ctx.webhook_client.send(request)
    elapsed = round((time.perf_counter() - started) * 1000)
    return Attempted(now, Outcome(response.status_code, response.error, elapsed, response.body))


async def record(ctx: Context, item: DeliveryItem, attempted: Attempted) -> Verdict | None:
    """Store the attempt, the delivery's new state and the endpoint's health, together.

    None when the endpoint was deleted meanwhile (its deliveries went with it). Raises
    LeaseLost when another sender took the delivery over.
    """
    now = ctx.clock.now()
    async with ctx.store.unit_of_work() as uow:
        endpoint = await uow.webhooks.lock(item.endpoint_id)
        if endpoint is None:
            return None
        outcome = attempted.outcome
        if outcome is None:  # disabled between the claim and the attempt: nothing was sent
            await uow.deliveries.settle(item, "failed", None, DISABLED, now)
            await uow.commit()
            return Verdict("failed", None, endpoint)
        verdict = judge(endpoint, outcome, item.attempts, now, ctx.options.webhooks)
        error = None if outcome.succeeded else _describe(outcome)
        await uow.deliveries.settle(item, verdict.status, verdict.next_attempt_at, error, now)
        await uow.deliveries.record_attempt(
            Attempt(item.id, attempted.at, outcome, verdict.next_attempt_at)
        )
        if verdict.endpoint != endpoint:
            await uow.webhooks.save(verdict.endpoint)
        if verdict.disables and endpoint.enabled:
            reason = verdict.endpoint.disabled_reason
            await uow.deliveries.fail_pending(endpoint.id, f"{DISABLED}: {reason}", now)
        await uow.commit()
    return verdict


def _describe(outcome: Outcome) -> str:
    if outcome.status_code is not None:
        return f"HTTP {outcome.status_code}"
    return outcome.error or "no answer"
