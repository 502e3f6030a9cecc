"""Authorization backends per audience: none, local, localwhitelist, and missing configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import pytest

from minigroups.adapters.auth.authz import build_authorizer
from minigroups.adapters.auth.keys import AuthConfigError, KeyFileError
from minigroups.config import (
    AuthzHttpSettings,
    AuthzLocalSettings,
    AuthzLocalWhitelistSettings,
    AuthzNoneSettings,
    AuthzRecordSettings,
    AuthzSettings,
)
from minigroups.domain.errors import AccessDenied
from minigroups.domain.ids import AccountId
from minigroups.ports import Action, Authorizer

OWN = "dispatcher.dev.svc.example.org"
AUDIENCE = "school.example.org"
ALICE = AccountId("alice", AUDIENCE)
CLASS_ID = "6f1c2d1e-0000-4000-8000-000000000001"
CLASS = ["classrooms", CLASS_ID]


def forbidden(account: str, object_path: str, action: str, reason: str) -> str:
    return f"[Forbidden] intent::{account}::{object_path}::{action} has been forbidden, {reason}"


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client that fails the test if a local backend makes any HTTP call."""

    def unexpected(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no HTTP call expected: {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(unexpected)) as client:
        yield client


def build(settings: Mapping[str, AuthzSettings], client: httpx.AsyncClient) -> Authorizer:
    return build_authorizer(settings, own_account_id=OWN, http_client=client)


async def test_no_configuration_for_the_audience(http_client: httpx.AsyncClient) -> None:
    authz = build({"other.example.org": AuthzNoneSettings()}, http_client)
    with pytest.raises(AccessDenied) as caught:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "update")
    assert caught.value.detail == forbidden(
        "alice.school.example.org",
        f"classrooms/{CLASS_ID}",
        "update",
        "no authorization configuration for the audience = school.example.org",
    )


async def test_none_allows_everything(http_client: httpx.AsyncClient) -> None:
    authz = build({AUDIENCE: AuthzNoneSettings()}, http_client)
    await authz.authorize(AUDIENCE, AccountId("anyone", "anywhere.org"), ["classrooms"], "create")


async def test_local_allows_trusted_accounts(http_client: httpx.AsyncClient) -> None:
    authz = build({AUDIENCE: AuthzLocalSettings(trusted=["alice.school.example.org"])}, http_client)
    await authz.authorize(AUDIENCE, ALICE, CLASS, "download")


async def test_local_denies_everyone_else(http_client: httpx.AsyncClient) -> None:
    authz = build({AUDIENCE: AuthzLocalSettings(trusted=["alice.school.example.org"])}, http_client)
    with pytest.raises(AccessDenied) as caught:
        await authz.authorize(AUDIENCE, AccountId("alice", "other.org"), CLASS, "read")
    assert caught.value.detail == forbidden(
        "alice.other.org",
        f"classrooms/{CLASS_ID}",
        "read",
        "the subject isn't in a trusted list",
    )


def whitelist() -> AuthzLocalWhitelistSettings:
    return AuthzLocalWhitelistSettings(
        records=[
            AuthzRecordSettings(
                subject_account_id="alice.school.example.org", object=CLASS, action="read"
            ),
            AuthzRecordSettings(
                subject_account_id="bob.school.example.org", object=["classrooms"], action="create"
            ),
        ]
    )


async def test_localwhitelist_allows_exact_records(http_client: httpx.AsyncClient) -> None:
    authz = build({AUDIENCE: whitelist()}, http_client)
    await authz.authorize(AUDIENCE, ALICE, tuple(CLASS), "read")
    await authz.authorize(AUDIENCE, AccountId("bob", AUDIENCE), ["classrooms"], "create")


@pytest.mark.parametrize(
    ("subject", "object_", "action", "object_path"),
    [
        (ALICE, CLASS, "update", f"classrooms/{CLASS_ID}"),
        (ALICE, ["classrooms"], "read", "classrooms"),
        (ALICE, [*CLASS, "extra"], "read", f"classrooms/{CLASS_ID}/extra"),
        (AccountId("bob", AUDIENCE), CLASS, "read", f"classrooms/{CLASS_ID}"),
    ],
)
async def test_localwhitelist_denies_anything_else(
    http_client: httpx.AsyncClient,
    subject: AccountId,
    object_: list[str],
    action: Action,
    object_path: str,
) -> None:
    authz = build({AUDIENCE: whitelist()}, http_client)
    with pytest.raises(AccessDenied) as caught:
        await authz.authorize(AUDIENCE, subject, object_, action)
    assert caught.value.detail == forbidden(str(subject), object_path, action, "Not allowed")


async def test_http_backend_without_a_key_is_a_build_error(http_client: httpx.AsyncClient) -> None:
    with pytest.raises(AuthConfigError, match=r"authz\.school\.example\.org: .*`key`"):
        build({AUDIENCE: AuthzHttpSettings(uri="http://authz.test/")}, http_client)


async def test_http_backend_with_an_unusable_key_file(
    http_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "absent.p8.der"
    with pytest.raises(KeyFileError) as caught:
        build({AUDIENCE: AuthzHttpSettings(uri="http://authz.test/", key=str(path))}, http_client)
    assert caught.value.path == str(path)


async def test_own_account_id_must_have_a_label_and_an_audience(
    http_client: httpx.AsyncClient,
) -> None:
    with pytest.raises(AuthConfigError, match="own account id"):
        build_authorizer({}, own_account_id="dispatcher", http_client=http_client)


# --- subjects are (label, audience) pairs, never text (issue 8) ------------------------------

# Both print `alice.usr.a`; only the first is the account `alice.usr.a` names.
ALICE_OF_USR_A = AccountId("alice", "usr.a")
CRAFTED = AccountId("alice.usr", "a")


async def test_local_trusted_entry_is_not_matched_by_a_crafted_pair(
    http_client: httpx.AsyncClient,
) -> None:
    assert str(CRAFTED) == str(ALICE_OF_USR_A)
    authz = build({"a": AuthzLocalSettings(trusted=["alice.usr.a"])}, http_client)
    with pytest.raises(AccessDenied):
        await authz.authorize("a", CRAFTED, CLASS, "update")
    authz = build({"usr.a": AuthzLocalSettings(trusted=["alice.usr.a"])}, http_client)
    await authz.authorize("usr.a", ALICE_OF_USR_A, CLASS, "update")


async def test_whitelist_record_is_not_matched_by_a_crafted_pair(
    http_client: httpx.AsyncClient,
) -> None:
    record = AuthzRecordSettings(subject_account_id="alice.usr.a", object=CLASS, action="read")
    for audience in ("a", "usr.a"):
        authz = build({audience: AuthzLocalWhitelistSettings(records=[record])}, http_client)
        with pytest.raises(AccessDenied):
            await authz.authorize(audience, CRAFTED, CLASS, "read")
    await authz.authorize("usr.a", ALICE_OF_USR_A, CLASS, "read")


async def test_whitelist_objects_are_compared_segment_by_segment(
    http_client: httpx.AsyncClient,
) -> None:
    record = AuthzRecordSettings(
        subject_account_id="alice.school.example.org", object=["classrooms", "a/b"], action="read"
    )
    authz = build({AUDIENCE: AuthzLocalWhitelistSettings(records=[record])}, http_client)
    await authz.authorize(AUDIENCE, ALICE, ["classrooms", "a/b"], "read")
    with pytest.raises(AccessDenied):
        await authz.authorize(AUDIENCE, ALICE, ["classrooms", "a", "b"], "read")


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (AuthzLocalSettings(trusted=["alice.usr.a", "nodot"]), r"trusted\[1\]"),
        (AuthzHttpSettings(uri="http://authz.test/", trusted=[".usr.a"]), r"trusted\[0\]"),
        (
            AuthzLocalWhitelistSettings(
                records=[AuthzRecordSettings(subject_account_id="x", object=[], action="read")]
            ),
            r"records\[0\]",
        ),
    ],
)
async def test_a_configured_subject_that_is_no_account_id_is_a_build_error(
    http_client: httpx.AsyncClient, settings: AuthzSettings, key: str
) -> None:
    with pytest.raises(AuthConfigError, match=rf"authz\.school\.example\.org\.{key}: "):
        build({AUDIENCE: settings}, http_client)
