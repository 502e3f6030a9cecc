"""The svc-agent topics (contract.md upstream §1.4) and topic-filter matching.

Every level built from data (agent and account ids, api versions, audiences) is percent-encoded
(`domain/escaping.py`): an audience with `/`, `+`, `#` or a control character stays one level and
never a wildcard. Platform names are DNS-like, so for them the encoding changes nothing.
"""

from __future__ import annotations

from minigroups.domain.escaping import segment

OWN_API_VERSION = "v1"  # hard-coded in the reference
SHARED_GROUP = "loadbalancer"


def request_topic(agent_id: str, api_version: str, peer_account_id: str) -> str:
    """Where a request to any instance of a peer account is published."""
    return f"agents/{segment(agent_id)}/api/{segment(api_version)}/out/{segment(peer_account_id)}"


def response_topic(agent_id: str, api_version: str, peer_account_id: str) -> str:
    """The `response_topic` property written into each request."""
    return f"agents/{segment(agent_id)}/api/{segment(api_version)}/in/{segment(peer_account_id)}"


def responses_filter(agent_id: str) -> str:
    """The one subscription that receives every response (all peer api versions are v1)."""
    return f"agents/{segment(agent_id)}/api/{OWN_API_VERSION}/in/+"


def audience_events_topic(
    account_id: str, audience: str, api_version: str = OWN_API_VERSION
) -> str:
    """Where an account broadcasts its events for one audience."""
    account, version = segment(account_id), segment(api_version)
    return f"apps/{account}/api/{version}/audiences/{segment(audience)}/events"


def shared(group: str, topic_filter: str) -> str:
    """A shared subscription: each message goes to one member of the group."""
    return f"$share/{group}/{topic_filter}"


def lifecycle_subscriptions(
    own_account_id: str, peers: list[tuple[str, str]], tenants: list[str]
) -> list[str]:
    """Each peer's (account id, api version) events for each tenant, shared by the instances of
    the service (contract.md upstream §1.4)."""
    group = f"{SHARED_GROUP}.{segment(own_account_id)}"
    return [
        shared(group, audience_events_topic(account, tenant, version))
        for tenant in tenants
        for account, version in peers
    ]


def sender_agent(topic: str) -> str | None:
    """The agent id of `agents/<agent id>/...`, if the topic has that shape."""
    levels = topic.split("/")
    return levels[1] if len(levels) > 2 and levels[0] == "agents" else None


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 matching of a topic against a filter; `$share/<group>/` is ignored."""
    wanted = topic_filter.split("/")
    if wanted[0] == "$share":
        wanted = wanted[2:]
    levels = topic.split("/")
    for index, level in enumerate(wanted):
        if level == "#":
            return True
        if index >= len(levels) or (level not in ("+", levels[index])):
            return False
    return len(levels) == len(wanted)
