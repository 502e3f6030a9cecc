"""The pipeline's log lines (issue 11): each inbox event handled, retried or buried and each
outbox item sent, with `minigroup_id` (when known), label and attempt as key-values."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.api.conftest import Api, running_api
from tests.api.pipeline import (
    Pipeline,
    converted,
    host,
    recorded,
    segments_text,
    uploaded,
    user,
)
from tests.support.logs import LogLines, captured_logs

LOOPS = "minigroups.consumer.loops"


@pytest.fixture
async def api(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(sqlite_url, tmp_path) as running:
        yield running


@pytest.fixture
def logs() -> Iterator[LogLines]:
    with captured_logs("info", "json") as lines:
        yield lines


def lines(logs: LogLines, prefix: str) -> list[dict[str, Any]]:
    return [r for r in logs.of(LOOPS) if r["message"].startswith(prefix)]


async def test_handled_events_and_sent_effects_name_their_minigroup(
    api: Api, logs: LogLines
) -> None:
    pipeline = Pipeline(api)
    minigroup, _, _ = await recorded(pipeline)
    handled = [r for r in lines(logs, "inbox: ") if " handled " in r["message"]]
    assert [r["label"] for r in handled] == ["room.upload", "task.complete", "task.complete"]
    for line in handled:
        assert line["level"] == "info"
        assert line["minigroup_id"] == minigroup["id"]
        assert line["attempt"] == 1
        assert line["event_id"] in line["message"]
    sent = [r for r in lines(logs, "outbox: ") if " sent " in r["message"]]
    kinds = sorted((r["kind"], r["label"]) for r in sent)
    assert kinds == [
        ("event_request", "room.adjust"),
        ("tq_task", "convert-mjr-dumps-to-stream"),
        ("tq_task", "convert-mjr-dumps-to-stream"),
    ]
    for line in sent:
        assert line["attempt"] == 1
        assert line["effect_id"]
        if line["kind"] == "tq_task":
            assert line["minigroup_id"] == minigroup["id"]
        else:
            assert line["room_id"] == minigroup["event_room_id"]


async def test_a_retried_event_says_why_with_its_minigroup_and_attempt(
    api: Api, logs: LogLines
) -> None:
    pipeline = Pipeline(api)
    minigroup = await api.create(scope="retried")
    host(api, minigroup["event_room_id"], user(1))
    rtc = uuid4()
    await uploaded(pipeline, minigroup, [rtc])
    api.faults.fail("event", "event.list", status=500, times=1)  # the host lookup fails once
    text = segments_text(int(time.time() * 1000) - 60_000, (0, "30.0"))
    await pipeline.deliver("task.complete", converted(minigroup, rtc, text), source="tq")
    await pipeline.settle()
    [retried] = [r for r in lines(logs, "inbox: task.complete") if "retried" in r["message"]]
    assert retried["level"] == "warning"
    assert retried["minigroup_id"] == minigroup["id"]
    assert (retried["label"], retried["attempt"]) == ("task.complete", 1)
    assert "UpstreamFailed" in retried["error"]
    [handled] = [r for r in lines(logs, "inbox: task.complete") if " handled " in r["message"]]
    assert handled["attempt"] == 2


async def test_a_dead_letter_is_an_error_line(api: Api, logs: LogLines) -> None:
    pipeline = Pipeline(api)
    assert await pipeline.deliver("room.upload", "{not json")
    await pipeline.settle()
    [buried] = [r for r in lines(logs, "inbox: room.upload") if "dead letter" in r["message"]]
    assert buried["level"] == "error"
    assert (buried["label"], buried["attempt"]) == ("room.upload", 3)  # NO_WAIT: 3 attempts
    retried = [r for r in lines(logs, "inbox: room.upload") if "retried" in r["message"]]
    assert [r["attempt"] for r in retried] == [1, 2]
    assert "minigroup_id" not in buried  # unknown: the payload names none
    assert buried["error"]
