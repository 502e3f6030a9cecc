"""Where a webhook may be sent: the URL's shape, and the addresses its host may resolve to.

Checked when an endpoint is created or changed, and again for every connection (DNS can change
between the two): see `adapters/webhooks/transport.py`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from minigroups.domain.errors import InvalidWebhookUrl, WebhookTargetRefused

MAX_URL_LENGTH: Final = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The cloud metadata services, named so that a refusal says what was aimed at. Each is in a
# range refused anyway (link-local, shared address space, unique local).
_METADATA: Final = frozenset(
    ipaddress.ip_address(text)
    for text in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart: where to connect."""

    scheme: str
    host: str  # lower-case, IDNA-encoded; an IP literal without brackets
    port: int

    @property
    def address(self) -> IpAddress | None:
        """The host when it is an IP literal."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_target(url: str, *, allow_http: bool) -> Target:
    """An absolute `https://` URL (or `http://` when allowed) with a host and no credentials."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookUrl(f"not a URL: {exc}") from exc
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        allowed = " or ".join(f"{scheme}://" for scheme in schemes)
        raise InvalidWebhookUrl(f"the URL must start with {allowed}")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("the URL must not carry credentials")
    if parts.fragment or url.endswith("#"):
        raise InvalidWebhookUrl("the URL must not have a fragment")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise InvalidWebhookUrl("the URL must not contain spaces or control characters")
    host = parts.hostname
    if not host:
        raise InvalidWebhookUrl("the URL must name a host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise InvalidWebhookUrl(f"the host is not a valid name: {exc}") from exc
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, host.lower(), port if port is not None else default)


def refusal(address: IpAddress) -> str | None:
    """Why a webhook must not be sent to this address, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = refusal(embedded)
            return None if reason is None else f"{reason} (embedded in {address})"
    if address in _METADATA:
        return f"{address} is a cloud metadata address"
    for check, kind in (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_unspecified, "unspecified"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
    ):
        if check:
            return f"{address} is a {kind} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def check_addresses(host: str, addresses: list[IpAddress]) -> None:
    """Every address the host resolves to must be public: one private answer refuses it all
    (a rebinding name may answer both)."""
    if not addresses:
        raise WebhookTargetRefused(f"{host} does not resolve to any address")
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise WebhookTargetRefused(f"{host}: {reason}")
