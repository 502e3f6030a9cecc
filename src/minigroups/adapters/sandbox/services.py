"""Peer clients wired to the sandbox: what `bootstrap` builds when the sandbox is chosen."""

from __future__ import annotations

from typing import NamedTuple

import httpx

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.peers.tq import TqClient
from minigroups.adapters.sandbox.requester import InProcessRequester
from minigroups.adapters.sandbox.sandbox import Sandbox
from minigroups.adapters.sandbox.tq_transport import SandboxTqTransport


class SandboxServices(NamedTuple):
    event: EventClient
    conference: ConferenceClient
    tq: TqClient


def build_sandbox_services(
    sandbox: Sandbox,
    *,
    event_account_id: str = "event.svc.example.org",
    conference_account_id: str = "conference.svc.example.org",
    api_version: str = "v1",
    event_timeout: float = 5.0,
    conference_timeout: float = 5.0,
    tq_base_url: str = "http://tq.sandbox/",
    tq_token: str = "sandbox-token",  # noqa: S107 - the sandbox tq checks no token
    tq_user_agent: str = "minigroups-sandbox",
    tq_timeout: float = 5.0,
    http: httpx.AsyncClient | None = None,
) -> SandboxServices:
    """The real clients over the sandbox transports.

    Without `http`, tq gets its own client on the sandbox transport (no sockets; closing it is
    optional). A given `http` must route to the sandbox itself.
    """
    requester = InProcessRequester(
        sandbox, event_account_id=event_account_id, conference_account_id=conference_account_id
    )
    if http is None:
        http = httpx.AsyncClient(transport=SandboxTqTransport(sandbox))
    return SandboxServices(
        event=EventClient(
            requester, account_id=event_account_id, api_version=api_version, timeout=event_timeout
        ),
        conference=ConferenceClient(
            requester,
            account_id=conference_account_id,
            api_version=api_version,
            timeout=conference_timeout,
        ),
        tq=TqClient(
            http, base_url=tq_base_url, token=tq_token, user_agent=tq_user_agent, timeout=tq_timeout
        ),
    )
