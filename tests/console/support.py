"""A service under test with its console: the real container and apps, the sandbox peers (with
the test's faults), and both listeners on real loopback sockets served by uvicorn in the test's
event loop, as `minigroups serve` serves them (`entrypoints/server.py`)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn

from minigroups.adapters.sandbox import Sandbox
from minigroups.bootstrap import Container, build_container, create_app, create_console
from minigroups.config import Settings
from minigroups.entrypoints.server import SecondServer, metrics_server
from minigroups.entrypoints.startup import bind_listener
from tests.api.conftest import ADMIN, AUDIENCE, bearer_token, build_settings, sandbox_for
from tests.support.faults import Faults

CONSOLE_ADMIN = f"{ADMIN}.{AUDIENCE}"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Served:
    container: Container
    sandbox: Sandbox
    faults: Faults
    api_url: str
    console_url: str
    secret: Path

    def token(self, label: str = ADMIN, audience: str = AUDIENCE) -> str:
        return bearer_token(self.secret, label, audience)

    def auth(self, label: str = ADMIN) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(label)}"}


def console_settings(database_url: str, tmp_path: Path, **pipeline: Any) -> Settings:
    settings = build_settings(database_url, tmp_path, "http://127.0.0.1:9/authz")
    console = msgspec.structs.replace(settings.console, admins=[CONSOLE_ADMIN])
    changed = msgspec.structs.replace(settings.pipeline, poll_seconds=0.1, **pipeline)
    return msgspec.structs.replace(settings, console=console, pipeline=changed)


def _socket() -> socket.socket:
    return bind_listener("127.0.0.1", 0, "test listener")


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Served]:
    """Both listeners up (the API's lifespan starts the pipeline and the autopilot)."""
    faults = Faults()
    sandbox = sandbox_for(settings, faults)
    container = build_container(settings, sandbox=sandbox)
    api_socket, console_socket = _socket(), _socket()
    api = SecondServer(
        uvicorn.Config(create_app(container), loop="none", lifespan="on", log_config=None)
    )
    console = metrics_server(create_console(container), limits=settings.limits)
    tasks = [
        asyncio.create_task(api.serve(sockets=[api_socket])),
        asyncio.create_task(console.serve(sockets=[console_socket])),
    ]
    try:
        for _ in range(500):  # both servers listen within seconds
            if api.started and console.started:
                break
            await asyncio.sleep(0.02)
        yield Served(
            container,
            sandbox,
            faults,
            _url(api_socket),
            _url(console_socket),
            Path(settings.authn[next(iter(settings.authn))].key),
        )
    finally:
        api.should_exit = console.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in (api_socket, console_socket):
            sock.close()


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def login(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Load the login form (its own CSRF cookie and field), then post the token."""
    form = await client.get("/console/login")
    return await client.post(
        "/console/login", data={"token": token, "login_token": login_token(form.text)}
    )


def login_token(page: str) -> str:
    return hidden(page, "login_token")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    if found is None:
        raise AssertionError(f"no hidden field {name} in the page")
    return found.group(1)


def chromium() -> str:
    """Debian's chromium; skip (or fail under CI=true) loudly when it is not installed."""
    found = shutil.which(CHROMIUM)
    if found is None:
        in_ci = os.environ.get("CI", "").lower() == "true"
        message = (
            f"chromium is not installed at {CHROMIUM}: the console's browser test is "
            f"{'FAILED (CI=true)' if in_ci else 'SKIPPED'} (install Debian's `chromium`)"
        )
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found
