"""Fixtures of the pipeline tests over a real broker: a packet-logging Mosquitto, the simulated
platform around the service, and the credentials the served processes are configured with."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.conftest import _private_key_pem
from tests.integration.pipeline.support import LoggingMosquitto, Platform, running_platform
from tests.support.mosquitto import mosquitto_binary, started
from tests.support.postgres_cluster import temporary_postgres

__all__ = ["temporary_postgres"]


@dataclass(frozen=True)
class Credentials:
    secret: Path  # HS256 secret of the test issuer (bearer tokens)
    key: Path  # the service's ES256 id token key (the MQTT password)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LoggingMosquitto]:
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    running = LoggingMosquitto(mosquitto_binary(), directory)
    started(running)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def platform(broker: LoggingMosquitto) -> AsyncIterator[Platform]:
    async with running_platform(broker) as running:
        yield running


@pytest.fixture
def credentials(tmp_path: Path) -> Credentials:
    secret = tmp_path / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    return Credentials(secret, _private_key_pem(tmp_path / "svc.private.pem"))
