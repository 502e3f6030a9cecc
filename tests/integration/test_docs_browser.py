"""`/api/v1/docs` in a real headless browser: Debian's Chromium driven by Playwright.

The page of a real `minigroups serve` renders the document, authorizes with a pasted token and
runs "Try it out" against the service; every request the browser makes goes to the service and
none fails. Nothing is installed here: the browser is the system's (`CHROMIUM_BINARY`, default
/usr/bin/chromium, from `make test`'s SYSTEM_PROGRAMS); without it the test is skipped, or fails
under CI=true.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, Response, expect, sync_playwright

from tests.support.served import Served, serve

BINARY_VARIABLE = "CHROMIUM_BINARY"
DEFAULT_BINARY = "/usr/bin/chromium"
TIMEOUT_MS = 30_000


def chromium_binary() -> str:
    """The browser binary; skip (or fail under CI=true) loudly when it is not installed."""
    binary = os.environ.get(BINARY_VARIABLE, DEFAULT_BINARY)
    found = shutil.which(binary)
    if found is None:
        in_ci = os.environ.get("CI", "").lower() == "true"
        message = (
            f"Chromium is not installed at {binary}: the docs page browser test is "
            f"{'FAILED (CI=true)' if in_ci else 'SKIPPED'} (install the `chromium` package or "
            f"set {BINARY_VARIABLE})"
        )
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serve(tmp_path) as running:
        yield running


class Traffic:
    """Every request the page makes, and the ones that failed or were answered with an error."""

    def __init__(self, page: Page) -> None:
        self.requested: list[str] = []
        self.failed: list[str] = []
        page.on("request", self._request)
        page.on("requestfailed", lambda request: self.failed.append(f"failed {request.url}"))
        page.on("response", self._response)

    def _request(self, request: Request) -> None:
        self.requested.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.status} {response.url}")


def _authorize(page: Page, token: str) -> None:
    page.locator("button.authorize").first.click()
    bearer = page.locator(".auth-container").filter(has_text="bearerAuth")
    bearer.locator("input").fill(token)
    bearer.locator("button.authorize").click()
    page.locator("button.btn-done").first.click()


def _try_read(page: Page, minigroup_id: str) -> None:
    operation = page.locator("#operations-minigroups-read_by_id")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator('input[placeholder="id"]').fill(minigroup_id)
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=TIMEOUT_MS)
    expect(operation.locator(".live-responses-table")).to_contain_text("docs-lesson")


@pytest.mark.slow
def test_the_docs_page_renders_offline_and_tries_a_route_with_a_pasted_token(
    served: Served, tmp_path: Path
) -> None:
    binary = chromium_binary()
    created = httpx.post(
        f"{served.base}/api/v1/minigroups",
        json={"scope": "docs-lesson", "audience": "usr.minigroups.local"},
        headers=served.auth,
    )
    assert created.status_code == 201, created.text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True)
        try:
            page = browser.new_page()
            traffic = Traffic(page)
            page.goto(f"{served.base}/api/v1/docs", wait_until="load")
            expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                "minigroups", timeout=TIMEOUT_MS
            )
            expect(page.locator("#operations-minigroups-create")).to_be_visible()
            expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)
            _authorize(page, served.token)
            _try_read(page, created.json()["id"])
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        finally:
            browser.close()
    outside = [url for url in traffic.requested if not url.startswith(served.base + "/")]
    assert outside == []
    assert traffic.failed == []
    assert f"{served.base}/api/v1/openapi.json" in traffic.requested
    assert f"{served.base}/api/v1/minigroups/{created.json()['id']}" in traffic.requested
    assert (tmp_path / "docs.png").stat().st_size > 10_000
