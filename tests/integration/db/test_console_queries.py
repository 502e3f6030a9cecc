"""The console's read queries on both databases: listings by status with keyset pages, the
backlog, events handled per minute, dead letters, and the rows that mention one minigroup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from minigroups.adapters.db import SqlStore
from minigroups.domain.minigroup import Minigroup, Status
from minigroups.domain.timerange import TimeRange
from minigroups.ports import IncomingEvent, ListingCursor, OutgoingMessage, Owner
from tests.integration.db.helpers import establish, new_minigroup

AUDIENCE = "usr.example.com"
NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)
OWNER = Owner("console.test", uuid4())


async def _with_recording(store: SqlStore, minigroup: Minigroup, stage: Status) -> None:
    async with store.unit_of_work() as uow:
        await uow.recordings.upsert_uploaded(minigroup.id, uuid4(), "web.p1.usr", NOW)
        [recording] = await uow.recordings.list_live(minigroup.id)
        if stage in (Status.ADJUSTED, Status.TRANSCODED):
            await uow.recordings.set_modified_segments(recording.id, [(0, 10)], NOW)
        if stage is Status.TRANSCODED:
            await uow.recordings.mark_transcoded(minigroup.id, NOW)
        await uow.commit()


async def _lessons(store: SqlStore) -> dict[Status, Minigroup]:
    """One minigroup of each status, created in this order (the listing shows newest first)."""
    future = TimeRange(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    lessons = {
        Status.CLOSED: await establish(store, new_minigroup("closed")),  # ended in 2024
        Status.REAL_TIME: await establish(store, new_minigroup("on-air", time=future)),
    }
    for status in (Status.FINISHED, Status.ADJUSTED, Status.TRANSCODED):
        lessons[status] = await establish(store, new_minigroup(status.value))
        await _with_recording(store, lessons[status], status)
    await establish(store, new_minigroup("elsewhere", audience="usr.other.com"))
    return lessons


async def test_minigroups_are_listed_by_status(store: SqlStore) -> None:
    lessons = await _lessons(store)
    async with store.unit_of_work(read_only=True) as uow:
        for status, minigroup in lessons.items():
            listed = await uow.console.list_minigroups(
                AUDIENCE, status=status, after=None, limit=10, now=NOW
            )
            assert [(item.minigroup.id, item.status) for item in listed] == [(minigroup.id, status)]
        everything = await uow.console.list_minigroups(
            AUDIENCE, status=None, after=None, limit=10, now=NOW
        )
    assert {item.minigroup.id: item.status for item in everything} == {
        minigroup.id: status for status, minigroup in lessons.items()
    }


async def test_pages_follow_each_other_newest_first_without_gaps(store: SqlStore) -> None:
    lessons = await _lessons(store)
    seen = []
    after = None
    async with store.unit_of_work(read_only=True) as uow:
        for _ in range(4):
            page = await uow.console.list_minigroups(
                AUDIENCE, status=None, after=after, limit=2, now=NOW
            )
            seen += [item.minigroup for item in page]
            if len(page) < 2:
                break
            after = ListingCursor(page[-1].minigroup.created_at, page[-1].minigroup.id)
    order = sorted(lessons.values(), key=lambda m: (m.created_at, m.id), reverse=True)
    assert [m.id for m in seen] == [m.id for m in order]


async def _event(store: SqlStore, key: str, payload: str, at: datetime) -> None:
    async with store.unit_of_work() as uow:
        topic = "apps/conference.svc/api/v1/audiences/usr/events"
        await uow.inbox.add(IncomingEvent(key, topic, "room.close", payload, at))
        await uow.commit()


async def _settle(store: SqlStore, *, done_at: list[datetime], dead: int) -> None:
    """Claim every due event; the first ones complete at `done_at`, `dead` more are buried."""
    async with store.unit_of_work() as uow:
        items = await uow.inbox.claim_due(NOW, OWNER, NOW + timedelta(minutes=1), 100)
        for item, at in zip(items, done_at, strict=False):
            await uow.inbox.complete(item, at)
        for item in items[len(done_at) : len(done_at) + dead]:
            await uow.inbox.bury(item, "LifecycleFailed: boom")
        await uow.commit()


async def test_the_backlog_and_the_events_handled_per_minute(store: SqlStore) -> None:
    room = uuid4()
    for n in range(6):
        payload = f'{{"id": "{room if n == 0 else uuid4()}"}}'
        await _event(store, f"k{n}", payload, NOW - timedelta(minutes=10 - n))
    minute = NOW.replace(second=0)
    handled = [minute - timedelta(minutes=2, seconds=-5), minute - timedelta(minutes=2), minute]
    await _settle(store, done_at=handled, dead=2)
    await _event(store, "later", "{}", NOW + timedelta(hours=1))  # pending, not due yet
    async with store.unit_of_work() as uow:
        await uow.outbox.add(OutgoingMessage(f"minigroup.stop:{room}:x", "notify", {}), NOW)
        await uow.commit()
    async with store.unit_of_work(read_only=True) as uow:
        totals = await uow.console.queue_totals()
        per_minute = await uow.console.handled_per_minute(NOW - timedelta(minutes=5))
        dead = await uow.console.dead_letters(10)
        mentioning = await uow.console.inbox_mentioning([str(room)], 10)
        effects = await uow.console.outbox_mentioning([f":{room}:"], 10)
        nothing = await uow.console.inbox_mentioning([], 10)
    assert (totals.inbox_pending, totals.inbox_dead, totals.outbox_pending) == (2, 2, 1)
    assert totals.oldest_inbox_pending == NOW - timedelta(minutes=5)
    assert totals.oldest_outbox_pending == NOW
    assert per_minute == [(minute - timedelta(minutes=2), 2), (minute, 1)]
    assert [letter.last_error for letter in dead] == ["LifecycleFailed: boom"] * 2
    assert all(letter.status == "dead" for letter in dead)
    assert [(e.status, e.handled_at) for e in mentioning] == [("done", handled[0])]
    assert [e.key for e in effects] == [f"minigroup.stop:{room}:x"]
    assert nothing == []
