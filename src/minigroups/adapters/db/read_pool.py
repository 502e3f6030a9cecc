"""The direct statements' connections (issue 12): a small pool of asyncpg connections, written
here, for the read path, a create's two writes and the pipeline's single-statement units of
work (`direct.DirectPool`).

asyncpg's own pool costs about 18 us a checkout and return, a tenth of the service's CPU per read:
each release runs in a task of its own (`asyncio.shield`), and each acquire goes through a queue,
a holder and a timeout. These connections need none of that: each statement is its own
transaction and leaves no session state, and nothing else uses them. So a checkout takes the
last connection returned (the warmest), or opens one while fewer than `size` exist, or waits,
at most `timeout` seconds, for one to come back; a return hands the connection to the first
waiter, or keeps it.

A connection that was in use when its task failed or was cancelled may be in the middle of a
statement: it is closed, not kept, and a new one is opened when needed. An error the server
reported (a constraint, its statement timeout) leaves the connection ready: it is kept. One
older than `max_lifetime` is closed when it comes back, so connections are renewed
(PostgreSQL's memory per backend, a server restarted behind a proxy).

Waiting costs no timer of its own: every waiter waits `timeout` seconds, so the queue is in the
order of the deadlines, and one timer, set for the oldest waiter's, ends those whose time is up
and is set again for the next. Under load many reads wait: `asyncio.timeout` for each (a timer
made and cancelled, the task looked up, and with them three of the `getpid` system calls that
Python 3.11's `get_running_loop` makes) showed as 5% of the service's samples in a native
profile of reads (issue 12, session 8).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class PoolClosedError(ConnectionError):
    """A checkout after `close` (an OSError: `errors.translating` makes it 503, unavailable)."""


class PoolTimeoutError(TimeoutError):
    """No connection came back within the pool's timeout (an OSError too: 503)."""


IDLE_SECONDS = 300.0  # a connection idle this long is closed, beyond `keep_idle` (asyncpg's)


@dataclass(slots=True)
class _Held:
    connection: asyncpg.Connection
    opened: float
    idle_since: float = 0.0


@dataclass(slots=True, eq=False)
class _Waiter:
    future: asyncio.Future[_Held | None]  # a connection, or None: open one (a free slot)
    deadline: float  # on the loop's clock


class _Lease:
    """`async with pool.connection() as connection:` (a class: a generator-based context
    manager cost a few microseconds more a read)."""

    __slots__ = ("_held", "_pool")

    def __init__(self, pool: ReadPool) -> None:
        self._pool = pool
        self._held: _Held | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._held = await self._pool._checkout()
        return self._held.connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if exc is None or isinstance(exc, asyncpg.PostgresError):
            # None, or the server answered (a constraint, a timeout): ready again.
            self._pool._return(held)
        else:
            self._pool._discard(held)  # perhaps mid-statement: never handed on


class ReadPool:
    """At most `size` connections made by `connect`; see the module's text."""

    def __init__(
        self,
        connect: Connect,
        *,
        size: int,
        timeout: float,
        max_lifetime: float,
        keep_idle: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._size = size
        self._keep_idle = keep_idle
        self._timeout = timeout
        self._max_lifetime = max_lifetime
        self._idle: deque[_Held] = deque()
        self._waiters: deque[_Waiter] = deque()
        self._timer: asyncio.TimerHandle | None = None  # for the oldest waiter's deadline
        # The loop of the connections (set as the first is opened): a waiter's future is made on
        # it without `get_running_loop`, whose `getpid` cost 2% of a read (issue 12).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open = 0  # idle, in use, and being opened
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def connection(self) -> _Lease:
        """A connection for `async with`: returned after, or closed if its task failed."""
        return _Lease(self)

    async def warm(self, count: int) -> None:
        """Open connections until `count` are idle (start-up: the first reads wait for none)."""
        while len(self._idle) < count and self._open < self._size:
            self._open += 1
            try:
                held = await self._new()
            except BaseException:
                self._open -= 1
                raise
            self._return(held)

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake_all()
        idle, self._idle = list(self._idle), deque()
        self._open -= len(idle)
        for held in idle:
            await held.connection.close()

    async def _checkout(self) -> _Held:
        if self._closed:
            raise PoolClosedError("the read pool is closed")
        while self._idle:
            held = self._idle.pop()
            if not held.connection.is_closed():
                return held
            self._discard(held)  # lost while idle (the server restarted, say)
        if self._open < self._size:
            self._open += 1
            try:
                return await self._new()
            except BaseException:
                self._open -= 1
                self._wake_one()  # a waiter may open the connection this one could not
                raise
        return await self._wait()

    async def _new(self) -> _Held:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        async with asyncio.timeout(self._timeout):
            connection = await self._connect()
        return _Held(connection, self._clock())

    async def _wait(self) -> _Held:
        # Only when `size` are open, so the first of them set the loop; all are of that loop.
        loop = self._loop or asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future(), loop.time() + self._timeout)
        self._waiters.append(waiter)
        if self._timer is None:
            self._timer = loop.call_at(waiter.deadline, self._expire)
        try:
            held = await waiter.future
        except BaseException:
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                handed = future.result()  # answered as this task was stopped
                if handed is None:
                    self._wake_one()  # the free slot goes to the next waiter
                else:
                    self._return(handed)
            if waiter in self._waiters:  # stopped while waiting (answered ones are taken off)
                self._waiters.remove(waiter)
            raise
        if held is None:  # closed, or a free slot: open one
            return await self._checkout()
        return held

    def _expire(self) -> None:
        """The timer: the waiters whose time is up get PoolTimeoutError; set for the next."""
        self._timer = None
        if not self._waiters:
            return
        loop = self._waiters[0].future.get_loop()
        now = loop.time()
        while self._waiters and self._waiters[0].deadline <= now:
            future = self._waiters.popleft().future
            if not future.done():
                future.set_exception(
                    PoolTimeoutError(
                        f"no read connection free within {self._timeout:g} s ({self._size} in use)"
                    )
                )
        if self._waiters:
            self._timer = loop.call_at(self._waiters[0].deadline, self._expire)

    def _return(self, held: _Held) -> None:
        now = self._clock()
        if self._closed or held.connection.is_closed() or now - held.opened > self._max_lifetime:
            self._discard(held)
            return
        if self._hand_on(held):
            return
        held.idle_since = now
        self._idle.append(held)
        # After a burst: the connections idle for long (at the left: the last returned are taken
        # first) are closed, down to `keep_idle`.
        while len(self._idle) > self._keep_idle and now - self._idle[0].idle_since > IDLE_SECONDS:
            self._discard(self._idle.popleft())

    def _discard(self, held: _Held) -> None:
        self._open -= 1
        held.connection.terminate()
        self._wake_one()

    def _wake_one(self) -> None:
        """A slot is free: the first waiter opens a connection in it."""
        self._hand_on(None)

    def _wake_all(self) -> None:
        """Closed: every waiter wakes and finds it so."""
        while self._hand_on(None):
            pass

    def _hand_on(self, handed: _Held | None) -> bool:
        """`handed` (a connection, or None: a free slot) to the first waiter still waiting;
        False when none is."""
        while self._waiters:
            future = self._waiters.popleft().future
            if not future.done():
                future.set_result(handed)
                return True
        return False
