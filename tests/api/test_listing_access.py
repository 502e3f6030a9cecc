"""Listing: who may list (every authz backend), one audience at a time, items as R1 reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from minigroups.config import Settings
from minigroups.config.settings import AuthzLocalWhitelistSettings, AuthzRecordSettings
from tests.api.conftest import ADMIN, DOWN, LOCKED, MEDIA, REMOTE, Api, serving_api
from tests.api.helpers import add_recording, ago
from tests.api.listing import listing_url, ok_page, page, scopes
from tests.support.sent import sent_statements

LISTED = "listed.example.org"  # authorization `localwhitelist`


def _with_whitelist(settings: Settings) -> Settings:
    authn = {
        issuer: msgspec.structs.replace(one, audience=[*one.audience, LISTED])
        for issuer, one in settings.authn.items()
    }
    records = [
        AuthzRecordSettings(f"{ADMIN}.{LISTED}", ["classrooms"], "create"),
        AuthzRecordSettings(f"lister.{LISTED}", ["classrooms"], "list"),
        AuthzRecordSettings(f"reader.{LISTED}", ["classrooms"], "read"),
        AuthzRecordSettings(f"other.{LISTED}", ["classrooms", "x"], "list"),
    ]
    authz = {**settings.authz, LISTED: AuthzLocalWhitelistSettings(records=records)}
    return msgspec.structs.replace(
        settings, tenants=[*settings.tenants, LISTED], authn=authn, authz=authz
    )


@pytest.fixture
async def whitelisted(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with serving_api(database_url, tmp_path, adjust=_with_whitelist) as running:
        yield running


def _denied(detail_subject: str, audience: str, reason: str) -> str:
    return (
        f"[Forbidden] intent::{detail_subject}.{audience}::classrooms::list "
        f"has been forbidden, {reason}"
    )


async def test_none_allows_anyone_of_the_audience(api: Api) -> None:
    created = await api.create()
    body = await ok_page(api, label="anyone")
    assert scopes(body["items"]) == [created["scope"]]


async def test_local_allows_only_the_trusted(api: Api) -> None:
    created = await api.create(audience=LOCKED)
    trusted = await ok_page(api, audience=LOCKED, label=ADMIN)
    assert scopes(trusted["items"]) == [created["scope"]]
    denied = await page(api, audience=LOCKED, label="intruder")
    assert denied.status_code == 403
    assert denied.json()["detail"] == _denied(
        "intruder", LOCKED, "the subject isn't in a trusted list"
    )
    assert created["scope"] not in denied.text


async def test_localwhitelist_needs_a_list_record_on_classrooms(whitelisted: Api) -> None:
    api = whitelisted
    created = await api.create(audience=LISTED)
    listed = await ok_page(api, audience=LISTED, label="lister")
    assert scopes(listed["items"]) == [created["scope"]]
    for label in ("reader", "other", ADMIN, "stranger"):
        denied = await page(api, audience=LISTED, label=label)
        assert denied.status_code == 403, label
        assert denied.json()["detail"] == _denied(label, LISTED, "Not allowed")


async def test_http_asks_the_backend_for_list_on_classrooms(api: Api) -> None:
    api.authz_backend.allowed = ["create"]
    created = await api.create(audience=REMOTE)
    api.authz_backend.allowed = ["read", "list"]
    listed = await ok_page(api, audience=REMOTE, label="viewer")
    assert scopes(listed["items"]) == [created["scope"]]
    assert api.authz_backend.requests[-1] == {
        "subject": {"namespace": REMOTE, "value": "viewer"},
        "object": {"namespace": "dispatcher.svc.example.org", "value": ["classrooms"]},
        "action": "list",
    }
    api.authz_backend.allowed = ["read"]
    denied = await page(api, audience=REMOTE, label="reader")
    assert denied.status_code == 403
    assert denied.json()["detail"] == _denied("reader", REMOTE, "the action forbidden by tenant")


async def test_an_unanswering_backend_is_503(api: Api) -> None:
    response = await page(api, audience=DOWN, label="user")
    assert response.status_code == 503
    assert response.json()["type"] == "authorization_failed"


async def test_an_unconfigured_audience_is_403_and_no_token_is_401(api: Api) -> None:
    unknown = await api.client.get(listing_url("nowhere.example.org"), headers=api.auth())
    assert unknown.status_code == 403
    assert (await api.client.get(listing_url())).status_code == 401


async def test_another_audience_is_never_shown(api: Api) -> None:
    mine = [await api.create(scope=f"same-{i}", time=[1900000000, 1900000060]) for i in range(3)]
    theirs = [await api.create(audience=MEDIA, scope=f"same-{i}") for i in range(4)]
    assert {item["class_id"] for item in (await ok_page(api))["items"]} == {
        created["id"] for created in mine
    }
    media = await ok_page(api, audience=MEDIA)
    assert {item["class_id"] for item in media["items"]} == {created["id"] for created in theirs}
    for params in ({"status": "real-time"}, {"scope_prefix": "same-"}, {"from": 0}):
        found = {item["class_id"] for item in (await ok_page(api, params))["items"]}
        assert found == {created["id"] for created in mine}, params


# --- items are read objects ---------------------------------------------------------------------


@pytest.fixture
def statements() -> Iterator[list[str]]:
    with sent_statements() as seen:
        yield seen


async def _varied(api: Api) -> list[dict[str, Any]]:
    """Minigroups in every state a read shows differently, the caller's positions included."""
    made = [await api.create(properties={"p": 1}, tags={"t": i}) for i in range(8)]
    made.append(await api.create(time=[1600000000, 1600003600]))
    await api.client.put("/api/v1/account/properties/a", json=1, headers=api.auth())
    fields: list[dict[str, Any]] = [
        {},
        {"adjusted_at": ago(5)},
        {"adjusted_at": ago(5), "transcoded_at": ago(1)},
    ]
    for index, created in enumerate(made[:6]):
        await add_recording(api, created["id"], **fields[index % 3])
    original, modified = uuid4(), uuid4()
    async with api.container.ctx.store.unit_of_work() as uow:
        await uow.minigroups.record_adjustment(UUID(made[2]["id"]), original, modified)
        await uow.minigroups.set_room_events_uri(modified, "s3://dump.json")
        await uow.commit()
    for created in (made[2], made[5]):
        url = f"/api/v1/minigroups/{created['id']}/timestamps"
        response = await api.client.post(url, json={"position": 42}, headers=api.auth())
        assert response.status_code in (200, 201, 204), response.text
    return made


async def test_items_are_what_a_read_by_id_answers(api: Api) -> None:
    made = await _varied(api)
    items = (await ok_page(api))["items"]
    assert len(items) == len(made)
    for item in items:
        read = await api.client.get(f"/api/v1/minigroups/{item['class_id']}", headers=api.auth())
        assert item == read.json()
    by_id = {item["class_id"]: item for item in items}
    assert by_id[made[2]["id"]]["position"] == 42
    assert [v["version"] for v in by_id[made[2]["id"]]["on_demand"]] == ["original", "modified"]
    assert {item["status"] for item in items} == {
        "real-time",
        "closed",
        "finished",
        "adjusted",
        "transcoded",
    }
    other = await ok_page(api, label="user2")  # the position is the caller's own
    assert all("position" not in item for item in other["items"])


async def test_a_page_takes_at_most_three_statements(api: Api, statements: list[str]) -> None:
    await _varied(api)
    for extra in range(20):
        await api.create(scope=f"extra-{extra}")
    for params in ({"limit": 100}, {"limit": 3}, {"status": ["closed", "transcoded"]}):
        statements.clear()
        body = await ok_page(api, params)
        assert body["items"]
        assert len(statements) <= 3, (params, statements)
    statements.clear()
    await ok_page(api, {"status": "finished", "scope_prefix": "nothing"})
    assert len(statements) == 1  # an empty page needs no recordings
