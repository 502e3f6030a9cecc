"""Reading the listing in tests: one page, or every page by following `next_cursor`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from tests.api.conftest import AUDIENCE, Api

Params = dict[str, Any]


def listing_url(audience: str = AUDIENCE) -> str:
    return f"/api/v1/audiences/{audience}/minigroups"


async def page(
    api: Api,
    params: Params | None = None,
    *,
    audience: str = AUDIENCE,
    label: str = "user1",
) -> httpx.Response:
    """One request; a list value repeats its parameter (`status=a&status=b`)."""
    return await api.client.get(
        listing_url(audience), params=params or {}, headers=api.auth(label, audience)
    )


async def ok_page(api: Api, params: Params | None = None, **kwargs: Any) -> dict[str, Any]:
    response = await page(api, params, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"items", "next_cursor"}
    return body


async def walk(
    api: Api, params: Params | None = None, *, limit: int = 3, audience: str = AUDIENCE
) -> list[dict[str, Any]]:
    """Every item, page after page; each page but the last is full."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = {**(params or {}), "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        body = await ok_page(api, query, audience=audience)
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit
    raise AssertionError("the walk did not end")


def scopes(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def schedule_key(time: list[int | None], class_id: str) -> tuple[bool, int, UUID]:
    """The listing's order: unbounded starts first, then by start; then by id."""
    start = time[0]
    return (start is not None, start or 0, UUID(class_id))
