"""`minigroups webhooks list|deliveries|retry`: the operator's view of every tenant's webhooks."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from minigroups.entrypoints.cli import main
from tests.api.conftest import AUDIENCE
from tests.api.webhook_support import send, send_until, subscribe, webhook_api
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


async def _failed_delivery(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """An endpoint whose receiver answered 500 three times: its one delivery failed."""
    async with webhook_api(database_url, tmp_path) as api, WebhookReceiver(default=500) as receiver:
        hook = await subscribe(api, receiver.url(), ["minigroup.created"])
        await api.create()
        await send_until(api, lambda: len(receiver.requests) == 3)
        await asyncio.sleep(0.2)
        await send(api)
        return hook


async def _send_again(database_url: str, tmp_path: Path) -> list[int | None]:
    async with webhook_api(database_url, tmp_path) as api, WebhookReceiver() as receiver:
        # The stored URL points at the old receiver's port: answer there instead.
        async with api.container.ctx.store.unit_of_work() as uow:
            (endpoint,) = await uow.webhooks.find_all(AUDIENCE)
            await uow.webhooks.save(replace(endpoint, url=receiver.url()))
            await uow.commit()
        await send_until(api, lambda: receiver.requests)
        return [request.answered for request in receiver.requests]


def test_list_deliveries_and_retry(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    hook = asyncio.run(_failed_delivery(database_url, tmp_path))

    main(["webhooks", "list"])
    listed = capsys.readouterr().out
    main(["webhooks", "deliveries", hook["id"]])
    shown = capsys.readouterr().out
    delivery_id = shown.split()[0]
    main(["webhooks", "retry", delivery_id])
    retried = capsys.readouterr().out
    main(["webhooks", "deliveries", hook["id"], "--limit", "1"])
    after = capsys.readouterr().out

    assert f"{hook['id']}  enabled   {AUDIENCE}  {hook['url']}  minigroup.created" in listed
    assert "failing since" in listed
    head, *attempts = shown.strip().splitlines()
    assert head.split()[1] == "failed"
    assert "minigroup.created" in head
    assert " msg_" in head
    assert len(attempts) == 3
    assert all("HTTP 500" in line for line in attempts)
    assert attempts[-1].endswith("next: -")
    assert retried.startswith(f"delivery {delivery_id} (msg_")
    assert "sent again" in retried
    assert after.split()[1] == "pending"
    assert asyncio.run(_send_again(database_url, tmp_path)) == [200]


def test_refusals_name_what_is_missing(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    unknown = uuid4()
    with pytest.raises(SystemExit, match=f"minigroups: no delivery {unknown}"):
        main(["webhooks", "retry", str(unknown)])
    with pytest.raises(SystemExit, match=f"minigroups: no webhook {unknown}"):
        main(["webhooks", "deliveries", str(unknown)])


def test_help_loads_no_webhook_machinery() -> None:
    probe = (
        "import sys\n"
        "from minigroups.entrypoints.cli import build_parser\n"
        "build_parser()\n"
        "heavy = ('sqlalchemy', 'httpcore', 'standardwebhooks', 'minigroups.services')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
