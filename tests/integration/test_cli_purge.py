"""`minigroups events purge --dead --older-than DURATION`: dead letters go, by age, nothing else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from minigroups.adapters.db import create_store
from minigroups.entrypoints.cli import main
from minigroups.ports import IncomingEvent, Owner
from minigroups.services import inbox_admin


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def _events(database_url: str, *ages: tuple[str, int, bool]) -> None:
    """(key, days ago, dead): events received then, buried or handled."""
    store = create_store(database_url)
    try:
        for key, days, dead in ages:
            at = datetime.now(UTC) - timedelta(days=days)
            async with store.unit_of_work() as uow:
                await uow.inbox.add(IncomingEvent(key, "apps/x/events", "room.close", "{}", at))
                items = await uow.inbox.claim_due(at, Owner("a", uuid4()), at + timedelta(1), 1)
                if dead:
                    await uow.inbox.bury(items[0], "poison")
                else:
                    await uow.inbox.complete(items[0], at)
                await uow.commit()
    finally:
        await store.close()


async def _left(database_url: str) -> set[str]:
    store = create_store(database_url)
    try:
        return {item.key for item in await inbox_admin.list_events(store, status=None)}
    finally:
        await store.close()


def test_purge_deletes_only_dead_letters_older_than_asked(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    ages = [("dead-40d", 40, True), ("dead-31d", 31, True), ("dead-2d", 2, True)]
    asyncio.run(_events(database_url, *ages, ("done-40d", 40, False)))

    main(["events", "purge", "--dead", "--older-than", "30d"])

    assert capsys.readouterr().out.startswith("2 dead letters received before ")
    assert asyncio.run(_left(database_url)) == {"dead-2d", "done-40d"}


@pytest.mark.parametrize("duration", ["30", "d", "-1d", "1.5h", "3y", ""])
def test_purge_refuses_a_duration_it_cannot_read(
    duration: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["events", "purge", "--dead", f"--older-than={duration}"])
    assert exit_.value.code == 2
    assert "not a duration" in capsys.readouterr().err


def test_purge_needs_dead_and_an_age(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--older-than", "30d"], ["--dead"]):
        with pytest.raises(SystemExit):
            main(["events", "purge", *args])
    assert "required" in capsys.readouterr().err
