"""An API under test: the real app, a real database (SQLite and PostgreSQL), the sandbox peers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from minigroups.adapters.auth.keys import load_signing_key
from minigroups.adapters.auth.tokens import mint_token
from minigroups.adapters.sandbox import Sandbox
from minigroups.adapters.webhooks import Resolver
from minigroups.bootstrap import Container, build_container, create_app
from minigroups.config import Settings
from minigroups.ports import Clock
from tests.support.authz_backend import AuthzBackend
from tests.support.faults import Faults
from tests.support.redis import redis_server

__all__ = ["Api", "api", "redis_server", "running_api", "serving_api"]

ISSUER = "iam.example.org"
AUDIENCE = "usr.example.org"  # authorization `none`
LOCKED = "locked.example.org"  # authorization `local`: only admin.locked.example.org
REMOTE = "remote.example.org"  # authorization `http` against a loopback backend
DOWN = "down.example.org"  # authorization `http` against a closed port
MEDIA = "media.example.org"  # authorization `none`, with tq audience settings (preroll 1234 ms)
ADMIN = "admin"
PEER_TIMEOUT = 0.3
STORAGE = "https://storage.example.com"


@dataclass
class Api:
    client: httpx.AsyncClient
    container: Container
    sandbox: Sandbox
    faults: Faults
    authz_backend: AuthzBackend
    secret: Path

    def token(self, label: str = "user1", audience: str = AUDIENCE) -> str:
        return bearer_token(self.secret, label, audience)

    def auth(self, label: str = "user1", audience: str = AUDIENCE) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(label, audience)}"}

    async def create(self, audience: str = AUDIENCE, **body: Any) -> dict[str, Any]:
        """Create a minigroup (as admin of the audience) and return its DB object."""
        body.setdefault("scope", f"lesson-{secrets.token_hex(4)}")
        response = await self.client.post(
            "/api/v1/minigroups",
            json={"audience": audience, **body},
            headers=self.auth(ADMIN, audience),
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def bearer_token(secret: Path, label: str, audience: str = AUDIENCE) -> str:
    """A token of the test issuer, signed with the HS256 secret the settings point at."""
    key = load_signing_key(secret, "HS256")
    return mint_token(issuer=ISSUER, audience=audience, subject=label, algorithm="HS256", key=key)


def _private_key_pem(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def build_settings(database_url: str, tmp_path: Path, authz_uri: str) -> Settings:
    secret = tmp_path / "hs256.secret"
    secret.write_text(secrets.token_urlsafe(32))
    signing_key = _private_key_pem(tmp_path / "svc.private.pem")
    audiences = [AUDIENCE, LOCKED, REMOTE, DOWN, MEDIA]
    data = {
        "id": "dispatcher.svc.example.org",
        "agent_label": "test",
        "turn_hosts": ["turn0"],
        "tenants": audiences,
        "database_url": database_url,
        "storage": {"base_url": STORAGE},
        "authn": {ISSUER: {"audience": audiences, "algorithm": "HS256", "key": str(secret)}},
        "authz": {
            AUDIENCE: {"type": "none"},
            MEDIA: {"type": "none"},
            LOCKED: {"type": "local", "trusted": [f"{ADMIN}.{LOCKED}"]},
            REMOTE: {"type": "http", "uri": authz_uri, "key": str(signing_key)},
            DOWN: {
                "type": "http",
                "uri": "http://127.0.0.1:9/authz",
                "key": str(signing_key),
                "timeout": 0.5,
                "trusted": [f"{ADMIN}.{DOWN}"],
            },
        },
        "event_client": {"account_id": "event.svc.example.org", "timeout": PEER_TIMEOUT},
        "conference_client": {"account_id": "conference.svc.example.org", "timeout": PEER_TIMEOUT},
        "tq_client": {
            "base_url": "http://tq.example.org/",
            "account_id": "tq.svc.example.org",
            "audience_settings": {
                MEDIA: {
                    "preroll": "s3://apps-data/media/preroll.mp4",
                    "postroll": "s3://apps-data/media/postroll.mp4",
                    "watermark": "s3://apps-data/media/watermark.png",
                    "preroll_offset": 1234,
                }
            },
        },
    }
    return msgspec.convert(data, Settings)


def sandbox_for(settings: Settings, faults: Faults) -> Sandbox:
    """The sandbox the service would build for itself, with the test's faults passed in."""
    return Sandbox(agent_id=f"{settings.agent_label}.{settings.id}", faults=faults)


@asynccontextmanager
async def running_api(
    database_url: str,
    tmp_path: Path,
    *,
    sections: dict[str, dict[str, Any]] | None = None,
    resolver: Resolver | None = None,
    clock: Clock | None = None,
    **limits: Any,
) -> AsyncIterator[Api]:
    """The API of `build_settings`, with some `[limits]` (or keys of other `sections`) changed;
    webhook hosts looked up with `resolver`, the time read from `clock`."""
    async with serving_api(
        database_url, tmp_path, limits=limits, sections=sections, resolver=resolver, clock=clock
    ) as api:
        yield api


@asynccontextmanager
async def serving_api(
    database_url: str,
    tmp_path: Path,
    *,
    limits: dict[str, Any] | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
    adjust: Callable[[Settings], Settings] | None = None,
    resolver: Resolver | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Api]:
    """`running_api`, with the settings `adjust`ed last and `clock` for the system clock."""
    backend = AuthzBackend()
    await backend.start()
    settings = build_settings(database_url, tmp_path, backend.uri)
    for name, changes in {**(sections or {}), "limits": limits or {}}.items():
        if changes:
            changed = msgspec.structs.replace(getattr(settings, name), **changes)
            settings = msgspec.structs.replace(settings, **{name: changed})
    if adjust is not None:
        settings = adjust(settings)
    faults = Faults()
    sandbox = sandbox_for(settings, faults)
    container = build_container(settings, sandbox=sandbox, resolver=resolver, clock=clock)
    transport = httpx.ASGITransport(app=create_app(container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://minigroups.test") as c:
            yield Api(c, container, sandbox, faults, backend, tmp_path / "hs256.secret")
    finally:
        await container.close()
        await backend.stop()


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(database_url, tmp_path) as running:
        yield running
