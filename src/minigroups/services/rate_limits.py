"""Per-tenant rate limits (issue 10): count a caller's request against its quotas, or let it
through unchecked while the storage is failing (fail open, docs/decisions.md "Rate limits")."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from minigroups.domain.errors import RateLimitStorageUnavailable
from minigroups.domain.ids import AccountId
from minigroups.ports import Metrics, Quota, RateLimiter, Usage
from minigroups.services.outage import Backoff, Outage

log = logging.getLogger(__name__)

# While the storage fails, it is tried again after 1 s, then 2, 4, up to 30 s: one request per
# step probes it, every other one is served without a check and counted.
STORAGE_BACKOFF = Backoff(initial=1.0, cap=30.0)


@dataclass(frozen=True, slots=True)
class Policies:
    """The quotas of `[rate_limits]`, each a tuple of windows (empty: not limited)."""

    per_account: tuple[Quota, ...] = ()
    per_audience: tuple[Quota, ...] = ()
    create_per_account: tuple[Quota, ...] = ()

    @property
    def configured(self) -> bool:
        return bool(self.per_account or self.per_audience or self.create_per_account)

    def applying(self, *, creating: bool) -> tuple[Quota, ...]:
        """Every quota a request counts against, in the order they are counted: the account's
        first, so that a request refused per account does not use up its audience's quota."""
        create = self.create_per_account if creating else ()
        return (*self.per_account, *create, *self.per_audience)

    def setting(self, quota: Quota) -> str:
        """The `[rate_limits]` key a quota comes from."""
        if quota in self.per_audience:
            return "per_audience"
        if quota in self.create_per_account:
            return "create_per_account"
        return "per_account"


class Tally(NamedTuple):
    """What counting one request found: the usage of each quota counted, the first one it did
    not fit (None: it may go on), and whether it was counted at all (False: the storage failed,
    the request goes on unchecked). One per request: a named tuple, as `Usage`."""

    usages: tuple[Usage, ...] = ()
    refused: Usage | None = None
    checked: bool = True


UNCHECKED = Tally(checked=False)


class RateLimits:
    """The quotas of every authenticated request: per account, per audience, per account on
    creates. Quotas are counted one after the other and counting stops at the first that
    refuses, so a request refused per account does not use up its audience's quota.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        policies: Policies,
        metrics: Metrics,
        *,
        backoff: Backoff = STORAGE_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policies = policies
        # Per kind of request: each quota counted, and whether it is counted per audience.
        self._plans = {
            creating: tuple(
                (quota, quota in policies.per_audience)
                for quota in policies.applying(creating=creating)
            )
            for creating in (False, True)
        }
        self._limiter = limiter
        self._metrics = metrics
        self._clock = clock
        self._outage = Outage("rate limits: counting", backoff, log, clock=clock)
        self._retry_at = 0.0
        self._probing = False

    async def count(self, caller: AccountId, *, creating: bool) -> Tally:
        """Count one request of `caller` (a create or recreate when `creating`)."""
        plan = self._plans[creating]
        if not plan:
            return Tally()
        probe = self._outage.failing
        if probe and (self._probing or self._clock() < self._retry_at):
            return self._unchecked()
        self._probing = probe
        try:
            account = str(caller)
            usages = await self._limiter.count(
                [
                    (quota, caller.audience if by_audience else account)
                    for quota, by_audience in plan
                ]
            )
        except RateLimitStorageUnavailable as exc:
            self._metrics.increment("rate_limit_storage_errors_total")
            if probe or not self._outage.failing:  # one line per backoff step, not per request
                self._retry_at = self._clock() + self._outage.failed(exc)
            return self._unchecked()
        finally:
            if probe:
                self._probing = False
        self._outage.recovered()
        last = usages[-1]
        if last.allowed:
            return Tally(tuple(usages))
        policy = self.policies.setting(last.quota)
        self._metrics.increment("rate_limited_requests_total", policy=policy)
        return Tally(tuple(usages), refused=last)

    def _unchecked(self) -> Tally:
        self._metrics.increment("rate_limit_unchecked_total")
        return UNCHECKED

    async def close(self) -> None:
        await self._limiter.close()
