"""The queues' upkeep: claims of dead processes taken back, own claims given back, old rows
purged, and the backlog gauges of /metrics refreshed.

An instance is known by an id that survives its restarts and an incarnation per process
(`ports.Owner`). These units of work are what the pipeline runtime (consumer/) runs at start,
at stop and in the background; `inbox_admin` purges dead letters for the operator.
"""

from __future__ import annotations

from datetime import datetime

from minigroups.ports import STAGES, Backlog, Owner
from minigroups.services.context import Context


async def reclaim_earlier_claims(ctx: Context, owner: Owner) -> int:
    """At start: release what earlier incarnations of this instance held (they are dead), so it
    is handled again at once instead of after the lease; how many items."""
    async with ctx.store.unit_of_work() as uow:
        released = await uow.inbox.reclaim(owner) + await uow.outbox.reclaim(owner)
        released += await uow.deliveries.reclaim(owner)
        await uow.commit()
    return released


async def release_own_claims(ctx: Context, owner: Owner) -> int:
    """At a graceful stop: give back what this process still holds, for the other instances."""
    async with ctx.store.unit_of_work() as uow:
        released = await uow.inbox.release(owner) + await uow.outbox.release(owner)
        released += await uow.deliveries.release(owner)
        await uow.commit()
    return released


async def purge_settled(ctx: Context, before: datetime, batch: int) -> int:
    """Delete one batch of handled events and one of sent effects settled before `before`, each
    in a short transaction of its own; how many rows (fewer than 2 * batch: nothing more due)."""
    async with ctx.store.unit_of_work() as uow:
        purged = await uow.inbox.purge_settled(before, batch)
        await uow.commit()
    async with ctx.store.unit_of_work() as uow:
        purged += await uow.outbox.purge_settled(before, batch)
        await uow.commit()
    return purged


async def refresh_gauges(ctx: Context) -> None:
    """Read the queues' backlog and the minigroups by stage (one read-only unit of work) and
    report them as gauges: the same values on every instance, as they count the whole database."""
    now = ctx.clock.now()
    async with ctx.store.unit_of_work(read_only=True) as uow:
        inbox = await uow.overview.inbox_backlog()
        outbox = await uow.overview.outbox_backlog()
        stages = await uow.overview.minigroups_by_stage(now)
    metrics = ctx.metrics
    metrics.set_gauge("inbox_pending_events", inbox.pending)
    metrics.set_gauge("inbox_dead_letters", inbox.dead)
    metrics.set_gauge("outbox_pending_messages", outbox.pending)
    metrics.set_gauge("inbox_oldest_pending_age_seconds", _age(inbox, now))
    metrics.set_gauge("outbox_oldest_pending_age_seconds", _age(outbox, now))
    for stage in STAGES:
        metrics.set_gauge("by_stage", stages.get(stage, 0), stage=stage)


def _age(backlog: Backlog, now: datetime) -> float:
    """Seconds since the oldest pending row arrived; 0 when nothing is pending."""
    if backlog.oldest_pending_at is None:
        return 0.0
    return max((now - backlog.oldest_pending_at).total_seconds(), 0.0)


async def purge_deliveries(ctx: Context, before: datetime, batch: int) -> int:
    """Delete one batch of webhook deliveries settled before `before`, with their attempts."""
    async with ctx.store.unit_of_work() as uow:
        purged = await uow.deliveries.purge_settled(before, batch)
        await uow.commit()
    return purged
