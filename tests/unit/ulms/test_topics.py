"""Topics of contract.md upstream §1.4 and the filter matching used to route subscriptions."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from minigroups.adapters.ulms import topics
from tests.support.hostile import HOSTILE

ME = "alpha.dispatcher.dev.svc.example.org"


def test_the_request_and_response_topics() -> None:
    assert topics.request_topic(ME, "v1", "event.dev.svc.example.org") == (
        "agents/alpha.dispatcher.dev.svc.example.org/api/v1/out/event.dev.svc.example.org"
    )
    assert topics.response_topic(ME, "v1", "event.dev.svc.example.org") == (
        "agents/alpha.dispatcher.dev.svc.example.org/api/v1/in/event.dev.svc.example.org"
    )
    assert topics.responses_filter(ME) == "agents/alpha.dispatcher.dev.svc.example.org/api/v1/in/+"
    assert topics.audience_events_topic(
        "dispatcher.dev.svc.example.org", "dev.usr.example.com"
    ) == ("apps/dispatcher.dev.svc.example.org/api/v1/audiences/dev.usr.example.com/events")
    assert topics.shared("loadbalancer.d.e", "apps/x/api/v1/audiences/a/events") == (
        "$share/loadbalancer.d.e/apps/x/api/v1/audiences/a/events"
    )
    assert topics.sender_agent("agents/a.b.c/api/v1/out/p") == "a.b.c"
    assert topics.sender_agent("apps/a.b/api/v1/x") is None


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("agents/+/api/+/out/event.e", "agents/a.b.c/api/v1/out/event.e", True),
        ("agents/+/api/+/out/event.e", "agents/a.b.c/api/v1/out/conference.e", False),
        ("agents/+/api/+/out/event.e", "agents/a.b.c/api/v1/out/event.e/x", False),
        ("$share/g/apps/x/api/v1/audiences/+/events", "apps/x/api/v1/audiences/a/events", True),
        ("$share/g/apps/x/api/v1/audiences/+/events", "apps/y/api/v1/audiences/a/events", False),
        ("apps/#", "apps", True),
        ("apps/#", "apps/x/y", True),
        ("apps/+", "apps", False),
        ("a/b", "a/b", True),
    ],
)
def test_filters_match_as_mqtt_does(topic_filter: str, topic: str, expected: bool) -> None:
    assert topics.matches(topic_filter, topic) is expected


# --- data never changes a topic's structure (issue 8) -----------------------------------------


@pytest.mark.parametrize("audience", HOSTILE)
def test_an_audience_stays_one_level_of_its_events_topic(audience: str) -> None:
    topic = topics.audience_events_topic("dispatcher.svc.example.org", audience)
    levels = topic.split("/")
    assert len(levels) == 7
    assert levels[:5] == ["apps", "dispatcher.svc.example.org", "api", "v1", "audiences"]
    assert levels[6] == "events"
    assert unquote(levels[5], errors="strict") == audience
    assert not set("+#\x00") & set(topic)  # never a wildcard, never a NUL
    filter_ = "apps/dispatcher.svc.example.org/api/v1/audiences/+/events"
    assert topics.matches(filter_, topic)


@pytest.mark.parametrize("tenant", ["a/b", "+", "#", "x/#"])
def test_a_tenant_never_widens_a_subscription(tenant: str) -> None:
    [subscription] = topics.lifecycle_subscriptions(
        "dispatcher.svc.example.org", [("event.svc.example.org", "v1")], [tenant]
    )
    assert subscription.count("/") == "$share/g/apps/e/api/v1/audiences/t/events".count("/")
    assert not set("+#") & set(subscription)


def test_platform_names_keep_their_topics() -> None:
    assert topics.lifecycle_subscriptions(
        "dispatcher.svc.example.org", [("event.svc.example.org", "v1")], ["usr.example.org"]
    ) == [
        "$share/loadbalancer.dispatcher.svc.example.org/"
        "apps/event.svc.example.org/api/v1/audiences/usr.example.org/events"
    ]
