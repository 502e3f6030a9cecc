"""Group commit: writes that arrive while one is on its way to the database go together next.

Nothing waits on purpose: the first write of an idle batcher starts at once (on the next turn of
the loop, with whatever arrived in the same turn); those that arrive meanwhile are written in one
statement as soon as it returns. Under load a batch holds everything that arrived during one
round trip; alone, a write costs what it did before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

MAX_BATCH = 200  # items per statement: bounded parameters and statement size


class Batcher(Generic[In, Out]):
    """`submit` answers each item with its own result of `write`, which takes a batch of items
    and returns their results in order. A failing `write` fails every item of its batch."""

    def __init__(
        self,
        write: Callable[[Sequence[In]], Awaitable[Sequence[Out]]],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: In) -> Out:
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[In, asyncio.Future[Out]]] = []
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._write_batch(batch)
        finally:
            self._writer = None
            for _, future in batch + self._pending:  # cancelled (at shutdown): nobody hangs
                future.cancel()
            self._pending = []

    async def _write_batch(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - each submitter gets it and decides
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a submitter cancelled meanwhile: its write stands anyway
                future.set_result(result)
