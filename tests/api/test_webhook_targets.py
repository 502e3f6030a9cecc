"""Issue 10, safety: webhooks reach public addresses only, checked at creation and again at
every connection (the test's DNS changes its answer in between)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from minigroups.bootstrap import build_container
from tests.api.conftest import AUDIENCE
from tests.api.webhook_support import (
    FakeResolver,
    admin,
    deliveries,
    send,
    subscribe,
    webhook_api,
)
from tests.support.webhook_receiver import WebhookReceiver

HOOKS = f"/api/v1/audiences/{AUDIENCE}/webhooks"
PUBLIC = "93.184.216.34"
STRICT: dict[str, Any] = {"allow_private_targets": False}


def _resolver() -> FakeResolver:
    resolver = FakeResolver()
    resolver.set("public.example.com", PUBLIC)
    resolver.set("inside.example.com", "192.168.1.10")
    resolver.set("rebinding.example.com", PUBLIC, "127.0.0.1")
    resolver.set("v6.example.com", "fd00::1")
    return resolver


REFUSED = [
    ("http://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
    ("http://127.1.2.3:8080/hook", "loopback"),
    ("http://[::1]/hook", "::1 is a loopback address"),
    ("http://10.0.0.5/hook", "10.0.0.5 is a private address"),
    ("http://172.16.3.4/hook", "private"),
    ("http://192.168.0.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
    ("http://100.100.100.200/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://[fe80::1]/", "link-local"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[64:ff9b::a00:1]/", "10.0.0.1 is a private address"),
    ("http://100.64.0.1/", "not a public address"),
    ("http://inside.example.com/hook", "inside.example.com: 192.168.1.10 is a private address"),
    ("http://rebinding.example.com/hook", "127.0.0.1 is a loopback address"),
    ("http://v6.example.com/hook", "fd00::1 is a private address"),
    ("http://unknown.example.com/hook", "does not resolve"),
]


async def test_creation_and_changes_refuse_private_targets(
    database_url: str, tmp_path: Path
) -> None:
    async with webhook_api(database_url, tmp_path, resolver=_resolver(), **STRICT) as api:
        public = await subscribe(api, "http://public.example.com/x")
        for url, reason in REFUSED:
            refused = await api.client.post(
                HOOKS, json={"url": url, "events": ["*"]}, headers=admin(api)
            )
            put = await api.client.put(
                f"{HOOKS}/{public['id']}", json={"url": url, "events": ["*"]}, headers=admin(api)
            )
            problem = refused.json()
            assert (refused.status_code, problem["type"]) == (422, "webhook_target_refused"), url
            assert reason in problem["detail"], (url, problem)
            assert (put.status_code, put.json()["type"]) == (422, "webhook_target_refused")
        listed = (await api.client.get(HOOKS, headers=admin(api))).json()["webhooks"]
    assert [item["url"] for item in listed] == ["http://public.example.com/x"]


async def test_a_public_name_is_accepted(database_url: str, tmp_path: Path) -> None:
    resolver = _resolver()
    async with webhook_api(database_url, tmp_path, resolver=resolver, **STRICT) as api:
        created = await subscribe(api, "https://public.example.com/hook")
    assert created["url"] == "https://public.example.com/hook"
    assert resolver.asked == ["public.example.com"]


async def test_a_name_that_turns_private_is_refused_at_connect_time(
    database_url: str, tmp_path: Path
) -> None:
    """Public when the endpoint is created; by the time of the send, DNS answers loopback,
    where a receiver listens: nothing reaches it, the attempt says why."""
    resolver = _resolver()
    async with (
        webhook_api(database_url, tmp_path, resolver=resolver, **STRICT) as api,
        WebhookReceiver() as receiver,
    ):
        resolver.set("hooks.example.com", PUBLIC)
        hook = await subscribe(api, f"http://hooks.example.com:{receiver.port}/hook")
        resolver.set("hooks.example.com", "127.0.0.1")
        await api.create()
        await send(api)
        (delivery,) = (await deliveries(api, hook["id"]))["deliveries"]
    assert receiver.requests == []
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"] == "refused: hooks.example.com: 127.0.0.1 is a loopback address"
    assert delivery["status"] == "pending"  # retried on the schedule: DNS may change back


async def test_a_stored_loopback_url_is_refused_once_private_targets_are_not_allowed(
    database_url: str, tmp_path: Path
) -> None:
    """An endpoint made while private targets were allowed; the setting changes: the connect
    time check refuses its literal address."""
    async with webhook_api(database_url, tmp_path) as api, WebhookReceiver() as receiver:
        hook = await subscribe(api, receiver.url())
        await api.create()
        settings = api.container.settings
        strict = msgspec.structs.replace(settings.webhooks, allow_private_targets=False)
        restarted = build_container(
            msgspec.structs.replace(settings, webhooks=strict), sandbox=api.sandbox
        )
        try:
            await restarted.runtime.webhooks.drain()
        finally:
            await restarted.close()
        (delivery,) = (await deliveries(api, hook["id"]))["deliveries"]
    assert receiver.requests == []
    assert "127.0.0.1 is a loopback address" in delivery["attempts"][0]["error"]


async def test_the_checked_address_is_the_one_connected_to(
    database_url: str, tmp_path: Path
) -> None:
    """Private targets allowed (as in these tests): a name only our resolver knows reaches the
    receiver through the address it answered, with the name kept in the Host header."""
    resolver = FakeResolver()
    async with (
        webhook_api(database_url, tmp_path, resolver=resolver) as api,
        WebhookReceiver() as receiver,
    ):
        resolver.set("receiver.test", "127.0.0.1")
        hook = await subscribe(api, f"http://receiver.test:{receiver.port}/in")
        await api.create()
        await send(api)
        (request,) = await receiver.wait_for(1)
    assert request.headers["host"] == f"receiver.test:{receiver.port}"
    assert request.target == "/in"
    assert request.verify(hook["secret"])["type"] == "minigroup.created"
    assert "receiver.test" in resolver.asked
