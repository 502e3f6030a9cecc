"""A database outage for one store: a real `Store` that refuses its units of work for a while."""

from __future__ import annotations

import time

from minigroups.domain.errors import DatabaseUnavailable
from minigroups.ports import MinigroupCreates, MinigroupReader, Store, UnitOfWork


class FlakyStore:
    """`store`, except that for `down_for` seconds from construction (or from `go_down()`) every
    unit of work fails as an unreachable database does: `DatabaseUnavailable`."""

    def __init__(self, store: Store, down_for: float) -> None:
        self._store = store
        self._down_for = down_for
        self._up_at = time.monotonic() + down_for
        self.refused = 0  # units of work refused so far
        self.served_after_outage = 0  # units of work served once the outage ended

    def go_down(self) -> None:
        self._up_at = time.monotonic() + self._down_for

    @property
    def down(self) -> bool:
        return time.monotonic() < self._up_at

    def unit_of_work(
        self, *, read_only: bool = False, single_statement: bool = False
    ) -> UnitOfWork:
        if self.down:
            self.refused += 1
            raise DatabaseUnavailable("database unavailable: [Errno 111] Connection refused")
        if self.refused:
            self.served_after_outage += 1
        return self._store.unit_of_work(read_only=read_only, single_statement=single_statement)

    @property
    def reader(self) -> MinigroupReader:
        return self._store.reader  # reads are not this outage's subject

    @property
    def creates(self) -> MinigroupCreates:
        return self._store.creates  # nor are creates

    async def ping(self) -> None:
        if self.down:
            raise DatabaseUnavailable("database unavailable: [Errno 111] Connection refused")
        await self._store.ping()

    async def close(self) -> None:
        await self._store.close()
