"""The tq client: task creation over HTTP (contract.md upstream §5.1).

`TqClient` builds the request and reads the answer; a `TaskPost` carries it. In production that
is aiohttp (`AiohttpPost`): httpx cost about 620-750 us of CPU per request on this machine kind
against aiohttp's 130-140 (the same loopback server, one run), the largest part of the pipeline's
CPU after the statements (issue 12). The sandbox's tq and the tests' fault transports are httpx
transports, carried by `HttpxPost`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import NamedTuple, Protocol
from urllib.parse import urljoin
from uuid import UUID

import aiohttp
import httpx
import yarl
from aiohttp.helpers import get_env_proxy_for_url

from minigroups.domain import escaping
from minigroups.domain.errors import UpstreamFailed, UpstreamFailureKind
from minigroups.domain.json_value import JsonObject

SERVICE = "tq"
METHOD = "create_task"


def task_url(base_url: str, audience: str, task_id: str, classroom_id: UUID) -> str:
    """The reference's relative join: a base without a trailing `/` loses its last segment.

    Audience and task id (which holds the caller's scope) are percent-encoded, each into exactly
    one segment (`domain/escaping.py`); the reference put them in raw, so a scope with `/`, `..`,
    `?` or `#` could move the request to another audience's path (issue 8).
    """
    path = "/".join(
        (
            "api/v1/audiences",
            escaping.segment(audience),
            "tasks",
            escaping.segment(task_id),
            "classrooms",
            str(classroom_id),
        )
    )
    return urljoin(base_url, path)


class Answer(NamedTuple):
    status: int
    text: str


class TaskPost(Protocol):
    """POSTs `body` to `url`, which is sent exactly as given (already percent-encoded); the
    answer, or `UpstreamFailed` (TIMEOUT without an answer within `within` seconds,
    UNAVAILABLE when the transport fails)."""

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], within: float
    ) -> Answer: ...

    async def aclose(self) -> None: ...


class HttpxPost:
    """`TaskPost` over an httpx client (the sandbox's tq and the tests' transports)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], within: float
    ) -> Answer:
        try:
            response = await self._http.post(url, content=body, headers=headers, timeout=within)
        except httpx.TimeoutException as exc:
            raise _failure(UpstreamFailureKind.TIMEOUT, f"no answer within {within}s") from exc
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise _failure(UpstreamFailureKind.UNAVAILABLE, detail) from exc
        return Answer(response.status_code, response.text)

    async def aclose(self) -> None:
        await self._http.aclose()


class AiohttpPost:
    """`TaskPost` over aiohttp: one session (its pool of keep-alive connections), opened at the
    first request, in the running loop.

    `HTTP(S)_PROXY` and `NO_PROXY` count, as they did for httpx's client, and are read once per
    scheme and host, at the first request there. aiohttp's own `trust_env` reads them (and
    `~/.netrc`) again in a worker thread at every request: two thread hand-offs a task, 3-4% of
    the pipeline's CPU (issue 12). Without `trust_env`, no netrc entry can add a second
    `Authorization` to the bearer token's either (aiohttp refuses such a request).
    """

    def __init__(self, *, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], _Proxy] = {}

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], within: float
    ) -> Answer:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
        try:
            target = yarl.URL(url, encoded=True)  # as `task_url` encoded it, not normalised
            proxy = await self._proxy(target)
            async with self._session.post(
                target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=within),
                allow_redirects=False,
                proxy=proxy.url,
                proxy_auth=proxy.auth,
            ) as response:
                return Answer(response.status, await response.text(errors="replace"))
        except TimeoutError as exc:  # aiohttp's timeouts are asyncio.TimeoutError subclasses
            raise _failure(UpstreamFailureKind.TIMEOUT, f"no answer within {within}s") from exc
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a URL aiohttp refuses
            detail = f"{type(exc).__name__}: {exc}"
            raise _failure(UpstreamFailureKind.UNAVAILABLE, detail) from exc

    async def _proxy(self, target: yarl.URL) -> _Proxy:
        where = (target.scheme, target.host or "")
        proxy = self._proxies.get(where)
        if proxy is None:
            proxy = self._proxies[where] = await asyncio.to_thread(_environment_proxy, target)
        return proxy

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class TqClient:
    """`ports.TaskQueue`: POSTs the task; success is status 200 and nothing else."""

    def __init__(
        self,
        post: TaskPost,
        *,
        base_url: str,
        token: str,
        user_agent: str,
        timeout: float,
    ) -> None:
        self._post = post
        self._base_url = base_url
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "User-Agent": user_agent,
        }
        self._timeout = timeout

    async def create_task(
        self, *, audience: str, task_id: str, classroom_id: UUID, task: JsonObject
    ) -> None:
        url = task_url(self._base_url, audience, task_id, classroom_id)
        body = json.dumps(task, separators=(",", ":")).encode()
        answer = await self._post(url, body, self._headers, self._timeout)
        if answer.status != 200:
            detail = answer.text or f"status {answer.status}"
            raise _failure(UpstreamFailureKind.REJECTED, detail, answer.status)


class _Proxy(NamedTuple):
    url: yarl.URL | None
    auth: aiohttp.BasicAuth | None


def _environment_proxy(target: yarl.URL) -> _Proxy:
    """The proxy the environment names for `target`, found by the function aiohttp's own
    `trust_env` calls (`aiohttp.helpers`, not re-exported: the lock file pins it, and
    tests/integration/test_tq_paths.py's proxy tests fail if it changes). It may read
    `~/.netrc` for the proxy's credentials: call it off the event loop."""
    try:
        return _Proxy(*get_env_proxy_for_url(target))
    except LookupError:  # none named, or NO_PROXY covers the host
        return _Proxy(None, None)


def _failure(kind: UpstreamFailureKind, detail: str, status: int | None = None) -> UpstreamFailed:
    return UpstreamFailed(kind, SERVICE, METHOD, detail, peer_status=status)
