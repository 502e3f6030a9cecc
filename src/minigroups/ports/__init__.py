"""The interfaces the use cases need from the outside world; adapters implement them.

One module per concern: `store` (repositories, units of work, the storage dataclasses), `queues`
(the inbox and the outbox), `idempotency` (stored idempotency keys), `webhooks` (endpoints,
deliveries, the client that sends), `rate_limits` (request counts against quotas), `peers` (the
upstream services, contract.md upstream §3-§5), `auth` (the authorizer), `runtime` (clock and
metrics) and `overview` (counts for operators). Everything is importable from
`minigroups.ports`.
"""

from minigroups.ports.auth import Action, Authorizer
from minigroups.ports.console import (
    ConsoleRepository,
    InboxEntry,
    ListedMinigroup,
    ListingCursor,
    OutboxEntry,
    QueueTotals,
)
from minigroups.ports.idempotency import IdempotencyRepository, KeyClaim, StoredKey, StoredResponse
from minigroups.ports.overview import STAGES, Backlog, OverviewRepository
from minigroups.ports.peers import (
    ConferenceService,
    Edition,
    EventService,
    Notifier,
    Room,
    RoomEvent,
    TaskQueue,
    WriterConfigSnapshot,
)
from minigroups.ports.queues import (
    Holding,
    InboxItem,
    InboxRepository,
    InboxStatus,
    IncomingEvent,
    LeasedQueue,
    OutboxItem,
    OutboxKind,
    OutboxRepository,
    OutgoingMessage,
    Owner,
)
from minigroups.ports.rate_limits import Quota, RateLimiter, Usage
from minigroups.ports.runtime import BrokerLink, Clock, Metrics
from minigroups.ports.store import (
    AccountRepository,
    Dummy,
    MinigroupChanges,
    MinigroupCreates,
    MinigroupRead,
    MinigroupReader,
    MinigroupRepository,
    NewMinigroup,
    PageQuery,
    PositionRepository,
    RecordingRepository,
    RoomColumn,
    Store,
    UnitOfWork,
    Viewer,
)
from minigroups.ports.webhooks import (
    DeliveryItem,
    DeliveryPage,
    DeliveryQueue,
    NewDelivery,
    WebhookClient,
    WebhookRepository,
    WebhookRequest,
    WebhookResponse,
)

__all__ = [
    "STAGES",
    "AccountRepository",
    "Action",
    "Authorizer",
    "Backlog",
    "BrokerLink",
    "Clock",
    "ConferenceService",
    "ConsoleRepository",
    "DeliveryItem",
    "DeliveryPage",
    "DeliveryQueue",
    "Dummy",
    "Edition",
    "EventService",
    "Holding",
    "IdempotencyRepository",
    "InboxEntry",
    "InboxItem",
    "InboxRepository",
    "InboxStatus",
    "IncomingEvent",
    "KeyClaim",
    "LeasedQueue",
    "ListedMinigroup",
    "ListingCursor",
    "Metrics",
    "MinigroupChanges",
    "MinigroupCreates",
    "MinigroupRead",
    "MinigroupReader",
    "MinigroupRepository",
    "NewDelivery",
    "NewMinigroup",
    "Notifier",
    "OutboxEntry",
    "OutboxItem",
    "OutboxKind",
    "OutboxRepository",
    "OutgoingMessage",
    "OverviewRepository",
    "Owner",
    "PageQuery",
    "PositionRepository",
    "QueueTotals",
    "Quota",
    "RateLimiter",
    "RecordingRepository",
    "Room",
    "RoomColumn",
    "RoomEvent",
    "Store",
    "StoredKey",
    "StoredResponse",
    "TaskQueue",
    "UnitOfWork",
    "Usage",
    "Viewer",
    "WebhookClient",
    "WebhookRepository",
    "WebhookRequest",
    "WebhookResponse",
    "WriterConfigSnapshot",
]
