"""The contract suite runs once per peer world (adapter factory) listed in `worlds.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.worlds import WORLD_FACTORIES, PeerWorld
from tests.support.mosquitto import shared_mosquitto

__all__ = ["shared_mosquitto", "world"]


@pytest.fixture(params=sorted(WORLD_FACTORIES))
async def world(request: pytest.FixtureRequest) -> AsyncIterator[PeerWorld]:
    async with WORLD_FACTORIES[request.param](request) as peer_world:
        yield peer_world
