"""Peer clients, notifier and agent over the platform's broker: what `bootstrap` builds for
`upstream = "ulms"`."""

from __future__ import annotations

from typing import NamedTuple

import httpx

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.tq import TqClient
from minigroups.adapters.ulms.agent import MqttAgent
from minigroups.adapters.ulms.notifier import MqttNotifier
from minigroups.adapters.ulms.options import AgentOptions
from minigroups.adapters.ulms.requester import MqttRequester
from minigroups.config import Settings
from minigroups.ports import Metrics


class UlmsServices(NamedTuple):
    agent: MqttAgent
    event: EventClient
    conference: ConferenceClient
    tq: TqClient
    notifier: MqttNotifier


def build_ulms_services(
    settings: Settings, *, id_token: str, http: httpx.AsyncClient, metrics: Metrics, user_agent: str
) -> UlmsServices:
    """The agent (not yet started) and the clients over it; tq over the shared `http`.

    Raise ValueError when `[mqtt]` is missing or its `uri` has no host.
    """
    if settings.mqtt is None:
        raise ValueError("the [mqtt] section is missing")
    agent_id = f"{settings.agent_label}.{settings.id}"
    options = AgentOptions.from_settings(settings.mqtt, agent_id=agent_id, password=id_token)
    agent = MqttAgent(options, metrics)
    event, conference, tq = settings.event_client, settings.conference_client, settings.tq_client
    requester = MqttRequester(
        agent, services={event.account_id: "event", conference.account_id: "conference"}
    )
    return UlmsServices(
        agent=agent,
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
            http, base_url=tq.base_url, token=id_token, user_agent=user_agent, timeout=tq.timeout
        ),
        notifier=MqttNotifier(agent, account_id=settings.id),
    )
