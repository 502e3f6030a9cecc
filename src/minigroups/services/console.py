"""The operators' console: what it reads (overview, listings, dead letters) and the one thing it
changes (a dead letter replayed). A minigroup's own page is `services/console_minigroup.py`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from minigroups.domain.errors import InvalidParameter
from minigroups.domain.minigroup import Status
from minigroups.ports import InboxEntry, ListedMinigroup, ListingCursor, QueueTotals
from minigroups.services import inbox_admin
from minigroups.services.context import Context
from minigroups.services.health import Readiness, check_readiness

CHART_MINUTES = 60
PAGE_SIZE = 25
DEAD_LETTERS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Overview:
    """The backlog, the events handled in each of the last 60 minutes (oldest first, the last
    one is the current minute) and the state of the database and the broker."""

    totals: QueueTotals
    per_minute: list[int]
    chart_end: datetime
    readiness: Readiness
    now: datetime


async def overview(ctx: Context) -> Overview:
    now = ctx.clock.now()
    readiness = await check_readiness(ctx)
    current = now.replace(second=0, microsecond=0)
    start = current - timedelta(minutes=CHART_MINUTES - 1)
    async with ctx.store.unit_of_work(read_only=True) as uow:
        totals = await uow.console.queue_totals()
        handled = await uow.console.handled_per_minute(start)
    return Overview(totals, minute_buckets(handled, start, CHART_MINUTES), current, readiness, now)


def minute_buckets(counts: list[tuple[datetime, int]], start: datetime, minutes: int) -> list[int]:
    """Counts per minute from `start` on, `minutes` of them; counts outside are dropped."""
    buckets = [0] * minutes
    for minute, count in counts:
        index = int((minute - start).total_seconds() // 60)
        if 0 <= index < minutes:
            buckets[index] += count
    return buckets


@dataclass(frozen=True, slots=True)
class MinigroupPage:
    items: list[ListedMinigroup]
    next_cursor: str | None


async def list_minigroups(
    ctx: Context,
    audience: str,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> MinigroupPage:
    """A page of the audience's minigroups, newest first, with the cursor of the next page.

    The listing route of issue 9 (`services/listing.py`) will offer the same; this is the
    console's own query until then.
    """
    wanted = parse_status(status)
    after = None if cursor is None else decode_cursor(cursor)
    async with ctx.store.unit_of_work(read_only=True) as uow:
        items = await uow.console.list_minigroups(
            audience, status=wanted, after=after, limit=limit + 1, now=ctx.clock.now()
        )
    if len(items) <= limit:
        return MinigroupPage(items, None)
    last = items[limit - 1].minigroup
    return MinigroupPage(items[:limit], encode_cursor(ListingCursor(last.created_at, last.id)))


def parse_status(value: str | None) -> Status | None:
    if not value:
        return None
    try:
        return Status(value)
    except ValueError:
        known = ", ".join(status.value for status in Status)
        raise InvalidParameter(f"no status {value!r} ({known})") from None


def encode_cursor(cursor: ListingCursor) -> str:
    text = f"{cursor.created_at.isoformat()}|{cursor.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> ListingCursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        created_at, _, id_text = raw.partition("|")
        cursor = ListingCursor(datetime.fromisoformat(created_at), UUID(id_text))
    except (ValueError, binascii.Error):
        raise InvalidParameter("the page cursor is not one this console gave out") from None
    if cursor.created_at.tzinfo is None:
        raise InvalidParameter("the page cursor is not one this console gave out")
    return cursor


async def dead_letters(ctx: Context, limit: int = DEAD_LETTERS_SHOWN) -> list[InboxEntry]:
    async with ctx.store.unit_of_work(read_only=True) as uow:
        return await uow.console.dead_letters(limit)


async def replay_dead_letter(ctx: Context, event_id: UUID) -> inbox_admin.Replay:
    """Only a dead letter is replayed: a handled event is refused (never forced from here)."""
    return await inbox_admin.replay(ctx.store, event_id, force=False)
