"""What every use case is handed: the ports and the few options that shape behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from minigroups.domain.limits import Limits
from minigroups.domain.tasks import AudienceMedia
from minigroups.domain.webhooks import WebhookPolicy
from minigroups.ports import (
    Authorizer,
    BrokerLink,
    Clock,
    ConferenceService,
    EventService,
    Metrics,
    Notifier,
    Store,
    TaskQueue,
    WebhookClient,
)


@dataclass(frozen=True, slots=True)
class IdempotencyOptions:
    """`[idempotency]`: how long answers are kept, and how long a running claim lasts unless its
    request renews it (every third of it); after that it is presumed dead and taken over."""

    ttl: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(seconds=15)


@dataclass(frozen=True, slots=True)
class Options:
    """Settings-derived values the use cases need (built by bootstrap)."""

    turn_hosts: tuple[str, ...]
    storage_base_url: str
    # A create that has not established its dummy after this long is presumed dead (D13).
    dummy_stale_after: timedelta = timedelta(seconds=70)
    audience_media: Mapping[str, AudienceMedia] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    idempotency: IdempotencyOptions = field(default_factory=IdempotencyOptions)
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)

    def preroll_offset(self, audience: str) -> int:
        """ms of preroll before the lesson in the audience's videos (0 without settings)."""
        media = self.audience_media.get(audience)
        return 0 if media is None else media.preroll_offset


@dataclass(frozen=True, slots=True)
class Context:
    """The ports a use case may touch."""

    store: Store
    authorizer: Authorizer
    events: EventService
    conferences: ConferenceService
    tasks: TaskQueue
    notifier: Notifier
    webhook_client: WebhookClient
    clock: Clock
    metrics: Metrics
    options: Options
    broker: BrokerLink | None = None  # the MQTT agent with upstream = "ulms"; readiness reads it
