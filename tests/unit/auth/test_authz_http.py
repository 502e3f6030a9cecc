"""The `http` authz backend against a fake tenant service (httpx.MockTransport) and a dead port."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from minigroups.adapters.auth.authn import Authenticator
from minigroups.adapters.auth.authz import build_authorizer
from minigroups.config import AuthnIssuerSettings, AuthzHttpSettings, AuthzSettings
from minigroups.domain.errors import AccessDenied, AuthorizationUnavailable
from minigroups.domain.ids import AccountId
from minigroups.ports import Authorizer
from tests.support.ports import free_port
from tests.unit.auth.support import EcKeyFiles, FakeClock, token_parts, write_ec_key_files

OWN = "dispatcher.dev.svc.example.org"
AUDIENCE = "school.example.org"
URI = "http://authz.test/api/v1/authz"
ALICE = AccountId("alice", AUDIENCE)
CLASS_ID = "6f1c2d1e-0000-4000-8000-000000000001"
CLASS = ["classrooms", CLASS_ID]
INTENT = f"intent::alice.school.example.org::classrooms/{CLASS_ID}"

Reply = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class TenantService:
    """A fake tenant authz service: records every request and answers with the next reply."""

    def __init__(self, *replies: Reply) -> None:
        self.requests: list[httpx.Request] = []
        self._replies = replies

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self._replies[min(len(self.requests), len(self._replies)) - 1]
        response = reply(request)
        return response if isinstance(response, httpx.Response) else await response


def answer(body: Any, status: int = 200) -> Reply:
    return lambda request: httpx.Response(status, json=body)


def refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def keys(tmp_path: Path) -> EcKeyFiles:
    return write_ec_key_files(tmp_path, "dispatcher")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_000.0)


def settings(keys: EcKeyFiles, **overrides: Any) -> AuthzHttpSettings:
    values: dict[str, Any] = {"uri": URI, "key": str(keys.private_der)}
    values.update(overrides)
    return AuthzHttpSettings(**values)


@asynccontextmanager
async def authorizer_for(
    service: TenantService,
    config: dict[str, AuthzSettings],
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[Authorizer]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(service.handle)) as client:
        yield build_authorizer(config, own_account_id=OWN, http_client=client, clock=clock)


async def test_request_body_headers_and_token(keys: EcKeyFiles) -> None:
    service = TenantService(answer(["read", "update"]))
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, user_agent="minigroups/test")}
    async with authorizer_for(service, config) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")

    [request] = service.requests
    assert request.method == "POST"
    assert str(request.url) == URI
    assert request.content == (
        b'{"subject":{"namespace":"school.example.org","value":"alice"},'
        b'"object":{"namespace":"dispatcher.dev.svc.example.org",'
        b'"value":["classrooms","6f1c2d1e-0000-4000-8000-000000000001"]},'
        b'"action":"read"}'
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "minigroups/test"
    scheme, token = request.headers["authorization"].split(" ")
    assert scheme == "Bearer"
    header, claims = token_parts(token)
    assert header == {"alg": "ES256", "typ": "JWT"}
    assert claims == {
        "iss": "dev.svc.example.org",
        "aud": "dev.svc.example.org:school.example.org",
        "sub": "dispatcher",
    }
    authn = Authenticator(
        {
            "dev.svc.example.org": AuthnIssuerSettings(
                audience=["dev.svc.example.org"], algorithm="ES256", key=str(keys.public_der)
            )
        }
    )
    assert authn.authenticate(request.headers["authorization"], None) == AccountId(
        "dispatcher", "dev.svc.example.org:school.example.org"
    )


async def test_hs256_token_for_the_backend(tmp_path: Path) -> None:
    secret = tmp_path / "authz.secret"
    secret.write_bytes(b"0123456789abcdef0123456789abcdef")
    service = TenantService(answer(["read"]))
    config: dict[str, AuthzSettings] = {
        AUDIENCE: AuthzHttpSettings(uri=URI, algorithm="HS256", key=str(secret))
    }
    async with authorizer_for(service, config) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    authn = Authenticator(
        {
            "dev.svc.example.org": AuthnIssuerSettings(
                audience=["dev.svc.example.org"], algorithm="HS256", key=str(secret)
            )
        }
    )
    [request] = service.requests
    assert authn.authenticate(request.headers["authorization"], None).label == "dispatcher"


@pytest.mark.parametrize("status", [200, 201, 204])
async def test_allowed_when_a_2xx_answer_lists_the_action(keys: EcKeyFiles, status: int) -> None:
    service = TenantService(answer(["read", "download"], status))
    async with authorizer_for(service, {AUDIENCE: settings(keys)}) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "download")
    assert len(service.requests) == 1


@pytest.mark.parametrize("status", [301, 403, 404, 500, 503])
async def test_a_non_2xx_answer_is_a_failure_whatever_its_body(
    keys: EcKeyFiles, clock: FakeClock, status: int
) -> None:
    """Issue 8: the reference read the body of any answer; an error page listing the action
    allowed it. Now the status decides first, the failure is retried and never cached."""
    service = TenantService(answer(["read", "download"], status))
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, max_retries=2)}
    async with authorizer_for(service, config, clock) as authz:
        with pytest.raises(AuthorizationUnavailable) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "download")
        assert len(service.requests) == 2
        assert caught.value.detail == (
            f"[Network] {INTENT}::download has been forbidden, "
            f"the answer of {URI} has status {status}"
        )
        with pytest.raises(AuthorizationUnavailable):
            await authz.authorize(AUDIENCE, ALICE, CLASS, "download")
        assert len(service.requests) == 4


@pytest.mark.parametrize("body", [["read"], []])
async def test_denied_when_the_action_is_not_listed(keys: EcKeyFiles, body: list[str]) -> None:
    service = TenantService(answer(body))
    async with authorizer_for(service, {AUDIENCE: settings(keys)}) as authz:
        with pytest.raises(AccessDenied) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "update")
    assert caught.value.detail == (
        f"[Forbidden] {INTENT}::update has been forbidden, the action forbidden by tenant"
    )


async def test_unreadable_body_then_a_valid_one(keys: EcKeyFiles) -> None:
    service = TenantService(answer({"allowed": True}), answer(["read"]))
    async with authorizer_for(service, {AUDIENCE: settings(keys, max_retries=2)}) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert len(service.requests) == 2


@pytest.mark.parametrize(
    "reply",
    [
        answer({"actions": ["read"]}),
        answer("read"),
        answer(["read", 1]),
        answer(None),
        lambda request: httpx.Response(200, content=b"<html>busy</html>"),
    ],
)
async def test_unreadable_body_with_no_retry_left(keys: EcKeyFiles, reply: Reply) -> None:
    service = TenantService(reply)
    async with authorizer_for(service, {AUDIENCE: settings(keys)}) as authz:
        with pytest.raises(AuthorizationUnavailable) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert len(service.requests) == 1
    assert caught.value.detail == (
        f"[Network] {INTENT}::read has been forbidden, "
        f"the answer of {URI} (status 200) is not a JSON array of strings"
    )


async def test_all_attempts_fail(keys: EcKeyFiles) -> None:
    service = TenantService(refuse_connection)
    async with authorizer_for(service, {AUDIENCE: settings(keys, max_retries=3)}) as authz:
        with pytest.raises(AuthorizationUnavailable) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert len(service.requests) == 3
    assert caught.value.detail == (
        f"[Network] {INTENT}::read has been forbidden, "
        f"request to {URI} failed: ConnectError: connection refused"
    )


async def test_each_attempt_is_cut_at_the_timeout(keys: EcKeyFiles) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=["read"])

    service = TenantService(hang)
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, timeout=0.05, max_retries=2)}
    started = time.monotonic()
    async with authorizer_for(service, config) as authz:
        with pytest.raises(AuthorizationUnavailable) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert time.monotonic() - started < 5
    assert len(service.requests) == 2
    assert caught.value.detail == (
        f"[Network] {INTENT}::read has been forbidden, no answer from {URI} within 0.05 s"
    )


async def test_trusted_subjects_need_no_call(keys: EcKeyFiles) -> None:
    service = TenantService(refuse_connection)
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, trusted=[str(ALICE)])}
    async with authorizer_for(service, config) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "update")
    assert service.requests == []


@pytest.mark.parametrize("body", [["read"], []])
async def test_decisions_are_cached_for_the_ttl(
    keys: EcKeyFiles, clock: FakeClock, body: list[str]
) -> None:
    service = TenantService(answer(body))

    async def decide() -> bool:
        try:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
        except AccessDenied:
            return False
        return True

    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, cache_ttl=300.0)}
    async with authorizer_for(service, config, clock) as authz:
        expected = bool(body)
        assert await decide() is expected
        clock.now += 299.9
        assert await decide() is expected
        assert len(service.requests) == 1
        clock.now = 1_300.0
        assert await decide() is expected
        assert len(service.requests) == 2


async def test_failures_are_not_cached(keys: EcKeyFiles, clock: FakeClock) -> None:
    service = TenantService(refuse_connection, answer(["read"]))
    async with authorizer_for(service, {AUDIENCE: settings(keys)}, clock) as authz:
        with pytest.raises(AuthorizationUnavailable):
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert len(service.requests) == 2


async def test_cache_is_keyed_by_the_whole_intent(keys: EcKeyFiles, clock: FakeClock) -> None:
    service = TenantService(answer(["read"]))
    async with authorizer_for(service, {AUDIENCE: settings(keys)}, clock) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
        await authz.authorize(AUDIENCE, AccountId("alice", "other.org"), CLASS, "read")
        await authz.authorize(AUDIENCE, ALICE, ["classrooms", "x"], "read")
        with pytest.raises(AccessDenied):
            await authz.authorize(AUDIENCE, ALICE, CLASS, "update")
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert len(service.requests) == 4


async def test_cache_tells_apart_accounts_whose_text_is_the_same(
    keys: EcKeyFiles, clock: FakeClock
) -> None:
    """Issue 8: (`alice.usr`, `a`) and (`alice`, `usr.a`) both print `alice.usr.a`; the
    decision cached for one must not answer for the other."""
    alice = AccountId("alice", "usr.a")
    crafted = AccountId("alice.usr", "a")
    assert str(alice) == str(crafted)
    service = TenantService(answer(["read"]), answer([]))
    async with authorizer_for(service, {"usr.a": settings(keys)}, clock) as authz:
        await authz.authorize("usr.a", alice, CLASS, "read")
        with pytest.raises(AccessDenied):
            await authz.authorize("usr.a", crafted, CLASS, "read")
        await authz.authorize("usr.a", alice, CLASS, "read")  # still alice's cached decision
    assert [json.loads(r.content)["subject"] for r in service.requests] == [
        {"namespace": "usr.a", "value": "alice"},
        {"namespace": "a", "value": "alice.usr"},
    ]


async def test_cache_tells_apart_objects_whose_text_is_the_same(
    keys: EcKeyFiles, clock: FakeClock
) -> None:
    service = TenantService(answer(["read"]), answer([]))
    async with authorizer_for(service, {AUDIENCE: settings(keys)}, clock) as authz:
        await authz.authorize(AUDIENCE, ALICE, ["classrooms", "a/b"], "read")
        with pytest.raises(AccessDenied):
            await authz.authorize(AUDIENCE, ALICE, ["classrooms", "a", "b"], "read")
    assert len(service.requests) == 2


async def test_a_trusted_entry_is_not_matched_by_a_crafted_pair(keys: EcKeyFiles) -> None:
    service = TenantService(answer([]))
    config: dict[str, AuthzSettings] = {"usr.a": settings(keys, trusted=["alice.usr.a"])}
    async with authorizer_for(service, config) as authz:
        await authz.authorize("usr.a", AccountId("alice", "usr.a"), CLASS, "update")
        assert service.requests == []
        with pytest.raises(AccessDenied):
            await authz.authorize("usr.a", AccountId("alice.usr", "a"), CLASS, "update")
    assert len(service.requests) == 1  # not trusted: the tenant was asked, and said no


async def test_cache_is_per_audience(keys: EcKeyFiles, clock: FakeClock) -> None:
    service = TenantService(answer(["read"]))
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys), "b.org": settings(keys)}
    async with authorizer_for(service, config, clock) as authz:
        await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
        await authz.authorize("b.org", ALICE, CLASS, "read")
        await authz.authorize("b.org", ALICE, CLASS, "read")
    assert len(service.requests) == 2
    tokens = {token_parts(r.headers["authorization"][7:])[1]["aud"] for r in service.requests}
    assert tokens == {"dev.svc.example.org:school.example.org", "dev.svc.example.org:b.org"}


async def test_cache_is_bounded(keys: EcKeyFiles, clock: FakeClock) -> None:
    service = TenantService(answer(["read"]))
    async with authorizer_for(service, {AUDIENCE: settings(keys, cache_size=2)}, clock) as authz:
        for class_id in ("a", "b", "c", "c", "b"):
            await authz.authorize(AUDIENCE, ALICE, ["classrooms", class_id], "read")
        assert len(service.requests) == 3
        await authz.authorize(AUDIENCE, ALICE, ["classrooms", "a"], "read")  # evicted
        assert len(service.requests) == 4


async def test_concurrent_identical_questions_share_one_call(keys: EcKeyFiles) -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=["read"])

    service = TenantService(slow)
    async with authorizer_for(service, {AUDIENCE: settings(keys)}) as authz:
        asks = [
            asyncio.create_task(authz.authorize(AUDIENCE, ALICE, CLASS, "read")) for _ in range(5)
        ]
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*asks)
    assert len(service.requests) == 1


async def test_a_caller_that_gives_up_does_not_cancel_the_others(keys: EcKeyFiles) -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json=["read"])

    service = TenantService(slow)
    async with authorizer_for(service, {AUDIENCE: settings(keys)}) as authz:
        impatient = asyncio.create_task(authz.authorize(AUDIENCE, ALICE, CLASS, "read"))
        patient = asyncio.create_task(authz.authorize(AUDIENCE, ALICE, CLASS, "read"))
        await asyncio.sleep(0.01)
        impatient.cancel()
        release.set()
        await patient
        with pytest.raises(asyncio.CancelledError):
            await impatient
    assert len(service.requests) == 1


async def test_a_closed_port_is_unavailable_quickly(keys: EcKeyFiles) -> None:
    uri = f"http://127.0.0.1:{free_port()}/api/v1/authz"  # nothing listens there
    config: dict[str, AuthzSettings] = {AUDIENCE: settings(keys, uri=uri, max_retries=2)}
    started = time.monotonic()
    async with httpx.AsyncClient(trust_env=False) as client:
        authz = build_authorizer(config, own_account_id=OWN, http_client=client)
        with pytest.raises(AuthorizationUnavailable) as caught:
            await authz.authorize(AUDIENCE, ALICE, CLASS, "read")
    assert time.monotonic() - started < 2
    assert caught.value.detail is not None
    assert caught.value.detail.startswith(
        f"[Network] {INTENT}::read has been forbidden, request to {uri} failed: ConnectError"
    )
