"""The interfaces the use cases need from the outside world; adapters implement them.

One module per concern: `store` (repositories, units of work, the storage dataclasses), `queues`
(the inbox and the outbox), `webhooks` (endpoints, deliveries, the client that sends), `peers`
(the upstream services, contract.md upstream §3-§5), `auth` (the authorizer) and `runtime`
(clock and metrics). Everything is importable from `minigroups.ports`.
"""

from minigroups.ports.auth import Action, Authorizer
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
from minigroups.ports.runtime import BrokerLink, Clock, Metrics
from minigroups.ports.store import (
    AccountRepository,
    Dummy,
    MinigroupChanges,
    MinigroupRepository,
    NewMinigroup,
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
    "AccountRepository",
    "Action",
    "Authorizer",
    "BrokerLink",
    "Clock",
    "ConferenceService",
    "DeliveryItem",
    "DeliveryPage",
    "DeliveryQueue",
    "Dummy",
    "Edition",
    "EventService",
    "InboxItem",
    "InboxRepository",
    "InboxStatus",
    "IncomingEvent",
    "LeasedQueue",
    "Metrics",
    "MinigroupChanges",
    "MinigroupRepository",
    "NewDelivery",
    "NewMinigroup",
    "Notifier",
    "OutboxItem",
    "OutboxKind",
    "OutboxRepository",
    "OutgoingMessage",
    "Owner",
    "PositionRepository",
    "RecordingRepository",
    "Room",
    "RoomColumn",
    "RoomEvent",
    "Store",
    "TaskQueue",
    "UnitOfWork",
    "Viewer",
    "WebhookClient",
    "WebhookRepository",
    "WebhookRequest",
    "WebhookResponse",
    "WriterConfigSnapshot",
]
