"""An audience with `/`, `+`, `#` or a control character never changes a topic (issue 8).

Published raw, `a/+/#` would be a wildcard in a topic name: the broker drops the connection. With
`/` it would add levels and reach another topic. Each must arrive as one encoded level.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import unquote

import aiomqtt
import pytest

from tests.integration.ulms.service import UlmsApi

OWN_ACCOUNT = "dispatcher.svc.example.org"


@pytest.mark.parametrize("audience", ["a/+/#", "usr.victim/events", "+", "#", "a\x00b", "урок"])
async def test_a_notification_for_a_hostile_audience_is_one_topic_level(
    service: UlmsApi, audience: str
) -> None:
    async with aiomqtt.Client(
        service.broker.host, service.broker.port, identifier="escaping-listener"
    ) as listener:
        await listener.subscribe(f"apps/{OWN_ACCOUNT}/api/v1/audiences/#", qos=1)
        await service.container.ctx.notifier.notify(
            audience=audience, label="minigroup.stop", payload={"id": "x"}
        )
        await service.container.ctx.notifier.notify(
            audience="usr.example.org", label="minigroup.stop", payload={"id": "y"}
        )  # the connection survived the first publish
        async with asyncio.timeout(5):
            messages = [message async for message in _take(listener, 2)]
    topics = [message.topic.value.split("/") for message in messages]
    assert [len(levels) for levels in topics] == [7, 7]
    assert unquote(topics[0][5], errors="strict") == audience
    assert topics[0][6] == "events"
    assert topics[1][5] == "usr.example.org"


async def _take(client: aiomqtt.Client, count: int) -> AsyncIterator[aiomqtt.Message]:
    async for message in client.messages:
        yield message
        count -= 1
        if count == 0:
            return
