"""Fixtures of the peer client tests: a sandbox on a frozen clock, clients with short timeouts."""

from __future__ import annotations

import pytest

from minigroups.adapters.peers.conference import ConferenceClient
from minigroups.adapters.peers.event import EventClient
from minigroups.adapters.sandbox import InProcessRequester, Sandbox
from tests.support.faults import Faults
from tests.unit.peers.support import (
    AGENT,
    CONFERENCE_ACCOUNT,
    EVENT_ACCOUNT,
    NOW,
    TIMEOUT,
    Clock,
)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def sandbox(clock: Clock, faults: Faults) -> Sandbox:
    return Sandbox(clock=clock, agent_id=AGENT, faults=faults)


@pytest.fixture
def requester(sandbox: Sandbox) -> InProcessRequester:
    return InProcessRequester(
        sandbox, event_account_id=EVENT_ACCOUNT, conference_account_id=CONFERENCE_ACCOUNT
    )


@pytest.fixture
def event(requester: InProcessRequester) -> EventClient:
    return EventClient(requester, account_id=EVENT_ACCOUNT, api_version="v1", timeout=TIMEOUT)


@pytest.fixture
def conference(requester: InProcessRequester) -> ConferenceClient:
    return ConferenceClient(
        requester, account_id=CONFERENCE_ACCOUNT, api_version="v1", timeout=TIMEOUT
    )
