"""A network backend for httpcore that connects only to addresses webhooks may reach.

Every new connection resolves the host again, checks EVERY address it resolves to (one private
answer refuses the host: a rebinding name may return both) and connects to a checked address,
so the address checked is the address connected to. TLS still verifies the certificate for
the URL's host name, which httpcore passes as the server name (SNI) as usual.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore

from minigroups.adapters.webhooks.resolver import Resolver
from minigroups.domain.webhook_targets import IpAddress, Target, check_addresses


async def resolve_checked(
    target: Target, resolver: Resolver, *, allow_private: bool
) -> list[IpAddress]:
    """The host's addresses (an IP literal is its own), all of them allowed, or
    WebhookTargetRefused."""
    literal = target.address
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await resolver.resolve(target.host, target.port)
        except OSError as exc:
            addresses = []
            if allow_private:
                raise httpcore.ConnectError(f"{target.host} does not resolve: {exc}") from exc
    if not allow_private:
        check_addresses(target.host, addresses)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self,
        resolver: Resolver,
        *,
        allow_private: bool,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = Target("tcp", host.lower(), port)
        addresses = await resolve_checked(target, self._resolver, allow_private=self._allow_private)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are never sent over a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
