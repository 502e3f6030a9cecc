"""Host names to addresses: the seam where tests make DNS answer what they need."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Protocol

from minigroups.domain.webhook_targets import IpAddress


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address the name has now (an empty list when it has none); raise OSError
        when the lookup fails."""
        ...


class SystemResolver:
    """The operating system's resolver (`getaddrinfo`), off the event loop's thread."""

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        loop = asyncio.get_running_loop()
        answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses: list[IpAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope id is not part of it
            address = ipaddress.ip_address(text)
            if address not in addresses:
                addresses.append(address)
        return addresses
