"""Issue 10: webhook endpoints managed over the API, per audience, under authorization."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import ADMIN, AUDIENCE, LOCKED, MEDIA, REMOTE, Api
from tests.api.webhook_support import (
    FakeResolver,
    admin,
    deliveries,
    send,
    subscribe,
    webhook,
    webhook_api,
)
from tests.support.webhook_receiver import WebhookReceiver

HOOKS = f"/api/v1/audiences/{AUDIENCE}/webhooks"
PUBLIC = "93.184.216.34"  # never connected to: the tests' DNS answers it, no send follows


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> Any:
    async with webhook_api(database_url, tmp_path) as running:
        yield running


async def test_create_answers_the_endpoint_and_its_secret_once(api: Api) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["minigroup.ready"], "description": "d"}
    created = await api.client.post(HOOKS, json=body, headers=admin(api))

    assert created.status_code == 201, created.text
    shown = created.json()
    assert {k: shown[k] for k in body} == body
    assert shown["audience"] == AUDIENCE
    assert shown["enabled"] is True
    datetime.fromisoformat(shown["created_at"])  # RFC 3339
    assert shown["secret"].startswith("whsec_")
    assert len(base64.b64decode(shown["secret"].removeprefix("whsec_"))) >= 24
    read = await webhook(api, shown["id"])
    listed = (await api.client.get(HOOKS, headers=admin(api))).json()["webhooks"]
    assert "secret" not in read
    assert [item["id"] for item in listed] == [shown["id"]]
    assert shown["secret"] not in str(read) + str(listed)
    assert read == {k: v for k, v in shown.items() if k != "secret"}


async def test_secrets_differ_between_endpoints(api: Api) -> None:
    first = await subscribe(api, "http://127.0.0.1:9/a")
    second = await subscribe(api, "http://127.0.0.1:9/b")
    assert first["secret"] != second["secret"]


async def test_put_replaces_and_delete_removes(api: Api) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/a", ["minigroup.stop"])
    url = f"{HOOKS}/{created['id']}"
    changed = {"url": "http://127.0.0.1:9/b", "events": ["*"], "description": "new"}

    updated = await api.client.put(url, json=changed, headers=admin(api))

    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in changed} == changed
    assert (await webhook(api, created["id"]))["url"] == "http://127.0.0.1:9/b"
    assert (await api.client.delete(url, headers=admin(api))).status_code == 204
    gone = await api.client.get(url, headers=admin(api))
    assert (gone.status_code, gone.json()["type"]) == (404, "webhook_not_found")
    assert (await api.client.delete(url, headers=admin(api))).status_code == 404


async def test_an_endpoint_of_another_audience_is_not_found(api: Api) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/a", audience=MEDIA)
    for method in ("GET", "PUT", "DELETE"):
        response = await api.client.request(
            method,
            f"{HOOKS}/{created['id']}",
            json={"url": "http://127.0.0.1:9/x", "events": ["*"]},
            headers=admin(api),
        )
        assert response.status_code == 404, (method, response.text)
    assert (await webhook(api, created["id"], MEDIA))["url"] == "http://127.0.0.1:9/a"


ROUTES = [
    ("POST", "", "create"),
    ("GET", "", "read"),
    ("GET", "/{id}", "read"),
    ("PUT", "/{id}", "update"),
    ("DELETE", "/{id}", "delete"),
    ("POST", "/{id}/rotate-secret", "update"),
    ("GET", "/{id}/deliveries", "read"),
    ("POST", "/{id}/deliveries/00000000-0000-4000-8000-000000000001/retry", "update"),
]


async def test_every_route_is_authorized_on_the_webhooks_object(api: Api) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/a", audience=LOCKED)
    body = {"url": "http://127.0.0.1:9/b", "events": ["*"]}
    for method, suffix, action in ROUTES:
        path = f"/api/v1/audiences/{LOCKED}/webhooks" + suffix.format(id=created["id"])
        denied = await api.client.request(
            method, path, json=body, headers=api.auth("intruder", LOCKED)
        )
        assert denied.status_code == 403, (method, suffix, denied.text)
        assert denied.json()["detail"] == (
            f"[Forbidden] intent::intruder.{LOCKED}::webhooks::{action} "
            "has been forbidden, the subject isn't in a trusted list"
        )
    assert (await webhook(api, created["id"], LOCKED))["url"] == "http://127.0.0.1:9/a"


async def test_the_http_backend_is_asked_for_delete(api: Api) -> None:
    """`delete` is a new action: a tenant's backend that does not grant it refuses."""
    created = await subscribe(api, "http://127.0.0.1:9/a", audience=REMOTE)
    url = f"/api/v1/audiences/{REMOTE}/webhooks/{created['id']}"

    refused = await api.client.delete(url, headers=api.auth("user1", REMOTE))
    api.authz_backend.allowed = ["delete"]
    allowed = await api.client.delete(url, headers=api.auth("user2", REMOTE))  # not cached

    assert (refused.status_code, allowed.status_code) == (403, 204)
    asked = api.authz_backend.requests[-1]
    assert (asked["object"]["value"], asked["action"]) == (["webhooks"], "delete")


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"url": "http://127.0.0.1:9/a", "events": ["minigroup.exploded"]}, 400, "invalid_payload"),
    ({"url": "http://127.0.0.1:9/a", "events": []}, 400, "invalid_payload"),
    ({"url": "http://127.0.0.1:9/a"}, 400, "invalid_payload"),
    ({"url": "ftp://127.0.0.1/a", "events": ["*"]}, 422, "invalid_webhook_url"),
    ({"url": "http://user:pw@127.0.0.1/a", "events": ["*"]}, 422, "invalid_webhook_url"),
    ({"url": "/relative", "events": ["*"]}, 422, "invalid_webhook_url"),
    (
        {"url": "http://127.0.0.1:9/a", "events": ["*"], "description": "x" * 1025},
        400,
        "invalid_payload",
    ),
]


async def test_a_bad_endpoint_is_refused(api: Api) -> None:
    for body, status, problem in BAD:
        response = await api.client.post(HOOKS, json=body, headers=admin(api))
        assert (response.status_code, response.json()["type"]) == (status, problem), body
    assert (await api.client.get(HOOKS, headers=admin(api))).json()["webhooks"] == []


async def test_an_audience_holds_a_bounded_number_of_endpoints(
    database_url: str, tmp_path: Path
) -> None:
    async with webhook_api(database_url, tmp_path, max_endpoints_per_audience=2) as api:
        for n in range(2):
            await subscribe(api, f"http://127.0.0.1:9/{n}")
        third = await api.client.post(
            HOOKS, json={"url": "http://127.0.0.1:9/3", "events": ["*"]}, headers=admin(api)
        )
        assert (third.status_code, third.json()["type"]) == (422, "too_many_webhooks")
        await subscribe(api, "http://127.0.0.1:9/other", audience=MEDIA)  # per audience


async def test_only_https_unless_http_is_allowed(database_url: str, tmp_path: Path) -> None:
    resolver = FakeResolver(hooks_example_com=[PUBLIC])
    async with webhook_api(
        database_url, tmp_path, resolver=resolver, allow_http=False, allow_private_targets=False
    ) as api:
        plain = await api.client.post(
            HOOKS, json={"url": "http://hooks.example.com/a", "events": ["*"]}, headers=admin(api)
        )
        secure = await api.client.post(
            HOOKS, json={"url": "https://hooks.example.com/a", "events": ["*"]}, headers=admin(api)
        )
    assert (plain.status_code, plain.json()["type"]) == (422, "invalid_webhook_url")
    assert "https://" in plain.json()["detail"]
    assert secure.status_code == 201, secure.text


async def test_rotation_keeps_the_old_secret_signing_for_the_overlap(api: Api) -> None:
    async with WebhookReceiver() as receiver:
        created = await subscribe(api, receiver.url())
        rotated = await api.client.post(
            f"{HOOKS}/{created['id']}/rotate-secret", headers=admin(api)
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()
        await api.create()
        await send(api)
        (request,) = await receiver.wait_for(1)

    assert new["secret"] != created["secret"]
    expires = datetime.fromisoformat(new["previous_secret_expires_at"])
    assert abs(expires - datetime.fromisoformat(new["updated_at"]) - timedelta(hours=24)) < (
        timedelta(seconds=1)
    )
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    for secret in (created["secret"], new["secret"]):  # each verifies on its own
        assert request.verify(secret)["type"] == "minigroup.created"


async def test_after_the_overlap_only_the_new_secret_signs(
    database_url: str, tmp_path: Path
) -> None:
    async with (
        webhook_api(database_url, tmp_path, rotation_overlap_seconds=0.2) as api,
        WebhookReceiver() as receiver,
    ):
        created = await subscribe(api, receiver.url())
        rotated = await api.client.post(
            f"{HOOKS}/{created['id']}/rotate-secret", headers=admin(api)
        )
        new = rotated.json()["secret"]
        await asyncio.sleep(0.3)
        assert (await webhook(api, created["id"]))["previous_secret_expires_at"] is None
        await api.create()
        await send(api)
        (request,) = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    assert request.verify(new)["type"] == "minigroup.created"


async def test_a_bad_cursor_is_400(api: Api) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/a")
    for query in ({"cursor": "garbage"}, {"limit": "0"}, {"limit": "101"}, {"limit": "x"}):
        response = await api.client.get(
            f"{HOOKS}/{created['id']}/deliveries", params=query, headers=admin(api)
        )
        assert (response.status_code, response.json()["type"]) == (400, "invalid_query_string")


async def test_deliveries_come_a_page_at_a_time_newest_first(api: Api) -> None:
    created = await subscribe(api, "http://127.0.0.1:9/a", ["minigroup.created"])
    for _ in range(5):
        await api.create()
    pages, cursor = [], None
    while True:
        query = {"limit": "2"} if cursor is None else {"limit": "2", "cursor": cursor}
        page = await deliveries(api, created["id"], **query)
        pages.append(page["deliveries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(page) for page in pages] == [2, 2, 1]
    times = [d["created_at"] for page in pages for d in page]
    assert times == sorted(times, reverse=True)
    assert len({d["id"] for page in pages for d in page}) == 5


async def test_ids_that_are_not_uuids_are_400(api: Api) -> None:
    for path in (
        f"{HOOKS}/nope",
        f"{HOOKS}/00000000-0000-4000-8000-000000000001/deliveries/x/retry",
    ):
        response = await api.client.request(
            "GET" if path.endswith("nope") else "POST", path, headers=admin(api)
        )
        assert (response.status_code, response.json()["type"]) == (400, "invalid_parameter")


async def test_admin_of_one_audience_is_not_admin_of_another(api: Api) -> None:
    """The authorization is per audience: a LOCKED admin token does not reach AUDIENCE's list
    through LOCKED's path (the path names the audience the object is in)."""
    await subscribe(api, "http://127.0.0.1:9/a", audience=LOCKED)
    other = await api.client.get(
        f"/api/v1/audiences/{LOCKED}/webhooks", headers=api.auth(ADMIN, AUDIENCE)
    )
    assert other.status_code == 403
