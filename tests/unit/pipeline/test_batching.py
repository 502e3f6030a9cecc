"""The group commit of the pipeline (consumer/batching.py): who is written with whom, and what
each submitter gets back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from minigroups.consumer.batching import Batcher


class Writes:
    """A `write` that records its batches; the first one waits until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [item * 10 for item in items]


async def test_items_that_arrive_while_a_batch_is_written_go_together_in_the_next() -> None:
    writes = Writes()
    batcher: Batcher[int, int] = Batcher(writes)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    later = [asyncio.create_task(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    writes.release.set()
    assert await asyncio.gather(first, *later) == [10, 20, 30, 40]
    assert writes.batches == [[1], [2, 3, 4]]


async def test_items_submitted_in_one_turn_of_the_loop_are_one_batch() -> None:
    writes = Writes()
    writes.release.set()
    batcher: Batcher[int, int] = Batcher(writes)
    assert await asyncio.gather(*(batcher.submit(n) for n in range(5))) == [0, 10, 20, 30, 40]
    assert writes.batches == [[0, 1, 2, 3, 4]]


async def test_a_batch_is_at_most_max_batch_items() -> None:
    writes = Writes()
    writes.release.set()
    batcher: Batcher[int, int] = Batcher(writes, max_batch=2)
    await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert writes.batches == [[0, 1], [2, 3], [4]]


async def test_a_failed_write_fails_every_item_of_its_batch_and_the_next_batch_is_written() -> None:
    writes = Writes()
    writes.fail = ConnectionError("down")
    batcher: Batcher[int, int] = Batcher(writes)
    failing = [asyncio.create_task(batcher.submit(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    writes.release.set()
    for task in failing:
        with pytest.raises(ConnectionError):
            await task
    writes.fail = None
    assert await batcher.submit(3) == 30
    assert writes.batches == [[1, 2], [3]]


async def test_a_cancelled_submitter_does_not_stop_the_others() -> None:
    writes = Writes()
    batcher: Batcher[int, int] = Batcher(writes)
    gone, stays = (asyncio.create_task(batcher.submit(n)) for n in (1, 2))
    await asyncio.sleep(0)
    gone.cancel()
    writes.release.set()
    assert await stays == 20
    assert gone.cancelled()
