"""Issue 10, the pure rules: events, secrets, the retry schedule, disabling, signatures, targets."""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from minigroups.adapters.webhooks.signing import signed_headers
from minigroups.domain.errors import InvalidPayload, InvalidWebhookUrl, WebhookTargetRefused
from minigroups.domain.webhook_targets import check_addresses, parse_target, refusal
from minigroups.domain.webhooks import (
    EVENT_TYPES,
    Delivery,
    Endpoint,
    Outcome,
    WebhookPolicy,
    judge,
    new_secret,
    parse_events,
    retry_attempts,
    subscribes,
)

T0 = datetime(2027, 2, 2, 10, 0, tzinfo=UTC)
POLICY = WebhookPolicy()


def _endpoint(**changes: Any) -> Endpoint:
    endpoint = Endpoint(
        id=uuid4(),
        audience="usr.example.org",
        url="https://hooks.example.com/",
        events=("*",),
        secret=new_secret(),
        created_at=T0,
        updated_at=T0,
    )
    return replace(endpoint, **changes)


def test_events_are_known_types_or_all() -> None:
    assert parse_events(["minigroup.ready", "minigroup.ready", "*"]) == ("minigroup.ready", "*")
    with pytest.raises(InvalidPayload, match=r"minigroup\.nope"):
        parse_events(["minigroup.nope"])
    with pytest.raises(InvalidPayload):
        parse_events([])
    assert subscribes(["*"], "minigroup.stop")
    assert subscribes(["minigroup.stop"], "minigroup.stop")
    assert not subscribes(["minigroup.ready"], "minigroup.stop")
    assert len(EVENT_TYPES) == 7


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_the_default_schedule_is_eight_attempts() -> None:
    delays = [POLICY.next_delay(n) for n in range(9)]
    seconds = [None if d is None else d.total_seconds() for d in delays]
    assert seconds == [0, 5, 300, 1800, 7200, 18000, 36000, 36000, None]


def test_success_heals_the_endpoint() -> None:
    failing = _endpoint(failing_since=T0)
    verdict = judge(failing, Outcome(204), 3, T0 + timedelta(days=4), POLICY)
    assert (verdict.status, verdict.next_attempt_at) == ("succeeded", None)
    assert verdict.endpoint.failing_since is None
    assert not verdict.disables


def test_a_failure_is_retried_on_the_schedule_then_fails() -> None:
    endpoint = _endpoint()
    first = judge(endpoint, Outcome(500), 1, T0, POLICY)
    assert (first.status, first.next_attempt_at) == ("pending", T0 + timedelta(seconds=5))
    assert first.endpoint.failing_since == T0
    later = judge(first.endpoint, Outcome(None, "timeout"), 2, T0 + timedelta(hours=1), POLICY)
    assert later.endpoint.failing_since == T0  # continuously failing since the first
    last = judge(first.endpoint, Outcome(302), 8, T0 + timedelta(hours=2), POLICY)
    assert (last.status, last.next_attempt_at, last.endpoint.enabled) == ("failed", None, True)


def test_410_disables_at_once() -> None:
    verdict = judge(_endpoint(), Outcome(410), 1, T0, POLICY)
    assert verdict.status == "failed"
    assert verdict.disables
    assert verdict.endpoint.disabled_reason == "the endpoint answered 410 Gone"


def test_five_days_of_failures_without_a_success_disable() -> None:
    endpoint = _endpoint(failing_since=T0)
    almost = judge(endpoint, Outcome(500), 2, T0 + timedelta(days=5, seconds=-1), POLICY)
    assert (almost.disables, almost.status) == (False, "pending")
    past = judge(endpoint, Outcome(500), 2, T0 + timedelta(days=5), POLICY)
    assert (past.disables, past.status) == (True, "failed")
    assert (
        past.endpoint.disabled_reason == "failing since 2027-02-02T10:00:00+00:00 without a success"
    )


def test_rotation_signs_with_both_secrets_for_the_overlap() -> None:
    endpoint = _endpoint()
    rotated = endpoint.rotated(T0, timedelta(hours=24))
    assert rotated.signing_secrets(T0 + timedelta(hours=23)) == (rotated.secret, endpoint.secret)
    assert rotated.signing_secrets(T0 + timedelta(hours=24)) == (rotated.secret,)
    twice = rotated.rotated(T0 + timedelta(hours=1), timedelta(hours=24))
    assert endpoint.secret not in twice.signing_secrets(T0 + timedelta(hours=2))


def test_a_retry_gives_a_settled_delivery_one_more_attempt() -> None:
    delivery = Delivery(uuid4(), uuid4(), "minigroup.ready", "failed", T0, attempts=8)
    assert retry_attempts(delivery, POLICY) == 8  # the next claim makes 9: the last
    early = Delivery(uuid4(), uuid4(), "minigroup.ready", "succeeded", T0, attempts=1)
    assert retry_attempts(early, POLICY) == 7
    pending = Delivery(uuid4(), uuid4(), "minigroup.ready", "pending", T0, attempts=2)
    assert retry_attempts(pending, POLICY) == 2


def test_signatures_verify_with_the_reference_library() -> None:
    old, new = new_secret(), new_secret()
    body = '{"type":"minigroup.ready","data":{"scope":"ü"}}'.encode()
    headers = signed_headers("msg_1", datetime.now(UTC), body, [new, old])
    assert headers["webhook-id"] == "msg_1"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers)["data"]["scope"] == "ü"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "ftp://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "https:///nohost",
        "https://hooks.example.com/#frag",
        "https://hooks.example.com/a b",
        "https://hooks.example.com:99999/",
        "https://" + "a" * 2050 + ".com/",
    ],
)
def test_urls_webhooks_do_not_take(url: str) -> None:
    with pytest.raises(InvalidWebhookUrl):
        parse_target(url, allow_http=False)


def test_a_url_taken_apart() -> None:
    target = parse_target("https://Hooks.Example.com/in?x=1", allow_http=False)
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert parse_target("http://[::1]:8080/", allow_http=True).address == ipaddress.ip_address(
        "::1"
    )
    assert parse_target("https://bücher.example/", allow_http=False).host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.31.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "::ffff:10.0.0.1",
        "64:ff9b::127.0.0.1",
        "2002:a00:1::",
        "::",
        "ff02::1",
        "198.18.0.1",
        "192.0.2.1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_one_private_answer_refuses_the_name() -> None:
    public, private = ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")
    check_addresses("ok.example.com", [public])
    with pytest.raises(WebhookTargetRefused, match=r"10\.0\.0\.1"):
        check_addresses("both.example.com", [public, private])
    with pytest.raises(WebhookTargetRefused, match="does not resolve"):
        check_addresses("none.example.com", [])
