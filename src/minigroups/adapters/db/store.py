"""`SqlStore` and its units of work: one connection each, a transaction unless read-only."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from minigroups.adapters.db.connection import TranslatingConnection
from minigroups.adapters.db.console import SqlConsoleRepository
from minigroups.adapters.db.creates import AsyncpgCreates, UnitOfWorkCreates
from minigroups.adapters.db.direct import DirectPool
from minigroups.adapters.db.engine import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    Engines,
    Pools,
    create_engines,
)
from minigroups.adapters.db.errors import DRIVER_ERRORS, translate, translating
from minigroups.adapters.db.idempotency import SqlIdempotencyRepository
from minigroups.adapters.db.minigroups import SqlMinigroupRepository
from minigroups.adapters.db.overview import SqlOverviewRepository
from minigroups.adapters.db.queues import SqlInboxRepository, SqlOutboxRepository
from minigroups.adapters.db.readers import AsyncpgReader, SqliteReader
from minigroups.adapters.db.recordings import SqlRecordingRepository
from minigroups.adapters.db.repositories import (
    SqlAccountRepository,
    SqlPositionRepository,
)
from minigroups.adapters.db.webhook_deliveries import SqlDeliveryQueue
from minigroups.adapters.db.webhook_endpoints import NoSubscribers, SqlWebhookRepository
from minigroups.domain.errors import DatabaseUnavailable
from minigroups.ports import (
    AccountRepository,
    ConsoleRepository,
    DeliveryQueue,
    IdempotencyRepository,
    InboxRepository,
    MinigroupRepository,
    OutboxRepository,
    OverviewRepository,
    PositionRepository,
    RecordingRepository,
    WebhookRepository,
)


class _WriteGate:
    """Queues this process's SQLite writers before they take a connection.

    SQLite has one writer at a time; waiting here (fairly, without holding a pooled connection)
    is cheaper than spinning in the busy handler. Other processes still meet the busy timeout.
    """

    def __init__(self, timeout: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout = timeout

    async def acquire(self) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise DatabaseUnavailable("database unavailable: timed out waiting to write") from None

    def release(self) -> None:
        self._lock.release()


class SqlUnitOfWork:
    """One transaction (or, without `begin`, one autocommit connection); see `ports.UnitOfWork`."""

    # Typed as the ports: the Protocol's attributes are settable, hence invariant for mypy.
    minigroups: MinigroupRepository
    recordings: RecordingRepository
    accounts: AccountRepository
    positions: PositionRepository
    inbox: InboxRepository
    outbox: OutboxRepository
    idempotency: IdempotencyRepository
    overview: OverviewRepository
    console: ConsoleRepository
    webhooks: WebhookRepository
    deliveries: DeliveryQueue

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        begin: bool,
        gate: _WriteGate | None,
        no_subscribers: NoSubscribers,
        direct: DirectPool | None = None,
    ) -> None:
        self._engine = engine
        self._begin = begin
        self._gate = gate
        self._no_subscribers = no_subscribers
        self._direct = direct  # an autocommit unit's prepared statements run there
        self._connection: AsyncConnection | None = None
        self._statements: TranslatingConnection | None = None  # while the unit is entered
        self._recordings: SqlRecordingRepository | None = None
        self._outbox: SqlOutboxRepository | None = None
        self._webhooks: SqlWebhookRepository | None = None

    async def __aenter__(self) -> Self:
        if self._statements is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        if self._gate is not None:
            await self._gate.acquire()
        try:
            if self._direct is None:
                await self._connected()  # at once (SQLite: BEGIN IMMEDIATE queues the writers)
        except BaseException:
            if self._gate is not None:
                self._gate.release()
            raise
        statements = TranslatingConnection(
            self._engine.dialect, self._connected, direct=self._direct
        )
        self._statements = statements
        locked: set[UUID] = set()  # the class rows locked in this transaction
        self.minigroups = SqlMinigroupRepository(statements, locked)
        self._recordings = SqlRecordingRepository(statements, locked)
        self.recordings = self._recordings
        self.accounts = SqlAccountRepository(statements)
        self.positions = SqlPositionRepository(statements)
        self._outbox = SqlOutboxRepository(statements)
        self.outbox = self._outbox
        self.inbox = SqlInboxRepository(statements, self._outbox)
        self.idempotency = SqlIdempotencyRepository(statements)
        self.overview = SqlOverviewRepository(statements)
        self.console = SqlConsoleRepository(statements)
        self._webhooks = SqlWebhookRepository(statements, self._no_subscribers)
        self.webhooks = self._webhooks
        self.deliveries = SqlDeliveryQueue(statements)
        return self

    async def _connected(self) -> AsyncConnection:
        """The unit's own connection, opened (and its transaction begun) on first use."""
        if self._connection is None:
            self._connection = await self._connect()
        return self._connection

    async def _connect(self) -> AsyncConnection:
        with translating():
            connection = self._engine.connect()
            await connection.start()
            if not self._begin or self._engine.dialect.name != "sqlite":
                # PostgreSQL: the transaction begins with the first statement (connection.py)
                return connection
            try:
                await connection.begin()  # SQLite: BEGIN IMMEDIATE, waiting up to the busy timeout
            except BaseException:
                with contextlib.suppress(*DRIVER_ERRORS):
                    await connection.close()
                raise
            return connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        statements, self._statements = self._statements, None
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                await connection.close()  # rolls back whatever was not committed
        except DRIVER_ERRORS as error:
            if exc is None:
                raise translate(error) from error
            # otherwise the body's own exception is the one worth reporting
        finally:
            if self._gate is not None and statements is not None:
                self._gate.release()

    async def commit(self) -> None:
        if self._statements is None or self._recordings is None or self._outbox is None:
            raise RuntimeError("commit outside the unit of work")
        await self._outbox.flush()  # what is not in yet (`SqlOutboxRepository.add`)
        await self._recordings.sync_stages()  # the listing's stage, in this transaction
        if self._begin and self._connection is not None:
            # (an autocommit unit's statements committed each by itself)
            await self._statements.commit(self._connection)
        if self._webhooks is not None and self._webhooks.changed:
            # Again after commit: a read between the write and the commit saw none.
            self._no_subscribers.forget(self._webhooks.changed)


class SqlStore:
    """The `Store` port over SQLAlchemy Core; build it with `create_store`."""

    def __init__(
        self,
        engines: Engines,
        reader: AsyncpgReader | SqliteReader,
        direct: DirectPool | None = None,
    ) -> None:
        self._engines = engines
        self._reader = reader
        self._direct = direct
        self._creates = AsyncpgCreates(direct) if direct is not None else UnitOfWorkCreates(self)
        self._gate = _WriteGate(SQLITE_BUSY_TIMEOUT_SECONDS) if engines.is_sqlite else None
        self._no_subscribers = NoSubscribers()

    @property
    def reader(self) -> AsyncpgReader | SqliteReader:
        return self._reader

    @property
    def creates(self) -> AsyncpgCreates | UnitOfWorkCreates:
        return self._creates

    @property
    def dialect_name(self) -> str:
        return self._engines.writer.dialect.name

    def unit_of_work(
        self, *, read_only: bool = False, single_statement: bool = False
    ) -> SqlUnitOfWork:
        if read_only:
            return self._unit(self._engines.queries, begin=False, gate=None)
        if single_statement and not self._engines.is_sqlite:
            # Autocommit: the statement commits by itself, a prepared one on the direct pool.
            # (SQLite's BEGIN IMMEDIATE costs no round trip, and its writers keep queueing at
            # the gate, so it keeps the transaction.)
            return self._unit(self._engines.autocommit, begin=False, gate=None, direct=self._direct)
        return self._unit(self._engines.writer, begin=True, gate=self._gate)

    def _unit(
        self,
        engine: AsyncEngine,
        *,
        begin: bool,
        gate: _WriteGate | None,
        direct: DirectPool | None = None,
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            engine, begin=begin, gate=gate, no_subscribers=self._no_subscribers, direct=direct
        )

    async def ping(self) -> None:
        with translating():
            async with self._engines.autocommit.connect() as connection:
                await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._reader.close()
        with translating():
            await self._engines.writer.dispose()
            if self._engines.queries.pool is not self._engines.writer.pool:
                await self._engines.queries.dispose()


DEFAULT_POOLS = Pools()


def create_store(database_url: str, pools: Pools = DEFAULT_POOLS) -> SqlStore:
    """A store for `sqlite:///path` or `postgresql://...`; connects lazily, on first use.

    `pools.size` connections serve the units of work; on PostgreSQL the read path (R1/R3), a
    create's two writes and the autocommit units' prepared statements have `pools.read_size`
    more of their own (`direct.py`).
    """
    engines = create_engines(database_url, pools=pools)
    if engines.is_sqlite:
        return SqlStore(engines, SqliteReader(engines.writer.url.database or ""))
    pool = DirectPool(database_url, pools)
    return SqlStore(engines, AsyncpgReader(pool), pool)
