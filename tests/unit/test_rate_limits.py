"""Rate limits without HTTP: the quotas' names, the order they are counted in, fail open with one
probe and one log line per backoff step, and an in-memory storage that does not grow for ever."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence

import limits
import pytest
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from minigroups.adapters.rate_limits import (
    CountsInMemory,
    LimitsRateLimiter,
    SlidingWindowCounter,
    quotas_of,
)
from minigroups.domain.errors import RateLimitStorageUnavailable
from minigroups.domain.ids import AccountId
from minigroups.ports import Quota, Usage
from minigroups.services.outage import Backoff
from minigroups.services.rate_limits import Policies, RateLimits
from tests.support.simulators.metrics import CountingMetrics

LOGGER = "minigroups.services.rate_limits"
ALICE = AccountId("alice", "usr.example.org")
BOB = AccountId("bob", "usr.example.org")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingLimiter:
    """A `RateLimiter` that counts in a `Counter`; while `down`, every count fails as a storage
    that cannot be reached does. `gate`, when set, holds every count until it is opened."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.gate: asyncio.Event | None = None

    async def count(self, counts: Sequence[tuple[Quota, str]]) -> list[Usage]:
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            self.calls.append(("down", ""))
            raise RateLimitStorageUnavailable("ConnectionError: Connection refused")
        usages = []
        for quota, key in counts:
            self.calls.append((quota.name, key))
            if self.counts[quota.name, key] >= quota.amount:
                usages.append(Usage(quota, False, 0, quota.window_seconds))
                return usages
            self.counts[quota.name, key] += 1
            usages.append(Usage(quota, True, quota.amount - self.counts[quota.name, key], 0))
        return usages

    async def close(self) -> None:
        return None


POLICIES = Policies(
    per_account=quotas_of("per_account", "2/second;3/minute"),
    per_audience=quotas_of("per_audience", "4/minute"),
    create_per_account=quotas_of("create_per_account", "1/minute"),
)


def _limits(limiter: CountingLimiter, clock: Clock) -> tuple[RateLimits, CountingMetrics]:
    metrics = CountingMetrics()
    backoff = Backoff(initial=1.0, cap=4.0, jitter=0.0)
    return RateLimits(limiter, POLICIES, metrics, backoff=backoff, clock=clock), metrics


def test_one_quota_keeps_its_key_name_several_are_named_by_their_windows() -> None:
    assert quotas_of("per_audience", "500/second") == (Quota("per_audience", 500, 1),)
    assert quotas_of("per_account", "2000/minute;50/second") == (
        Quota("per_account_1s", 50, 1),
        Quota("per_account_60s", 2000, 60),
    )
    assert quotas_of("create_per_account", "5 per 2 hours") == (
        Quota("create_per_account", 5, 7200),
    )


async def test_quotas_are_counted_per_account_then_create_then_audience_until_one_refuses() -> None:
    limiter = CountingLimiter()
    limits, metrics = _limits(limiter, Clock())
    tally = await limits.count(ALICE, creating=True)
    assert tally.checked
    assert tally.refused is None
    assert limiter.calls == [
        ("per_account_1s", str(ALICE)),
        ("per_account_60s", str(ALICE)),
        ("create_per_account", str(ALICE)),
        ("per_audience", ALICE.audience),
    ]
    limiter.calls.clear()
    refused = await limits.count(ALICE, creating=True)
    assert refused.refused is not None
    assert refused.refused.quota.name == "create_per_account"
    assert [name for name, _ in limiter.calls] == [
        "per_account_1s",
        "per_account_60s",
        "create_per_account",  # counting stops here: the audience's quota is not used up
    ]
    assert limiter.counts["per_audience", ALICE.audience] == 1
    assert metrics.count("rate_limited_requests_total", policy="create_per_account") == 1
    read = await limits.count(BOB, creating=False)
    assert [u.quota.name for u in read.usages] == [
        "per_account_1s",
        "per_account_60s",
        "per_audience",
    ]


async def test_a_failing_storage_is_probed_once_per_backoff_step_and_logged_once_per_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    limiter, clock = CountingLimiter(), Clock()
    limits, metrics = _limits(limiter, clock)
    limiter.down = True
    tallies = [await limits.count(ALICE, creating=False) for _ in range(50)]
    assert all(not tally.checked for tally in tallies)
    assert len(limiter.calls) == 1  # the first failure; the others wait for the next step
    clock.now += 1.0
    await limits.count(ALICE, creating=False)  # step 1 is over: one probe, failing again
    await limits.count(ALICE, creating=False)
    assert len(limiter.calls) == 2
    clock.now += 1.5  # step 2 is 2 s
    await limits.count(ALICE, creating=False)
    assert len(limiter.calls) == 2
    clock.now += 0.5
    limiter.down = False
    back = await limits.count(ALICE, creating=False)
    assert back.checked
    assert [u.remaining for u in back.usages] == [1, 2, 3]
    assert metrics.count("rate_limit_storage_errors_total") == 2
    assert metrics.count("rate_limit_unchecked_total") == 53
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert lines == [
        "rate limits: counting failed (1 in a row, retrying in 1 s): "
        "RateLimitStorageUnavailable: ConnectionError: Connection refused",
        "rate limits: counting failed (2 in a row, retrying in 2 s): "
        "RateLimitStorageUnavailable: ConnectionError: Connection refused",
        "rate limits: counting recovered after 2 failed attempts in 3.0 s",
    ]


async def test_requests_in_flight_when_the_storage_fails_log_one_line_together(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    limiter = CountingLimiter()
    limits, metrics = _limits(limiter, Clock())
    limiter.down, limiter.gate = True, asyncio.Event()
    counting = [asyncio.create_task(limits.count(ALICE, creating=False)) for _ in range(10)]
    await asyncio.sleep(0)
    limiter.gate.set()
    tallies = await asyncio.gather(*counting)
    assert all(not tally.checked for tally in tallies)
    assert metrics.count("rate_limit_storage_errors_total") == 10  # each call that failed
    assert len([r for r in caplog.records if r.name == LOGGER]) == 1


async def test_without_a_quota_for_the_request_nothing_is_counted() -> None:
    limiter = CountingLimiter()
    limits = RateLimits(
        limiter, Policies(create_per_account=(Quota("c", 1, 60),)), CountingMetrics()
    )
    assert (await limits.count(ALICE, creating=False)).usages == ()
    assert limiter.calls == []


async def test_the_library_counter_refuses_over_the_quota_and_says_when_to_retry() -> None:
    limiter = LimitsRateLimiter(CountsInMemory())
    quota = Quota("per_account", 2, 60)
    usages = [(await limiter.count([(quota, "alice.usr")]))[0] for _ in range(3)]
    assert [(u.allowed, u.remaining) for u in usages] == [(True, 1), (True, 0), (False, 0)]
    assert 1 <= usages[2].reset_seconds <= 60
    # Same amount and window, another quota: a count of its own.
    (other,) = await limiter.count([(Quota("create_per_account", 2, 60), "alice.usr")])
    assert (other.allowed, other.remaining) == (True, 1)
    # Counting stops at the quota that refuses.
    audience = Quota("per_audience", 10, 60)
    stopped = await limiter.count([(quota, "alice.usr"), (audience, "usr")])
    assert [(u.quota.name, u.allowed) for u in stopped] == [("per_account", False)]


async def test_the_counts_weigh_the_previous_window_as_the_library_does() -> None:
    storage, theirs = CountsInMemory(), MemoryStorage()
    now = time.time()
    previous_key, current_key = storage.sliding_window_keys("k", 3600, now)
    for counts in (storage, theirs):
        await counts.incr(previous_key, 7200, amount=6)
        await counts.incr(current_key, 7200, amount=1)
    previous, previous_ttl, current, current_ttl = await storage.get_sliding_window("k", 3600)
    expected = await theirs.get_sliding_window("k", 3600)
    assert (previous, current) == (expected[0], expected[2]) == (6, 1)
    assert previous_ttl == pytest.approx(expected[1], abs=0.1)
    assert current_ttl == pytest.approx(expected[3], abs=0.1)
    assert 0 < previous_ttl <= 3600
    assert 3600 < current_ttl <= 7200
    weighted = previous * previous_ttl / 3600 + current
    assert await storage.acquire_sliding_window_entry("k", math.floor(weighted) + 1, 3600) is True
    assert await storage.acquire_sliding_window_entry("k", math.floor(weighted) + 1, 3600) is False
    await storage.clear_sliding_window("k", 3600)
    previous, _, current, _ = await storage.get_sliding_window("k", 3600)
    assert (previous, current, storage.keys) == (0, 0, 0)


async def test_counting_in_memory_in_one_step_answers_as_the_library_strategy_does() -> None:
    """`CountsInMemory.acquire_counted` against the library's own strategy and storage: the same
    requests allowed, the same requests left, the same time until more are."""
    ours_storage, theirs_storage = CountsInMemory(), MemoryStorage()
    ours = SlidingWindowCounter(ours_storage)
    theirs = SlidingWindowCounterRateLimiter(theirs_storage)
    item = limits.RateLimitItemPerHour(5)
    # carol made 4 requests in the previous hour: they weigh by how much of it is left.
    previous_key, _ = ours_storage.sliding_window_keys(item.key_for("carol"), 3600, time.time())
    for storage in (ours_storage, theirs_storage):
        await storage.incr(previous_key, 7200, amount=4)
    for caller in ("alice", "carol"):
        for request in range(8):
            allowed, stats = await ours.count(item, caller)
            expected_allowed = await theirs.hit(item, caller)
            expected = await theirs.get_window_stats(item, caller)
            assert (allowed, stats.remaining) == (expected_allowed, expected.remaining), request
            assert stats.reset_time == pytest.approx(expected.reset_time, abs=0.5)
    assert [allowed for allowed, _ in [await ours.count(item, "bob") for _ in range(6)]] == [
        *[True] * 5,
        False,
    ]


async def test_memory_does_not_grow_without_bound_and_is_swept_at_most_every_few_seconds() -> None:
    storage = CountsInMemory(sweep_seconds=1.0)
    limiter = LimitsRateLimiter(storage)
    quota = Quota("per_account", 5, 1)
    for index in range(1000):
        await limiter.count([(quota, f"user{index}.usr")])
    assert storage.keys == 1000
    sweeps = storage.sweeps
    # A count lives two windows (this one and, weighed, the next); the next sweep drops it.
    await asyncio.sleep(2.1)
    await limiter.count([(quota, "late.usr")])
    assert storage.sweeps == sweeps + 1
    assert storage.keys == 1
    # No other sweep within a second of it, however many counts (one walk per interval).
    for index in range(1000):
        await limiter.count([(quota, f"again{index}.usr")])
    assert storage.sweeps == sweeps + 1
    assert storage.keys == 1001
