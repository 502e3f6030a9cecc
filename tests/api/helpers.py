"""State the HTTP API cannot write (recordings, pipeline results), put straight into the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from minigroups.domain.minigroup import Recording
from tests.api.conftest import Api


async def add_recording(
    api: Api, minigroup_id: str, *, created_by: str = "web.user1.usr.example.org", **fields: Any
) -> Recording:
    recording = Recording(
        id=uuid4(),
        class_id=UUID(minigroup_id),
        rtc_id=fields.pop("rtc_id", uuid4()),
        created_by=created_by,
        created_at=fields.pop("created_at", datetime.now(UTC)),
        **fields,
    )
    async with api.container.ctx.store.unit_of_work() as uow:
        await uow.recordings.add(recording)
        await uow.commit()
    return recording


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
