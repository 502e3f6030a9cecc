"""Request counts with the `limits` library's sliding window counter, in memory or in Redis.

`quotas_of` reads the library's notation into `Quota`s; `build_rate_limiter` picks the storage
from `[rate_limits] storage`: the library's Redis storage, or `CountsInMemory` (why not the
library's in-memory storage: docs/decisions.md, "Rate limits"). Every failure of the storage
becomes `RateLimitStorageUnavailable` here, at the adapter's edge.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence

import coredis
import limits
from limits.aio.storage import RedisStorage, SlidingWindowCounterSupport, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage.base import TimestampedSlidingWindow
from limits.util import WindowStats

from minigroups.domain.errors import RateLimitStorageUnavailable
from minigroups.ports import Quota, Usage
from minigroups.services.outage import describe

KEY_PREFIX = "minigroups"  # of every key in Redis
NAMESPACE = "rate"  # the first part of a count's key, after Redis's prefix
SWEEP_SECONDS = 10.0  # expired in-memory counts are dropped at most this often


def quotas_of(name: str, text: str) -> tuple[Quota, ...]:
    """The quotas of one `[rate_limits]` key (`"50/second;2000/minute"`), shortest window first.

    One quota is named after the key (`per_account`); several are told apart by their windows
    (`per_account_1s`, `per_account_60s`): the names are the policies of the `RateLimit` fields.
    """
    items = sorted(limits.parse_many(text), key=lambda item: item.get_expiry())
    if len(items) == 1:
        return (Quota(name, items[0].amount, items[0].get_expiry()),)
    return tuple(
        Quota(f"{name}_{item.get_expiry()}s", item.amount, item.get_expiry()) for item in items
    )


def usage_of(quota: Quota, allowed: bool, stats: WindowStats, now: float) -> Usage:
    """One count's answer: a refused request has nothing left and waits at least a second."""
    reset = math.ceil(stats.reset_time - now)
    if not allowed:
        return Usage(quota, False, 0, max(1, reset))
    return Usage(quota, True, stats.remaining, max(0, reset))


class _QuotaItem(limits.RateLimitItemPerSecond):
    """A quota as the library's item: `amount` per `window_seconds` seconds. Its keys are the
    library's (`rate/<identifiers>/<amount>/<window>/second`), made with one join: the
    library's `key_for` converts every part anew, twice per count."""

    __slots__ = ("_suffix",)

    def __init__(self, quota: Quota) -> None:
        super().__init__(quota.amount, quota.window_seconds, namespace=NAMESPACE)
        self._suffix = f"{quota.amount}/{quota.window_seconds}/second"

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return "/".join((self.namespace, *map(str, identifiers), self._suffix))


class LimitsRateLimiter:
    """The `RateLimiter` port over the library's sliding window counter on one storage.

    The counter keeps two numbers per key and window (this window's count and the previous
    one's) and weighs the previous by how much of it still overlaps the last `window` seconds:
    constant memory and one atomic script per count in Redis, where the moving window keeps a
    timestamp per request (2000 of them per account for `2000/minute`).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        timeout: float | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._strategy = SlidingWindowCounter(storage)
        self._memory = storage if isinstance(storage, CountsInMemory) else None
        base = storage.base_exceptions
        self._errors: tuple[type[Exception], ...] = (
            *(base if isinstance(base, tuple) else (base,)),
            StorageError,
            OSError,
            TimeoutError,
        )
        self._timeout = timeout
        self._close = close
        self._items: dict[Quota, _QuotaItem] = {}

    async def count(self, counts: Sequence[tuple[Quota, str]]) -> list[Usage]:
        try:
            if self._timeout is None:
                return await self._count(counts)
            async with asyncio.timeout(self._timeout):  # the request's counts together
                return await self._count(counts)
        except self._errors as exc:
            raise RateLimitStorageUnavailable(describe(exc)) from exc

    async def _count(self, counts: Sequence[tuple[Quota, str]]) -> list[Usage]:
        if self._memory is not None:  # nothing to await: counted in one step per quota
            return self._memory.count_all(counts)
        usages = []
        for quota, key in counts:
            item = self._items.get(quota)
            if item is None:
                item = self._items[quota] = _QuotaItem(quota)
            # The quota's name is part of the key: two quotas of one amount and window (say
            # per_account and create_per_account) must not share a count.
            allowed, stats = await self._strategy.count(item, quota.name, key)
            usages.append(usage_of(quota, allowed, stats, time.time()))
            if not allowed:
                break
        return usages

    async def close(self) -> None:
        if self._close is not None:
            await self._close()


class SlidingWindowCounter(SlidingWindowCounterRateLimiter):
    """The library's sliding window counter, plus `count`: `hit`, then `get_window_stats` for
    the `RateLimit` field. `CountsInMemory` does both in one step, with the same formulas: the
    two calls through the library's layers were most of what the rate limits cost a read."""

    async def count(
        self, item: limits.RateLimitItem, *identifiers: str
    ) -> tuple[bool, WindowStats]:
        if isinstance(self.storage, CountsInMemory):
            key = item.key_for(*identifiers)
            return self.storage.acquire_counted(key, item.amount, item.get_expiry())
        allowed = await self.hit(item, *identifiers)
        return allowed, await self.get_window_stats(item, *identifiers)


# SlidingWindowCounterSupport first: after Storage, the library's error wrapping runs twice on
# the sliding window's methods (Storage's __init_subclass__ calls its parent's twice).
class CountsInMemory(SlidingWindowCounterSupport, Storage, TimestampedSlidingWindow):
    """The sliding window counter's counts in this process: one dict of key -> [count, expiry].

    The same counts as the library's `MemoryStorage` (a current and a previous window per key,
    each living two windows), without what made that one cost more than a read: it starts a
    walk over every key after each count (1.4 ms per request with 10,000 keys, measured) and
    takes a lock per key. Here nothing awaits while a count is read and raised, so a count is
    atomic in the event loop without a lock, and expired counts are dropped by one walk at
    most every `sweep_seconds` (and when their key is read): the memory holds the keys of the
    last two windows and a sweep's interval, never more.
    """

    def __init__(self, *, sweep_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__()
        # key (the library's text, or a (quota, key, window) tuple) -> [count, expires at]
        self._counts: dict[Hashable, list[float]] = {}
        self._sweep_seconds = sweep_seconds
        self._next_sweep = time.time() + sweep_seconds
        self.sweeps = 0

    @property
    def keys(self) -> int:
        """How many counts are held (expired ones included until the next sweep)."""
        return len(self._counts)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _count(self, key: Hashable, now: float) -> int:
        entry = self._counts.get(key)
        if entry is None:
            return 0
        if entry[1] <= now:
            del self._counts[key]
            return 0
        return int(entry[0])

    def _raise(self, key: Hashable, expiry: float, amount: int, now: float) -> int:
        if now >= self._next_sweep:
            self._sweep(now)
        entry = self._counts.get(key)
        if entry is None or entry[1] <= now:
            self._counts[key] = [amount, now + expiry]
            return amount
        entry[0] += amount
        return int(entry[0])

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_seconds
        self.sweeps += 1
        expired = [key for key, (_, expires) in self._counts.items() if expires <= now]
        for key in expired:
            del self._counts[key]

    def _window(
        self, key: str, expiry: int, now: float
    ) -> tuple[str, tuple[int, float, int, float]]:
        """The current window's key, and (previous count, its weight's time left, current
        count, its time left) as the library's in-memory storage computes them."""
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        return current_key, self._counts_of(previous_key, current_key, expiry, now)

    def _counts_of(
        self, previous_key: Hashable, current_key: Hashable, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        previous = self._count(previous_key, now)
        current = self._count(current_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def acquire_counted(self, key: str, limit: int, expiry: int) -> tuple[bool, WindowStats]:
        """`acquire_sliding_window_entry` of one request, then the window's stats as the
        library's `SlidingWindowCounterRateLimiter.get_window_stats` computes them, in one step
        (nothing awaits in between, so nothing else counts in between either)."""
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        return self._acquire(previous_key, current_key, limit, expiry, now)

    def count_all(self, counts: Sequence[tuple[Quota, str]]) -> list[Usage]:
        """`LimitsRateLimiter.count` in memory: `acquire_counted` per quota, the windows keyed
        by (quota, key, window number) tuples rather than the library's key texts, which took
        most of a count's time (issue 12: a read's rate limits within 5% of the read)."""
        now = time.time()
        usages = []
        for quota, key in counts:
            expiry = quota.window_seconds
            previous_key = (quota.name, key, int((now - expiry) / expiry))
            current_key = (quota.name, key, int(now / expiry))
            allowed, stats = self._acquire(previous_key, current_key, quota.amount, expiry, now)
            usages.append(usage_of(quota, allowed, stats, now))
            if not allowed:
                break
        return usages

    def _acquire(
        self, previous_key: Hashable, current_key: Hashable, limit: int, expiry: int, now: float
    ) -> tuple[bool, WindowStats]:
        previous, previous_ttl, current, current_ttl = self._counts_of(
            previous_key, current_key, expiry, now
        )
        weighted = previous * previous_ttl / expiry + current
        allowed = math.floor(weighted) + 1 <= limit
        if allowed:
            self._raise(current_key, 2 * expiry, 1, now)  # counted for two windows
            current += 1
            weighted += 1
        remaining = max(0, limit - math.floor(weighted))
        if not (previous or current):
            return allowed, WindowStats(now, remaining)
        previous_reset_in = previous_ttl % (expiry / previous) if previous else math.inf
        current_reset_in = current_ttl % expiry if current else math.inf
        return allowed, WindowStats(now + min(previous_reset_in, current_reset_in), remaining)

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = time.time()
        current_key, (previous, previous_ttl, current, _) = self._window(key, expiry, now)
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        self._raise(current_key, 2 * expiry, amount, now)  # counted for two windows
        return True

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        return self._window(key, expiry, time.time())[1]

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window_key in self.sliding_window_keys(key, expiry, time.time()):
            self._counts.pop(window_key, None)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._raise(key, expiry, amount, time.time())

    async def get(self, key: str) -> int:
        return self._count(key, time.time())

    async def get_expiry(self, key: str) -> float:
        entry = self._counts.get(key)
        return entry[1] if entry is not None else time.time()

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        held = len(self._counts)
        self._counts.clear()
        return held

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)


def build_rate_limiter(storage: str, *, timeout: float) -> LimitsRateLimiter:
    """The limiter for `[rate_limits] storage`: `memory://` (this process only) or a Redis URL
    (`redis://host:port/db`, `rediss://` with TLS) whose counts every instance shares.

    Redis is reached lazily, at the first count: a Redis that is down at start-up delays
    nothing, requests are served unchecked meanwhile.
    """
    if storage.startswith("memory://"):
        return LimitsRateLimiter(CountsInMemory())
    pool: coredis.ConnectionPool = coredis.ConnectionPool.from_url(
        storage, connect_timeout=timeout, stream_timeout=timeout
    )
    redis = RedisStorage(
        f"async+{storage}",
        wrap_exceptions=True,
        implementation="coredis",
        key_prefix=KEY_PREFIX,
        connection_pool=pool,  # type: ignore[arg-type]  # documented; its annotation is narrower
    )

    async def close() -> None:
        pool.disconnect()

    return LimitsRateLimiter(redis, timeout=timeout, close=close)
