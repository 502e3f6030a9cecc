"""An httpx transport that delivers tq HTTP requests to the sandbox's tq, failures included."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import unquote
from uuid import UUID

import httpx

from minigroups.adapters.sandbox.sandbox import TQ, Sandbox, SandboxCall
from minigroups.adapters.sandbox.tq import TQ_METHOD, TqTask

_TASK_PATH = re.compile(r"/api/v1/audiences/([^/]+)/tasks/([^/]+)/classrooms/([^/]+)$")


class SandboxTqTransport(httpx.AsyncBaseTransport):
    """Routes `POST .../api/v1/audiences/<aud>/tasks/<task id>/classrooms/<id>` to the tq.

    The path may carry a prefix before `/api/v1/` (the base URL's path); anything else is 404.
    Routing reads the raw (still percent-encoded) path, as a real server does, and decodes each
    segment afterwards; the raw path is what `SandboxCall.path` records.
    Failures injected in the sandbox apply: an outage raises `httpx.ConnectError`; silence waits
    for the request's read timeout and raises `httpx.ReadTimeout`, as a real socket would.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._sandbox.is_down(TQ):
            raise httpx.ConnectError("sandbox outage of tq", request=request)
        raw_path = request.url.raw_path.decode("latin-1").partition("?")[0]
        match = _TASK_PATH.search(raw_path)
        if match is None or request.method != "POST":
            return _problem(404, "not_found", f"no route for {request.method} {raw_path}")
        try:
            body = json.loads(await request.aread())
        except ValueError:
            return _problem(400, "invalid_payload", "the body is not JSON")
        failure = self._sandbox.intercept(SandboxCall(TQ, TQ_METHOD, body, path=raw_path))
        if failure is not None and failure.silent:
            await _wait_read_timeout(request)
        if failure is not None:
            return httpx.Response(failure.status, json=failure.problem)
        try:
            audience, task_id, classroom_id = (
                unquote(part, errors="strict") for part in match.groups()
            )
            classroom = UUID(classroom_id)
        except ValueError:  # UnicodeDecodeError included
            return _problem(404, "not_found", f"bad task path {raw_path!r}")
        task = TqTask(audience, task_id, classroom, body, dict(request.headers.items()))
        return self._sandbox.tq.create(task)


async def _wait_read_timeout(request: httpx.Request) -> None:
    read = request.extensions.get("timeout", {}).get("read")
    if read is None:
        await asyncio.get_running_loop().create_future()  # no timeout: wait forever
    await asyncio.sleep(read)
    raise httpx.ReadTimeout("sandbox tq stayed silent", request=request)


def _problem(status: int, type_: str, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"type": type_, "title": type_, "detail": detail})
