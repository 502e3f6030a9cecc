"""The inbox worker and the outbox relay: leased claims, retries with backoff, dead letters.

Both are plain loops over durable tables: a process that dies loses nothing, since a claimed
item whose lease runs out is claimed again by whichever instance is alive (and at once by the
same instance when it starts again: consumer/runtime.py). While an item is worked on, its lease
is renewed every third of the lease, so a slow peer never lets a second worker take it over; a
worker whose lease was taken over anyway cannot commit its result (`LeaseLost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID, uuid4

from minigroups.consumer.batching import Batcher
from minigroups.consumer.dispatch import handle
from minigroups.consumer.logfields import log_effect, log_event
from minigroups.domain.errors import DatabaseUnavailable, LeaseLost, LifecycleFailed
from minigroups.ports import DeliveryItem, InboxItem, OutboxItem, Owner
from minigroups.services import inbox, outbox
from minigroups.services.context import Context
from minigroups.services.outage import Backoff, Outage
from minigroups.services.pipeline.events import LifecycleDecoder

log = logging.getLogger(__name__)
Item = TypeVar("Item", InboxItem, OutboxItem, DeliveryItem)


@dataclass(frozen=True, slots=True)
class LoopOptions:
    max_attempts: int = 5
    retry_base: float = 1.0
    retry_max: float = 300.0
    lease: float = 15.0
    concurrency: int = 32  # as `[pipeline] concurrency` (config/settings.py)
    poll: float = 1.0
    grace: float = 5.0  # at stop: how long items in flight may finish before they are released

    @property
    def heartbeat(self) -> float:
        """How often the leases of items in flight are renewed."""
        return self.lease / 3

    def backoff(self, attempts: int) -> timedelta:
        """Exponential, capped, with jitter so that instances do not retry in lockstep."""
        delay = min(self.retry_base * 2 ** max(attempts - 1, 0), self.retry_max)
        return timedelta(seconds=delay * random.uniform(0.8, 1.0))  # noqa: S311


class QueueLoop(ABC, Generic[Item]):
    """Claims due items and processes them concurrently; idle, it sleeps until woken or the poll
    interval elapses."""

    name = "queue"

    def __init__(self, ctx: Context, options: LoopOptions, *, owner: Owner | None = None) -> None:
        self.ctx = ctx
        self.options = options
        self.owner = owner or Owner("local", uuid4())
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._held: dict[UUID, UUID] = {}  # item id -> lease, of the items in flight
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._running = False
        self._claiming = 0  # slots a claim on its way may fill
        self._reserved = 0  # slots promised to items being claimed elsewhere (`reserve`)
        # Claim failures (the database is down) back off from the poll interval up to a cap.
        self._claims = Outage(f"{self.name}: claiming", Backoff(initial=options.poll), log)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Claim nothing more; `run` returns once the items in flight are done, or after
        `grace` seconds (it cancels what is left; the runtime then releases those claims)."""
        self._stopping.set()
        self._wake.set()

    def _free(self) -> int:
        taken = len(self._in_flight) + self._claiming + self._reserved
        return self.options.concurrency - taken

    def reserve(self, wanted: int) -> int:
        """Promise up to `wanted` free slots to items claimed elsewhere in this process (the
        intake claims new events as it records them); how many. None unless `run` runs."""
        if not self._running or self._stopping.is_set():
            return 0
        granted = max(0, min(wanted, self._free()))
        self._reserved += granted
        return granted

    def take(self, items: Sequence[Item], reserved: int) -> None:
        """Process `items`, claimed for this loop's owner, in `reserved` slots of `reserve`
        (those left over are free again). Stopping, it leaves them: the claims are released
        at stop, or their leases run out."""
        self._reserved -= reserved
        if len(items) > reserved:
            raise ValueError(f"{len(items)} items for {reserved} reserved slots")
        if not self._stopping.is_set():
            self._start(items)
        if len(items) < reserved:
            self._slot_freed.set()

    def _start(self, items: Sequence[Item]) -> None:
        for item in items:
            task = asyncio.create_task(self._process_held(item))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._slot_freed.set()

    async def run(self) -> None:
        """Keep up to `concurrency` items in flight, claiming more as soon as a slot frees up."""
        keeper = asyncio.create_task(self._keep_leases(), name=f"{self.name}-leases")
        self._running = True
        try:
            due = True  # whether unclaimed items may be due (at start: maybe)
            while not self._stopping.is_set():
                free = self._free()
                if free > 0 and due:
                    claimed = await self._claim_held(free)
                    self._start(claimed)
                    if claimed and len(claimed) == free:
                        continue  # the batch was full: more may be due; slots checked above
                    # Short of free slots: nothing else was due, so a finished item is no
                    # reason to look again (a claim that finds nothing is a wasted round trip);
                    # only new work (a wake-up: new items not handed over by `take`) or the
                    # poll interval is.
                    due = False
                # With every slot taken, a free one is worth a claim only when items may be
                # due (a full batch before it, or a wake-up meanwhile).
                due = await self._idle(full=free <= 0) or due
            if self._in_flight:
                await asyncio.wait(self._in_flight, timeout=self.options.grace)
        finally:
            self._running = False
            keeper.cancel()
            in_flight = list(self._in_flight)
            for task in in_flight:
                task.cancel()
            await asyncio.gather(keeper, *in_flight, return_exceptions=True)

    async def _claim_held(self, free: int) -> list[Item]:
        """`_claim_safely`, with the slots it may fill counted meanwhile (by `reserve`)."""
        self._claiming = free
        try:
            return await self._claim_safely(free)
        finally:
            self._claiming = 0

    def lease_end(self) -> datetime:
        return self.ctx.clock.now() + timedelta(seconds=self.options.lease)

    async def _claim_safely(self, limit: int) -> list[Item]:
        try:
            claimed = await self.claim(self.lease_end(), limit)
        except Exception as exc:  # noqa: BLE001 - the database may be down: keep the loop alive
            await self._pause(self._claims.failed(exc))
            return []
        self._claims.recovered()
        return claimed

    async def _pause(self, delay: float) -> None:
        """Back off for `delay`, unless woken first: new work was just stored, so the database
        answers again."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _idle(self, *, full: bool) -> bool:
        """Until someone wakes us, or (`full`) a slot frees up, or the poll interval elapses;
        False when only a slot freed up (no sign of new work)."""
        self._slot_freed.clear()
        waits = {asyncio.ensure_future(self._wake.wait())}
        if full:
            waits.add(asyncio.ensure_future(self._slot_freed.wait()))
        try:
            done, _ = await asyncio.wait(
                waits, timeout=self.options.poll, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()
        woken = self._wake.is_set() or not done  # new work, or the poll interval: look
        self._wake.clear()
        return woken

    async def run_once(self) -> int:
        items = await self.claim(self.lease_end(), self.options.concurrency)
        await asyncio.gather(*(self._process_safely(item) for item in items))
        return len(items)

    async def drain(self, rounds: int = 100) -> None:
        """Process until nothing is due (tests and the sandbox)."""
        for _ in range(rounds):
            if not await self.run_once():
                return

    async def _process_held(self, item: Item) -> None:
        """Process with the lease renewed meanwhile (by `_keep_leases`)."""
        if item.lease is not None:
            self._held[item.id] = item.lease
        try:
            await self._process_safely(item)
        finally:
            self._held.pop(item.id, None)

    async def _process_safely(self, item: Item) -> None:
        try:
            await self.process(item)
        except LeaseLost as exc:  # another worker has it: its outcome is the one that counts
            log.warning("%s: %s; its outcome here is dropped", self.name, exc)
            self._count(item, "lease_lost")
        except Exception:  # bookkeeping failed: the lease runs out and the item comes back
            log.exception("%s: could not settle item %s", self.name, item.id)

    async def _keep_leases(self) -> None:
        """Every `heartbeat` seconds, extend the leases of the items in flight."""
        failing = False
        while True:
            await asyncio.sleep(self.options.heartbeat)
            leases = dict(self._held)
            if not leases:
                continue
            try:
                kept = await self.renew(leases, self.lease_end())
            except Exception as exc:  # noqa: BLE001 - the database may be down: try again later
                if not failing:
                    log.warning(
                        "%s: renewing leases failed: %s: %s", self.name, type(exc).__name__, exc
                    )
                failing = True
                continue
            if failing:
                log.info("%s: leases renewed again", self.name)
                failing = False
            for item_id in leases.keys() - kept:
                if self._held.pop(item_id, None) is not None:  # not settled meanwhile
                    log.warning("%s: the lease of %s was taken over", self.name, item_id)

    async def _settle(self, action: Callable[[], Awaitable[None]]) -> None:
        """Record an item's outcome, waiting out a database that is unavailable: the work is
        done (an effect may have been sent), so doing it again must not be the way out."""
        delay = 0.1
        while True:
            try:
                await action()
            except DatabaseUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            else:
                return

    @abstractmethod
    async def claim(self, until: datetime, limit: int) -> list[Item]: ...

    @abstractmethod
    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]: ...

    @abstractmethod
    async def process(self, item: Item) -> None: ...

    @abstractmethod
    def _count(self, item: Item, outcome: str) -> None: ...


class InboxWorker(QueueLoop[InboxItem]):
    """Handles recorded lifecycle events; a failing one is retried, then kept as a dead letter."""

    name = "inbox"

    def __init__(
        self,
        ctx: Context,
        options: LoopOptions,
        decoder: LifecycleDecoder,
        *,
        owner: Owner | None = None,
        after_handled: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(ctx, options, owner=owner)
        self._decoder = decoder
        self._after_handled = after_handled  # e.g. wake the relay: effects were just queued

    async def claim(self, until: datetime, limit: int) -> list[InboxItem]:
        return await inbox.claim_events(self.ctx, self.owner, until, limit)

    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
        return await inbox.renew_events(self.ctx, leases, until)

    def _count(self, item: InboxItem, outcome: str) -> None:
        self.ctx.metrics.increment("inbox_events_total", label=item.label, outcome=outcome)

    async def process(self, item: InboxItem) -> None:
        try:
            await handle(self.ctx, self._decoder, item)
        except LeaseLost:
            raise  # taken over: no retry, no dead letter of ours
        except LifecycleFailed as exc:
            await self._bury(item, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure of a handler is retried
            error = f"{type(exc).__name__}: {exc}"
            if item.attempts >= self.options.max_attempts:
                await self._bury(item, error)
            else:
                log_event(logging.WARNING, item, "failed, retried later", error)
                await self._retry(item, error)
        else:
            log_event(logging.INFO, item, "handled")
            self._count(item, "handled")
            if self._after_handled is not None:
                self._after_handled()

    async def _retry(self, item: InboxItem, error: str) -> None:
        at = self.ctx.clock.now() + self.options.backoff(item.attempts)
        await self._settle(lambda: inbox.retry_event(self.ctx, item, error, at))
        self._count(item, "retried")

    async def _bury(self, item: InboxItem, error: str) -> None:
        log_event(logging.ERROR, item, "is a dead letter", error)
        await self._settle(lambda: inbox.bury_event(self.ctx, item, error))
        self._count(item, "dead")


class OutboxRelay(QueueLoop[OutboxItem]):
    """Sends queued side effects after commit, retrying until the peer acknowledges."""

    name = "outbox"

    def __init__(self, ctx: Context, options: LoopOptions, *, owner: Owner | None = None) -> None:
        super().__init__(ctx, options, owner=owner)
        # Effects sent at about the same time are marked sent in one statement.
        self._sent: Batcher[OutboxItem, bool] = Batcher(self._mark_sent)

    async def _mark_sent(self, items: Sequence[OutboxItem]) -> list[bool]:
        marked = await outbox.mark_sent_many(self.ctx, items)
        return [item.id in marked for item in items]

    async def _mark_one_sent(self, item: OutboxItem) -> None:
        if not await self._sent.submit(item):
            raise LeaseLost(f"outbox item {item.id} was taken over")

    async def claim(self, until: datetime, limit: int) -> list[OutboxItem]:
        return await outbox.claim_effects(self.ctx, self.owner, until, limit)

    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
        return await outbox.renew_effects(self.ctx, leases, until)

    def _count(self, item: OutboxItem, outcome: str) -> None:
        self.ctx.metrics.increment("outbox_messages_total", kind=item.kind, outcome=outcome)

    async def process(self, item: OutboxItem) -> None:
        try:
            await outbox.deliver(self.ctx, item)
        except Exception as exc:  # noqa: BLE001 - any failure to send is retried
            error = f"{type(exc).__name__}: {exc}"
            log_effect(logging.WARNING, item, "failed, retried later", error)
            at = self.ctx.clock.now() + self.options.backoff(item.attempts)
            await self._settle(lambda: outbox.retry_effect(self.ctx, item, error, at))
            self._count(item, "retried")
            return
        await self._settle(lambda: self._mark_one_sent(item))
        log_effect(logging.INFO, item, "sent")
        self._count(item, "sent")
