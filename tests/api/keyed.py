"""What the `Idempotency-Key` tests share: instances with their own `[idempotency]` settings (and
clock), more than one on a database, and a look into the stored keys."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import func, select

from minigroups.adapters.db.tables import idempotency_key
from minigroups.bootstrap import build_container, create_app
from tests.api.conftest import Api, build_settings, sandbox_for
from tests.integration.db.helpers import execute
from tests.support.authz_backend import AuthzBackend
from tests.support.faults import Faults

CREATE = "/api/v1/minigroups"


class ShiftedClock:
    """The real time, moved by `offset`: what a service sees a day later."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@asynccontextmanager
async def instance(
    database_url: str, directory: Path, *, clock: ShiftedClock | None = None, **idempotency: Any
) -> AsyncIterator[Api]:
    """One instance of the service on `database_url`, with some `[idempotency]` keys changed; its
    own secret, authz backend and sandbox (so its peer calls are its own) in `directory`."""
    backend = AuthzBackend()
    await backend.start()
    settings = build_settings(database_url, directory, backend.uri)
    changed = msgspec.structs.replace(settings.idempotency, **idempotency)
    settings = msgspec.structs.replace(settings, idempotency=changed)
    faults = Faults()
    sandbox = sandbox_for(settings, faults)
    container = build_container(settings, sandbox=sandbox, clock=clock)
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as c:
            yield Api(c, container, sandbox, faults, backend, directory / "hs256.secret")
    finally:
        await container.close()
        await backend.stop()


def new_key() -> str:
    return f"key-{secrets.token_hex(8)}"


def create_body(audience: str, scope: str | None = None) -> dict[str, Any]:
    return {"scope": scope or f"lesson-{secrets.token_hex(4)}", "audience": audience}


async def stored_keys(api: Api) -> int:
    """How many keys the database holds."""
    statement = select(func.count()).select_from(idempotency_key)
    [(count,)] = await execute(api.container.settings.database_url, statement)
    return int(count)


def rooms_created(*apis: Api) -> int:
    """Event rooms the instances asked their sandboxes for."""
    return sum(len(api.faults.calls_to("event", "room.create")) for api in apis)
