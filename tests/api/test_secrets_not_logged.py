"""No token, secret or key is ever logged (issue 11): the API's flows and the commands run with
known tokens at the most verbose level, and no log line shows them.

(The development token `serve` prints goes to stdout on purpose, not to the log:
tests/integration/test_operating.py checks serve's stderr.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minigroups.adapters.auth.keys import load_signing_key
from minigroups.adapters.auth.tokens import mint_token
from minigroups.entrypoints.cli import main
from tests.api.conftest import ADMIN, AUDIENCE, DOWN, ISSUER, Api, running_api
from tests.api.pipeline import Pipeline, recorded
from tests.support.logs import captured_logs

TEST_BASE_URL = "http://minigroups.test/"


class RawRecords(logging.Handler):
    """Every record as the code made it, before the setup's redaction: message, key-values and
    traceback, so that the check does not lean on the redaction."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _the_tests_own_client(record.name, record.getMessage()):
            return
        parts = [record.getMessage(), *(repr(value) for value in vars(record).values())]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.texts.append("\n".join(parts))


def _the_tests_own_client(logger: str, message: str) -> bool:
    """httpx logs each request of the test's client too (at DEBUG): that is not the service."""
    return logger == "httpx" and TEST_BASE_URL in message


@pytest.fixture
async def api(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(sqlite_url, tmp_path) as running:
        yield running


def forged(tmp_path: Path) -> str:
    """A token of the test issuer signed with the wrong key: refused, but still a token."""
    wrong = tmp_path / "wrong.secret"
    wrong.write_text("not-the-secret-" * 3)
    key = load_signing_key(wrong, "HS256")
    return mint_token(
        issuer=ISSUER, audience=AUDIENCE, subject="mallory", algorithm="HS256", key=key
    )


async def run_the_flows(api: Api, tokens: dict[str, str]) -> None:
    """Every route kind: create, read (header and query token), update, properties, events,
    refusals, a 5xx, and the recording pipeline."""
    client, admin, user = api.client, {"authorization": f"Bearer {tokens['admin']}"}, api.auth()
    created = await api.create(scope="secrets")
    url = f"/api/v1/minigroups/{created['id']}"
    assert (await client.get(url, headers=user)).status_code == 200
    assert (await client.get(f"{url}?access_token={tokens['user']}")).status_code == 200
    assert (await client.put(url, json={"reserve": 3}, headers=admin)).status_code == 200
    assert (await client.put(f"{url}/properties/p", json=1, headers=user)).status_code == 200
    put = await client.put("/api/v1/account/properties/a", json={"x": 1}, headers=user)
    assert put.status_code == 200
    event = {"type": "message", "data": {"text": "hi"}}
    assert (await client.post(f"{url}/events", json=event, headers=user)).status_code == 201
    wrong = {"authorization": f"Bearer {tokens['forged']}"}
    assert (await client.get(url, headers=wrong)).status_code == 401
    assert (await client.get(f"{url}?access_token={tokens['forged']}")).status_code == 401
    assert (await client.get(url, headers={"authorization": "Basic c2VjcmV0"})).status_code == 401
    down = {"audience": DOWN, "scope": "secrets"}
    refused = await client.post("/api/v1/minigroups", json=down, headers=api.auth("u", DOWN))
    assert refused.status_code == 503
    await recorded(Pipeline(api))


async def test_the_api_flows_log_no_token_or_secret(api: Api, tmp_path: Path) -> None:
    secret = api.secret.read_bytes()
    tokens = {
        "admin": api.token(ADMIN),
        "user": api.token(),
        "forged": forged(tmp_path),
    }
    raw = RawRecords()
    with captured_logs("debug", "json") as logs:
        logging.getLogger().addHandler(raw)
        await run_the_flows(api, tokens)
    assert len(logs.of("minigroups.access")) >= 12  # the flows were logged
    made = "\n".join(raw.texts)
    rendered = "\n".join(
        json.dumps(r)
        for r in logs.records()
        if not _the_tests_own_client(r["logger"], r["message"])
    )
    for text in (rendered, made):
        for name, token in tokens.items():
            assert token not in text, name
            assert token.rsplit(".", 1)[1] not in text, name  # not even its signature
        assert secret.decode().strip() not in text
        assert "c2VjcmV0" not in text


def test_the_commands_log_no_token_or_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("MINIGROUPS_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_LOG__LEVEL", "debug")
    monkeypatch.setenv("APP_LOG__FORMAT", "json")
    main(["migrate"])
    main(["token", "--label", "web", "--audience", "usr.minigroups.local", "--ttl", "60"])
    printed = capsys.readouterr()
    token = printed.out.strip().splitlines()[-1]
    main(["events", "list"])
    main(["events", "list", "--dead"])
    with pytest.raises(SystemExit):
        main(["token", "--label", "a.b", "--audience", "usr.minigroups.local"])
    logged = printed.err + capsys.readouterr().err
    secret = (data / "dev-hs256.secret").read_text().strip()
    for line in logged.splitlines():
        if line.startswith("{"):
            json.loads(line)  # the log's lines are JSON; the others are the commands' own
    assert token.count(".") == 2  # the command printed a token, on stdout
    assert token not in logged
    assert secret not in logged
