"""Responses matched by correlation_data: no leaks, drops counted by reason (upstream §1.6)."""

from __future__ import annotations

import asyncio

import pytest

from minigroups.adapters.ulms import BrokerUnavailable
from minigroups.adapters.ulms import envelope as codec
from minigroups.adapters.ulms.correlation import DROPPED, Correlations
from tests.support.simulators import CountingMetrics
from tests.support.simulators.wire import response


def answer(correlation: str) -> codec.Envelope:
    return response(status=200, correlation_data=correlation, body={}, timestamp="0")


@pytest.fixture
def metrics() -> CountingMetrics:
    return CountingMetrics()


@pytest.fixture
def table(metrics: CountingMetrics) -> Correlations:
    return Correlations(metrics)


async def test_a_response_reaches_its_waiter_and_only_that_one(table: Correlations) -> None:
    first, first_waiter = table.open()
    second, second_waiter = table.open()
    assert first != second
    assert table.resolve(answer(second))
    assert second_waiter.result().properties["correlation_data"] == second
    assert not first_waiter.done()
    table.close(first)
    table.close(second)
    assert len(table) == 0


async def test_a_late_response_is_dropped_as_late(
    table: Correlations, metrics: CountingMetrics
) -> None:
    correlation, _ = table.open()
    table.close(correlation)  # the request timed out
    assert len(table) == 0
    assert not table.resolve(answer(correlation))
    assert metrics.count(DROPPED, reason="late") == 1


async def test_a_second_response_is_dropped_as_duplicate(
    table: Correlations, metrics: CountingMetrics
) -> None:
    correlation, _ = table.open()
    assert table.resolve(answer(correlation))
    assert not table.resolve(answer(correlation))  # before the request even ended
    table.close(correlation)
    assert not table.resolve(answer(correlation))
    assert metrics.count(DROPPED, reason="duplicate") == 2


async def test_unknown_and_uncorrelated_responses_are_dropped_as_unknown(
    table: Correlations, metrics: CountingMetrics
) -> None:
    assert not table.resolve(answer("neverheardofit12"))
    assert not table.resolve(codec.Envelope("{}", {"type": "response"}))
    assert metrics.count(DROPPED, reason="unknown") == 2


async def test_failing_all_wakes_every_waiter_with_the_error(table: Correlations) -> None:
    waiters = [table.open() for _ in range(3)]
    table.fail_all(BrokerUnavailable("dropped"))
    for correlation, waiter in waiters:
        with pytest.raises(BrokerUnavailable):
            await waiter
        table.close(correlation)
    assert len(table) == 0


async def test_ended_requests_are_remembered_within_a_bound(metrics: CountingMetrics) -> None:
    table = Correlations(metrics, remember=2)
    ended = []
    for _ in range(3):
        correlation, _ = table.open()
        table.close(correlation)
        ended.append(correlation)
    table.resolve(answer(ended[0]))  # forgotten: counted as unknown
    table.resolve(answer(ended[2]))
    assert metrics.count(DROPPED, reason="unknown") == 1
    assert metrics.count(DROPPED, reason="late") == 1


async def test_closing_a_cancelled_request_cancels_its_waiter(table: Correlations) -> None:
    correlation, waiter = table.open()
    task = asyncio.ensure_future(waiter)
    table.close(correlation)
    await asyncio.sleep(0)
    assert task.cancelled()
