"""The one place the event, conference and tq clients are built, whatever carries their traffic."""

from __future__ import annotations

from typing import NamedTuple

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.tq import TaskPost, TqClient
from minigroups.adapters.peers.transport import Requester
from minigroups.config import PeerClientSettings, TqClientSettings


class PeerClients(NamedTuple):
    event: EventClient
    conference: ConferenceClient
    tq: TqClient


def build_peer_clients(
    requester: Requester,
    tq_post: TaskPost,
    *,
    event: PeerClientSettings,
    conference: PeerClientSettings,
    tq: TqClientSettings,
    token: str,
    user_agent: str,
) -> PeerClients:
    """The clients over `requester` (svc-agent requests) and `tq_post` (tq's HTTP API).

    The upstream choice only decides those two transports; `token` is tq's bearer token.
    """
    return PeerClients(
        event=EventClient(
            requester,
            account_id=event.account_id,
            api_version=event.api_version,
            timeout=event.timeout,
        ),
        conference=ConferenceClient(
            requester,
            account_id=conference.account_id,
            api_version=conference.api_version,
            timeout=conference.timeout,
        ),
        tq=TqClient(
            tq_post, base_url=tq.base_url, token=token, user_agent=user_agent, timeout=tq.timeout
        ),
    )
