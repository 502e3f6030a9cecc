"""Who may use the console, and that every changing form needs the session's CSRF token.

Plain HTTP against the console's real listener (no browser needed to read status codes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from minigroups.services import console
from tests.console.support import Served, console_settings, hidden, login, login_token, serving

TOPIC = "apps/conference.svc.example.org/api/v1/audiences/usr.example.org/events"


@pytest.fixture
async def served(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(console_settings(sqlite_url, tmp_path, max_attempts=1)) as running:
        yield running


@pytest.fixture
async def browser(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies, as a browser does; redirects are not followed."""
    async with httpx.AsyncClient(base_url=served.console_url) as client:
        yield client


async def a_dead_letter(served: Served) -> UUID:
    """A `room.upload` whose payload is not JSON: buried at its first (and only) attempt."""
    await served.container.runtime.receive(TOPIC, {"label": "room.upload"}, "{not json")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        letters = await console.dead_letters(served.container.ctx)
        if letters:
            return letters[0].id
        await asyncio.sleep(0.05)
    raise AssertionError("the poison event never became a dead letter")


async def test_without_a_session_every_page_leads_to_the_login(
    browser: httpx.AsyncClient,
) -> None:
    for path in ("/console/", "/console/minigroups", "/console/dead-letters"):
        answer = await browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/login"


async def test_a_wrong_token_is_refused(browser: httpx.AsyncClient) -> None:
    answer = await login(browser, "not-a-token")
    assert answer.status_code == 401
    assert "The token is refused" in answer.text
    assert "minigroups_console=" not in answer.headers.get("set-cookie", "")
    assert (await browser.get("/console/")).status_code == 303


async def test_a_valid_token_of_an_account_that_is_no_admin_is_refused(
    served: Served, browser: httpx.AsyncClient
) -> None:
    answer = await login(browser, served.token("user1"))
    assert answer.status_code == 403
    assert "user1.usr.example.org is not a console admin" in answer.text
    assert (await browser.get("/console/")).status_code == 303


async def test_an_admin_logs_in_with_a_strict_http_only_cookie(
    served: Served, browser: httpx.AsyncClient
) -> None:
    answer = await login(browser, served.token())
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/"
    cookie = next(
        value
        for value in answer.headers.get_list("set-cookie")
        if value.startswith("minigroups_console=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    assert "Max-Age=28800" in cookie
    overview = await browser.get("/console/")
    assert overview.status_code == 200
    assert "<h1>Overview</h1>" in overview.text
    assert "script-src" not in overview.headers["content-security-policy"]  # none at all
    assert "default-src 'none'" in overview.headers["content-security-policy"]


async def test_the_login_form_needs_its_own_token(
    served: Served, browser: httpx.AsyncClient
) -> None:
    """Without the form's token (a cross-site post would lack it), no session is opened."""
    page = await browser.get("/console/login")
    forged = await browser.post(
        "/console/login", data={"token": served.token(), "login_token": "guessed"}
    )
    assert forged.status_code == 403
    missing = await browser.post("/console/login", data={"token": served.token()})
    assert missing.status_code == 403
    assert (await browser.get("/console/")).status_code == 303
    right = await browser.post(
        "/console/login", data={"token": served.token(), "login_token": login_token(page.text)}
    )
    assert right.status_code == 303


async def test_a_replay_needs_the_sessions_csrf_token(
    served: Served, browser: httpx.AsyncClient
) -> None:
    event_id = await a_dead_letter(served)
    await login(browser, served.token())
    page = await browser.get("/console/dead-letters")
    assert str(event_id) in page.text
    csrf = hidden(page.text, "csrf_token")
    replay = f"/console/dead-letters/{event_id}/replay"
    async with httpx.AsyncClient(base_url=served.console_url) as other:
        await login(other, served.token())
        others = hidden((await other.get("/console/dead-letters")).text, "csrf_token")
    for form in ({}, {"csrf_token": ""}, {"csrf_token": "x" * 43}, {"csrf_token": others}):
        refused = await browser.post(replay, data=form)
        assert refused.status_code == 403, form
        assert "CSRF token" in refused.text
    as_json = await browser.post(replay, json={"csrf_token": csrf})
    assert as_json.status_code == 403  # only the form encoding is read
    [still] = await console.dead_letters(served.container.ctx)
    assert still.id == event_id
    assert still.status == "dead"
    done = await browser.post(replay, data={"csrf_token": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/dead-letters?outcome=replayed"


async def test_a_replay_without_a_session_is_refused(
    served: Served, browser: httpx.AsyncClient
) -> None:
    event_id = await a_dead_letter(served)
    refused = await browser.post(
        f"/console/dead-letters/{event_id}/replay", data={"csrf_token": "anything"}
    )
    assert refused.status_code == 403
    assert [letter.id for letter in await console.dead_letters(served.container.ctx)] == [event_id]


async def test_logout_needs_the_csrf_token_and_ends_the_session(
    served: Served, browser: httpx.AsyncClient
) -> None:
    await login(browser, served.token())
    page = await browser.get("/console/")
    assert (await browser.post("/console/logout", data={})).status_code == 403
    assert (await browser.get("/console/")).status_code == 200  # still logged in
    cookie = browser.cookies["minigroups_console"]
    out = await browser.post(
        "/console/logout", data={"csrf_token": hidden(page.text, "csrf_token")}
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/console/login"
    # The session is gone on the server: the old cookie, replayed, opens nothing.
    async with httpx.AsyncClient(
        base_url=served.console_url, cookies={"minigroups_console": cookie}
    ) as replayed:
        assert (await replayed.get("/console/")).status_code == 303


async def test_metrics_stay_on_the_same_listener_without_a_login(
    served: Served, browser: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=served.api_url) as api:
        await api.get("/healthz")
    answer = await browser.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE minigroups_http_request_duration_seconds histogram" in answer.text
    assert 'route="/healthz"' in answer.text


async def test_bad_filters_and_unknown_minigroups_are_pages_not_tracebacks(
    served: Served, browser: httpx.AsyncClient
) -> None:
    await login(browser, served.token())
    listing = "/console/minigroups?audience=usr.example.org"
    bad_status = await browser.get(f"{listing}&status=done")
    assert bad_status.status_code == 400
    assert "no status" in bad_status.text
    bad_cursor = await browser.get(f"{listing}&cursor=not-ours")
    assert bad_cursor.status_code == 400
    unknown = await browser.get("/console/minigroups/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert "No minigroup has the id" in unknown.text
    empty = await browser.get(f"{listing}&status=transcoded")
    assert empty.status_code == 200
    assert "No minigroups with status transcoded" in empty.text
