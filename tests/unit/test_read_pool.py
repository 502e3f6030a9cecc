"""The read path's own connection pool (issue 12): reuse, the bound, waiting and its timeout, and
never handing on a connection that was in use when its task failed."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import asyncpg
import pytest

from minigroups.adapters.db.read_pool import PoolClosedError, PoolTimeoutError, ReadPool


class FakeConnection:
    """What the pool asks of a connection: is it closed, close it, terminate it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.terminated = False

    def is_closed(self) -> bool:
        return self.closed or self.terminated

    async def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        self.terminated = True


class Connector:
    """Opens numbered fake connections; `failing` makes the next opens fail."""

    def __init__(self) -> None:
        self.opened: list[FakeConnection] = []
        self.failing = False

    async def __call__(self) -> asyncpg.Connection:
        if self.failing:
            raise OSError("connection refused")
        connection = FakeConnection(len(self.opened))
        self.opened.append(connection)
        return cast(asyncpg.Connection, connection)


def pool(connector: Connector, **options: Any) -> ReadPool:
    settings = {"size": 2, "timeout": 0.2, "max_lifetime": 60.0, **options}
    return ReadPool(connector, **settings)


def number(connection: asyncpg.Connection) -> int:
    return cast(FakeConnection, connection).number


async def test_a_returned_connection_is_used_again_and_the_pool_opens_at_most_size() -> None:
    connector = Connector()
    reads = pool(connector)
    async with reads.connection() as first, reads.connection() as second:
        assert (number(first), number(second)) == (0, 1)
    async with reads.connection() as again:
        assert number(again) == 0  # the last returned: the warmest
    assert len(connector.opened) == 2
    assert (reads.open_connections, reads.idle_connections) == (2, 2)


async def test_a_checkout_waits_for_a_return_and_times_out_without_one() -> None:
    reads = pool(Connector(), size=1)
    got: list[int] = []

    async def second() -> None:
        async with reads.connection() as connection:
            got.append(number(connection))

    async with reads.connection():
        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.01)
        assert got == []
    await waiting
    assert got == [0]  # handed over on return, no new connection
    async with reads.connection():
        with pytest.raises(PoolTimeoutError, match=r"no read connection free within 0\.2 s"):
            async with reads.connection():
                pass


async def test_a_connection_in_use_when_its_task_fails_is_terminated_not_handed_on() -> None:
    connector = Connector()
    reads = pool(connector, size=1)
    with pytest.raises(RuntimeError):
        async with reads.connection():
            raise RuntimeError("the statement failed")
    assert connector.opened[0].terminated
    assert reads.open_connections == 0
    async with reads.connection() as fresh:
        assert number(fresh) == 1


async def test_a_cancelled_read_gives_up_its_connection_and_a_waiter_opens_a_new_one() -> None:
    connector = Connector()
    reads = pool(connector, size=1)
    started = asyncio.Event()

    async def slow_read() -> None:
        async with reads.connection():
            started.set()
            await asyncio.sleep(10)

    slow = asyncio.create_task(slow_read())
    await started.wait()

    async def next_read() -> int:
        async with reads.connection() as connection:
            return number(connection)

    waiting = asyncio.create_task(next_read())
    await asyncio.sleep(0.01)
    slow.cancel()
    assert await waiting == 1  # the slot freed by the cancelled read, a new connection
    assert connector.opened[0].terminated


async def test_a_waiter_cancelled_as_it_is_handed_a_connection_gives_it_back() -> None:
    reads = pool(Connector(), size=1)
    async with reads.connection():
        waiting = asyncio.create_task(_checkout_once(reads))
        await asyncio.sleep(0.01)
    waiting.cancel()  # the connection was handed to it; it has not run yet
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert reads.idle_connections == 1
    async with reads.connection() as connection:
        assert number(connection) == 0


async def _checkout_once(reads: ReadPool) -> None:
    async with reads.connection():
        pass


async def test_a_failed_open_frees_its_place() -> None:
    connector = Connector()
    reads = pool(connector, size=1)
    connector.failing = True
    with pytest.raises(OSError, match="refused"):
        async with reads.connection():
            pass
    assert reads.open_connections == 0
    connector.failing = False
    async with reads.connection() as connection:
        assert number(connection) == 0


async def test_an_old_connection_is_renewed_when_it_comes_back() -> None:
    connector = Connector()
    reads = pool(connector, max_lifetime=0.0)
    async with reads.connection():
        pass
    assert connector.opened[0].terminated
    async with reads.connection() as connection:
        assert number(connection) == 1


async def test_close_closes_the_idle_ones_then_the_ones_in_use_as_they_come_back() -> None:
    connector = Connector()
    reads = pool(connector)
    await reads.warm(1)
    async with reads.connection() as in_use:
        async with reads.connection():
            pass  # a second one, idle after this
        await reads.close()
        assert connector.opened[1].closed
        assert not cast(FakeConnection, in_use).is_closed()
    assert cast(FakeConnection, in_use).terminated
    assert reads.open_connections == 0
    with pytest.raises(PoolClosedError):
        async with reads.connection():
            pass


async def test_warm_opens_idle_connections_up_to_the_size() -> None:
    connector = Connector()
    reads = pool(connector)
    await reads.warm(5)
    assert (len(connector.opened), reads.idle_connections) == (2, 2)


async def test_after_a_burst_long_idle_connections_are_closed_down_to_keep_idle() -> None:
    connector = Connector()
    clock = [1000.0]
    reads = pool(connector, size=3, keep_idle=1, max_lifetime=3600.0, clock=lambda: clock[0])
    await reads.warm(3)  # all three idle since 1000
    assert reads.idle_connections == 3
    clock[0] += 301
    async with reads.connection():  # the last returned; the two others idle for 301 s
        pass
    assert reads.idle_connections == 1
    assert sum(connection.terminated for connection in connector.opened) == 2


async def test_an_error_the_server_reported_keeps_the_connection() -> None:
    connector = Connector()
    reads = pool(connector, size=1)
    with pytest.raises(asyncpg.UniqueViolationError):
        async with reads.connection():
            raise asyncpg.UniqueViolationError("duplicate key")
    assert not connector.opened[0].terminated
    async with reads.connection() as again:
        assert number(again) == 0


async def test_waiters_time_out_in_their_own_order_and_one_handed_a_connection_does_not() -> None:
    reads = pool(Connector(), size=1, timeout=0.6)
    outcomes: dict[str, str] = {}

    async def wait(name: str) -> None:
        try:
            async with reads.connection() as connection:
                outcomes[name] = f"got {number(connection)}"
        except PoolTimeoutError:
            outcomes[name] = "timed out"

    async with reads.connection():
        first = asyncio.create_task(wait("first"))
        await asyncio.sleep(0.3)
        second = asyncio.create_task(wait("second"))
        await asyncio.sleep(0.45)  # the first's deadline (0.6 s) has passed, not the second's
        assert outcomes == {"first": "timed out"}
    await asyncio.gather(first, second)
    assert outcomes["second"] == "got 0"  # handed the connection before its own deadline


async def test_a_cancelled_waiter_leaves_the_queue_and_the_next_one_still_times_out() -> None:
    reads = pool(Connector(), size=1, timeout=0.2)
    async with reads.connection():
        cancelled = asyncio.create_task(_checkout_once(reads))
        await asyncio.sleep(0.05)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        with pytest.raises(PoolTimeoutError):
            await _checkout_once(reads)
    async with reads.connection() as connection:  # nothing left waiting holds it
        assert number(connection) == 0


async def test_close_wakes_the_waiters_with_the_pool_closed() -> None:
    reads = pool(Connector(), size=1, timeout=5.0)
    async with reads.connection():
        waiting = asyncio.create_task(_checkout_once(reads))
        await asyncio.sleep(0.01)
        await reads.close()
        with pytest.raises(PoolClosedError):
            await waiting
