"""Webhooks: the events a tenant subscribes to, its endpoints, and the rules of their delivery.

Pure rules only: which endpoint hears an event, when a failed delivery is tried again, when an
endpoint is disabled, which secrets sign. Sending, signing and storing are the adapters' part.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, Literal
from uuid import UUID

from minigroups.domain.errors import InvalidPayload

CREATED: Final = "minigroup.created"
UPDATED: Final = "minigroup.updated"
RECREATED: Final = "minigroup.recreated"
STOP: Final = "minigroup.stop"
FINISHED: Final = "minigroup.finished"
ADJUSTED: Final = "minigroup.adjusted"
READY: Final = "minigroup.ready"
EVENT_TYPES: Final = (CREATED, UPDATED, RECREATED, STOP, FINISHED, ADJUSTED, READY)
ALL_EVENTS: Final = "*"

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
SECRET_BYTES: Final = 32  # Standard Webhooks asks for 24 to 64
GONE: Final = 410

DeliveryStatus = Literal["pending", "succeeded", "failed"]

# Standard Webhooks' suggestion: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE: Final = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def parse_events(events: Sequence[str]) -> tuple[str, ...]:
    """An endpoint's subscription: known event types or `*`, at least one, each once."""
    if not events:
        raise InvalidPayload('`events` must name at least one event type, or "*"')
    unknown = [event for event in events if event != ALL_EVENTS and event not in EVENT_TYPES]
    if unknown:
        known = ", ".join(EVENT_TYPES)
        raise InvalidPayload(f'unknown event type {unknown[0]!r} (known: {known}, or "*")')
    return tuple(dict.fromkeys(events))


def subscribes(events: Iterable[str], event_type: str) -> bool:
    return any(event in (ALL_EVENTS, event_type) for event in events)


def new_secret() -> str:
    """`whsec_` and the base64 of random bytes: the form the Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def message_id(delivery_id: UUID) -> str:
    """`webhook-id`: one per event and endpoint (a delivery), the same on every attempt."""
    return f"msg_{delivery_id.hex}"


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    """The `[webhooks]` settings the rules and use cases read."""

    timeout: float = 10.0
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    disable_after: timedelta = timedelta(days=5)
    rotation_overlap: timedelta = timedelta(hours=24)
    allow_http: bool = False
    allow_private_targets: bool = False
    max_endpoints: int = 20  # per audience: bounds the deliveries one event makes
    per_endpoint_concurrency: int = 2  # deliveries of one endpoint in flight at once
    page_size: int = 50  # deliveries per page of the delivery log

    @property
    def first_delay(self) -> timedelta:
        return timedelta(seconds=self.retry_schedule[0])

    def next_delay(self, attempts: int) -> timedelta | None:
        """After `attempts` failed attempts, how long until the next one; None: give up."""
        if attempts < len(self.retry_schedule):
            return timedelta(seconds=self.retry_schedule[attempts])
        return None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A tenant's webhook endpoint in one audience."""

    id: UUID
    audience: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    previous_secret: str | None = None  # still signs until `previous_secret_until`
    previous_secret_until: datetime | None = None
    enabled: bool = True
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    failing_since: datetime | None = None  # the first failure since the last success

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The new secret, and during a rotation's overlap the old one too."""
        until = self.previous_secret_until
        if self.previous_secret is not None and until is not None and now < until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def rotated(self, now: datetime, overlap: timedelta) -> Endpoint:
        return replace(
            self,
            secret=new_secret(),
            previous_secret=self.secret,
            previous_secret_until=now + overlap,
            updated_at=now,
        )

    def disabled(self, now: datetime, reason: str) -> Endpoint:
        return replace(self, enabled=False, disabled_at=now, disabled_reason=reason)

    def enabled_again(self, now: datetime) -> Endpoint:
        return replace(
            self,
            enabled=True,
            disabled_at=None,
            disabled_reason=None,
            failing_since=None,
            updated_at=now,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: an HTTP status, or an error before any status (no answer)."""

    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    response: str | None = None  # the start of the answer's body, capped

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == GONE


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an attempt's outcome means for its delivery and its endpoint."""

    status: DeliveryStatus
    next_attempt_at: datetime | None  # set while pending
    endpoint: Endpoint  # with its health updated (failing since, disabled)

    @property
    def disables(self) -> bool:
        return not self.endpoint.enabled


def judge(
    endpoint: Endpoint, outcome: Outcome, attempts: int, now: datetime, policy: WebhookPolicy
) -> Verdict:
    """A 2xx succeeds and heals the endpoint; a 410 fails and disables it; anything else is
    retried on the schedule, and disables the endpoint once it has failed for `disable_after`
    without a success in between."""
    if outcome.succeeded:
        return Verdict("succeeded", None, replace(endpoint, failing_since=None))
    if outcome.gone and endpoint.enabled:
        reason = "the endpoint answered 410 Gone"
        return Verdict("failed", None, endpoint.disabled(now, reason))
    since = endpoint.failing_since or now
    failing = replace(endpoint, failing_since=since)
    if failing.enabled and now - since >= policy.disable_after:
        reason = f"failing since {since.isoformat(timespec='seconds')} without a success"
        failing = failing.disabled(now, reason)
    delay = policy.next_delay(attempts)
    if delay is None or not failing.enabled:
        return Verdict("failed", None, failing)
    return Verdict("pending", now + delay, failing)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of a delivery, as the delivery log shows it."""

    delivery_id: UUID
    attempted_at: datetime
    outcome: Outcome
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint, with its attempts."""

    id: UUID
    endpoint_id: UUID
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None = None  # while pending
    last_error: str | None = None
    log: tuple[Attempt, ...] = field(default_factory=tuple)

    @property
    def message_id(self) -> str:
        return message_id(self.id)


def retry_attempts(delivery: Delivery, policy: WebhookPolicy) -> int:
    """The attempts a delivery is given on an operator's retry: a settled one gets one more
    attempt; a pending one keeps its place in the schedule and is only made due now."""
    if delivery.status == "pending":
        return delivery.attempts
    return max(delivery.attempts, len(policy.retry_schedule) - 1)
