"""Request quotas (issue 10): what the rate limits ask of the storage that counts requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `amount` requests in any `window_seconds`; `name` is the policy's name in the
    `RateLimit-Policy` and `RateLimit` response fields (e.g. `per_account`)."""

    name: str
    amount: int
    window_seconds: int


class Usage(NamedTuple):
    """One request counted against a quota: whether it fitted, how many requests are left, and
    in how many seconds more become available (0: some are available now). A named tuple: a
    request makes one per quota, and a frozen dataclass cost three times as much to make."""

    quota: Quota
    allowed: bool
    remaining: int
    reset_seconds: int


class RateLimiter(Protocol):
    """Counts requests per key (an account, an audience) in a storage that instances may share.

    Raises `RateLimitStorageUnavailable` (domain/errors.py) when the storage cannot be reached
    or does not answer in time.
    """

    async def count(self, counts: Sequence[tuple[Quota, str]]) -> list[Usage]:
        """Count one request against each quota under its key, in order, up to the first quota
        it does not fit: that one's usage is the last (`allowed` False), and the quotas after it
        are not counted."""
        ...

    async def close(self) -> None:
        """Release the storage's connections."""
        ...
