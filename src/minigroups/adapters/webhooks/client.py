"""The `WebhookClient` port over httpcore: one signed POST per attempt, nothing followed.

httpcore rather than httpx: its connection pool takes a network backend, which is where every
connection's addresses are checked (transport.py). It follows no redirect (a 3xx is a failed
attempt like any other non-2xx) and reads no proxy from the environment. The whole attempt
(resolving, connecting, TLS, sending, the answer's head and the capped part of its body) runs
within `timeout`; the rest of a longer body is never read, and that connection is closed.
"""

from __future__ import annotations

import asyncio
import ssl

import httpcore

from minigroups.adapters.webhooks.resolver import Resolver, SystemResolver
from minigroups.adapters.webhooks.signing import signed_headers
from minigroups.adapters.webhooks.transport import GuardedBackend, resolve_checked
from minigroups.domain.errors import InvalidWebhookUrl, WebhookTargetRefused
from minigroups.domain.webhook_targets import parse_target
from minigroups.ports import WebhookRequest, WebhookResponse


class HttpWebhookClient:
    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_response_bytes: int = 4096,
        allow_http: bool = False,
        allow_private_targets: bool = False,
        resolver: Resolver | None = None,
        user_agent: str = "minigroups-webhooks",
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
    ) -> None:
        self._timeout = timeout
        self._cap = max_response_bytes
        self._allow_http = allow_http
        self._allow_private = allow_private_targets
        self._resolver = resolver or SystemResolver()
        self._user_agent = user_agent
        backend = GuardedBackend(self._resolver, allow_private=allow_private_targets)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=backend,
        )

    async def check_target(self, url: str) -> None:
        target = parse_target(url, allow_http=self._allow_http)
        if self._allow_private:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await resolve_checked(target, self._resolver, allow_private=False)
        except TimeoutError:
            detail = f"{target.host} did not resolve within {self._timeout} s"
            raise WebhookTargetRefused(detail) from None

    async def send(self, request: WebhookRequest) -> WebhookResponse:
        try:
            parse_target(request.url, allow_http=self._allow_http)  # the settings may have changed
        except InvalidWebhookUrl as exc:
            return WebhookResponse(None, f"refused: {exc.detail}")
        body = request.body.encode("utf-8")
        headers = {
            "content-type": "application/json",
            "user-agent": self._user_agent,
            **signed_headers(request.message_id, request.timestamp, body, request.secrets),
        }
        try:
            async with asyncio.timeout(self._timeout):
                return await self._post(request.url, headers, body)
        except (TimeoutError, httpcore.TimeoutException):
            return WebhookResponse(None, f"no answer within {self._timeout} s")
        except WebhookTargetRefused as exc:
            return WebhookResponse(None, f"refused: {exc.detail}")
        except Exception as exc:  # noqa: BLE001 - any failure of the attempt is its outcome
            return WebhookResponse(None, f"{type(exc).__name__}: {exc}".rstrip(": "))

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> WebhookResponse:
        seconds = self._timeout
        timeouts = {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
        async with self._pool.stream(
            "POST",
            url,
            headers=list(headers.items()),
            content=body,
            extensions={"timeout": timeouts},
        ) as response:
            text = await self._read_capped(response)
        return WebhookResponse(response.status, None, text)

    async def _read_capped(self, response: httpcore.Response) -> str:
        """At most `max_response_bytes` of the body; the rest is left unread (and the
        connection closed rather than kept)."""
        data = b""
        async for chunk in response.aiter_stream():
            data += chunk[: self._cap - len(data)]
            if len(data) >= self._cap:
                break
        return data.decode("utf-8", errors="replace")

    async def aclose(self) -> None:
        await self._pool.aclose()
