"""The console in a real browser (Debian's chromium driven by Playwright), as an operator uses it.

A lesson with three participants (pins and mutes included) finishes in the sandbox; its page
shows every pipeline stage done and one bar per recorded segment. Then the event service stops
answering history reads: the next lesson's last conversion becomes a dead letter and its page
shows the stuck stage; once the service answers again, the Replay button revives the event, it
leaves the dead letters, and the lesson goes on to `transcoded`. Screenshots are kept in the
test's tmp dir (`MINIGROUPS_CONSOLE_SCREENSHOT=path` also copies the lesson's page there).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.async_api import FloatRect, Page, async_playwright, expect

from minigroups.adapters.sandbox.sandbox import EVENT
from minigroups.domain.minigroup import Recording
from minigroups.domain.timerange import to_unix_ms
from minigroups.services import console
from tests.api.conftest import AUDIENCE
from tests.console.support import Served, chromium, console_settings, serving

MINUTE_MS = 60_000
LESSON = 45 * 60  # the sandbox's recordings last 30 min within it
SCREENSHOT_VARIABLE = "MINIGROUPS_CONSOLE_SCREENSHOT"

pytestmark = pytest.mark.slow


@pytest.fixture
async def served(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    settings = console_settings(sqlite_url, tmp_path, max_attempts=2, retry_base_seconds=0.2)
    async with serving(settings) as running:
        yield running


async def _create(served: Served, scope: str, tags: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "scope": scope,
        "audience": AUDIENCE,
        "time": [now - LESSON, now + 60],
        "tags": tags,
        "properties": {"is_adult": False, "subject": "algebra"},
        "reserve": 3,
    }
    async with httpx.AsyncClient(base_url=served.api_url, headers=served.auth()) as api:
        created = await api.post("/api/v1/minigroups", json=body)
        assert created.status_code == 201, created.text
        result: dict[str, Any] = created.json()
        return result


async def _finish(served: Served, minigroup: dict[str, Any], participants: int) -> None:
    async with httpx.AsyncClient(base_url=served.api_url, headers=served.auth()) as api:
        url = f"/sandbox/minigroups/{minigroup['id']}/finish"
        answer = await api.post(url, json={"participants": participants})
        assert answer.status_code == 202, answer.text


async def _status(served: Served, minigroup: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=served.api_url, headers=served.auth()) as api:
        status: str = (await api.get(f"/api/v1/minigroups/{minigroup['id']}")).json()["status"]
        return status


async def _eventually(check: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.1)


async def _recordings(served: Served, minigroup_id: str) -> list[Recording]:
    async with served.container.ctx.store.unit_of_work(read_only=True) as uow:
        return await uow.recordings.list_live(UUID(minigroup_id))


def _participant(n: int) -> str:
    return f"web.participant{n}.{AUDIENCE}"


def _pins(served: Served, room: UUID) -> None:
    """The host pins participant 2 at 5 min, participant 3 at 12 min, unpins at 20 min.

    Written into the modified room, where the transcoding (and the console) reads them: the
    sandbox's copy of a room does not keep the events' times, the event service's does.
    """
    for minute, agent in ((5, _participant(2)), (12, _participant(3)), (20, None)):
        served.sandbox.event.add_event(
            room,
            type_="pin",
            data={"agent_id": agent},
            created_by=_participant(1),
            occurred_at=minute * MINUTE_MS * 1_000_000,
        )


def _mutes(served: Served, minigroup: dict[str, Any], recordings: list[Recording]) -> None:
    """Participant 2 turns the camera off from 7 to 9 min; participant 3 mutes 15 to 17 min."""
    room = UUID(minigroup["conference_room_id"])
    by_author = {r.created_by: r for r in recordings}
    for author, kind, start, end in ((2, "send_video", 7, 9), (3, "send_audio", 15, 17)):
        recording = by_author[_participant(author)]
        assert recording.started_at is not None
        started = to_unix_ms(recording.started_at)
        for minute, sending in ((start, False), (end, True)):
            served.sandbox.conference.add_snapshot(
                room,
                rtc_id=recording.rtc_id,
                created_at=started + minute * MINUTE_MS,
                **{kind: sending},
            )


async def _log_in(page: Page, served: Served) -> None:
    await page.goto(f"{served.console_url}/console/")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("Bearer token of a console admin").fill(served.token())
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


async def _open_minigroup(page: Page, scope: str, status: str) -> None:
    await page.get_by_role("link", name="Minigroups").click()
    await page.get_by_label("Audience").select_option(AUDIENCE)
    await page.get_by_label("Status").select_option(status)
    await page.get_by_role("button", name="Show").click()
    await page.get_by_role("link", name=scope).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(scope)


async def _stages(page: Page) -> list[tuple[str, str]]:
    found: list[list[str]] = await page.locator("#timeline g.stage").evaluate_all(
        "gs => gs.map(g => [g.dataset.stage, g.dataset.state])"
    )
    return [(key, state) for key, state in found]


async def test_an_operator_follows_a_lesson_and_replays_a_dead_letter(
    served: Served, tmp_path: Path
) -> None:
    lesson = await _create(served, "algebra-7b-lesson-12", {"course": "algebra", "grade": 7})
    await _finish(served, lesson, participants=3)

    async def transcoded() -> bool:
        return await _status(served, lesson) == "transcoded"

    await _eventually(transcoded)
    recordings = await _recordings(served, lesson["id"])
    assert len(recordings) == 3
    async with served.container.ctx.store.unit_of_work(read_only=True) as uow:
        stored = await uow.minigroups.get(UUID(lesson["id"]))
    assert stored is not None
    assert stored.modified_event_room_id is not None
    _pins(served, stored.modified_event_room_id)
    _mutes(served, lesson, recordings)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium())
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            await _log_in(page, served)
            await page.screenshot(path=tmp_path / "overview.png", full_page=True)

            await _open_minigroup(page, lesson["scope"], "transcoded")
            converted = [f"converted:{r.rtc_id}" for r in recordings]
            keys = ["created", "closed", "uploaded", *converted, "adjusted", "transcoded"]
            assert await _stages(page) == [(key, "done") for key in [*keys, "ready"]]
            for key in keys:  # each done stage is a dot with its time
                stage = page.locator(f'#timeline g[data-stage="{key}"]')
                await expect(stage.locator("circle.mark")).to_have_count(1)
                await expect(stage.locator("text.time")).to_have_text(re.compile(r"\d\d:\d\d"))
            segments = sum(len(r.segments or []) for r in recordings)
            await expect(page.locator("#recordings g.track")).to_have_count(3)
            await expect(page.locator("#recordings rect.segment")).to_have_count(segments)
            await expect(page.locator("#recordings rect.pin")).to_have_count(2)
            await expect(page.locator("#recordings rect.mute-video")).to_have_count(1)
            await expect(page.locator("#recordings rect.mute-audio")).to_have_count(1)
            await expect(page.locator("#timeline")).to_have_attribute("role", "img")
            await expect(page.locator("#stuck")).to_have_count(0)
            shot = tmp_path / "minigroup.png"
            await page.screenshot(path=shot, full_page=True)
            if os.environ.get(SCREENSHOT_VARIABLE):  # the README's: the pipeline and recordings
                clip = FloatRect(x=0, y=0, width=1280, height=900)
                path = os.environ[SCREENSHOT_VARIABLE]
                await page.screenshot(path=path, clip=clip, full_page=True)

            await _dead_letter_replayed(served, page, tmp_path)
        finally:
            await browser.close()


async def _dead_letter_replayed(served: Served, page: Page, tmp_path: Path) -> None:
    served.faults.fail(EVENT, "event.list")  # the host lookup after the last conversion fails
    lesson = await _create(served, "geometry-8a-lesson-3", {"course": "geometry"})
    await _finish(served, lesson, participants=1)

    async def buried() -> bool:
        return bool(await console.dead_letters(served.container.ctx))

    await _eventually(buried)
    [letter] = await console.dead_letters(served.container.ctx)
    assert letter.label == "task.complete"

    await _open_minigroup(page, lesson["scope"], "finished")
    await expect(page.locator("#stuck")).to_contain_text("dead letter task.complete")
    await expect(page.locator('#timeline g[data-state="stuck"]')).to_have_count(1)
    await expect(page.locator(f'tr[data-event="{letter.id}"]')).to_contain_text("dead")
    # The event service does not answer: the bars are drawn without pins and mutes, and said so.
    await expect(page.locator("#recordings rect.segment")).to_have_count(1)
    await expect(page.get_by_text("pins and mutes are not shown")).to_be_visible()
    await page.screenshot(path=tmp_path / "stuck.png", full_page=True)

    served.faults.reset_failures()  # the cause is fixed
    await page.get_by_role("link", name="Dead letters").click()
    row = page.locator(f'tr[data-event="{letter.id}"]')
    await expect(row).to_contain_text("UpstreamFailed")
    await row.get_by_role("button", name=re.compile("^Replay")).click()
    await expect(page.locator("#outcome")).to_contain_text("pending again")
    await expect(row).to_have_count(0)
    await page.screenshot(path=tmp_path / "replayed.png", full_page=True)

    async def transcoded() -> bool:
        return await _status(served, lesson) == "transcoded"

    await _eventually(transcoded)
    await page.reload()
    await expect(page.locator("#no-dead-letters")).to_be_visible()
