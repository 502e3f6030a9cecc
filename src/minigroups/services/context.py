"""What every use case is handed: the ports and the few options that shape behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from minigroups.ports import (
    Authorizer,
    Clock,
    ConferenceService,
    EventService,
    Metrics,
    Store,
    TaskQueue,
)


@dataclass(frozen=True, slots=True)
class Options:
    """Settings-derived values the use cases need (built by bootstrap)."""

    turn_hosts: tuple[str, ...]
    storage_base_url: str
    # A create that has not established its dummy after this long is presumed dead (D13).
    dummy_stale_after: timedelta = timedelta(seconds=70)
    preroll_offsets: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Context:
    """The ports a use case may touch."""

    store: Store
    authorizer: Authorizer
    events: EventService
    conferences: ConferenceService
    tasks: TaskQueue
    clock: Clock
    metrics: Metrics
    options: Options
