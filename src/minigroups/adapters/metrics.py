"""Prometheus series behind the `Metrics` port, in a registry of the app's own.

Every series is declared in the catalogue below, with a HELP text saying what it counts, its
unit in the name and, for counters, the label values known in advance: those start at zero, so
that `rate()` and alerts see a series before its first event. The call sites keep short logical
names (`inbox_events_total`); the exported names carry the `minigroups_` prefix (the list is in
docs/decisions.md, "Logs and metrics").
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from minigroups.config import RATE_LIMIT_QUOTAS

log = logging.getLogger(__name__)

PREFIX = "minigroups_"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGES = ("real_time", "closed", "finished", "adjusted", "transcoded")  # minigroups_by_stage


@dataclass(frozen=True, slots=True)
class Series:
    """One declared series: its HELP text and its labels with the values known in advance."""

    help: str
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


COUNTERS: dict[str, Series] = {
    "inbox_events_total": Series(
        "Lifecycle events the inbox worker finished an attempt at, by event label and outcome: "
        "handled, retried (failed, due again later), dead (became a dead letter), lease_lost "
        "(another worker had taken it over; its outcome counts there)",
        {"label": (), "outcome": ("handled", "retried", "dead", "lease_lost")},
    ),
    "outbox_messages_total": Series(
        "Side effects the outbox relay tried to send, by kind and outcome: sent, retried (the "
        "peer or the broker failed; due again later), lease_lost (another relay had taken it over)",
        {
            "kind": ("notify", "tq_task", "event_request"),
            "outcome": ("sent", "retried", "lease_lost"),
        },
    ),
    "webhook_deliveries_total": Series(
        "Webhook delivery attempts the sender finished, by event type and outcome: succeeded, "
        "retried (no 2xx in time; due again on the retry schedule), failed (the schedule ran out "
        "or the endpoint was disabled)",
        {
            "event": (
                "minigroup.created",
                "minigroup.updated",
                "minigroup.recreated",
                "minigroup.stop",
                "minigroup.finished",
                "minigroup.adjusted",
                "minigroup.ready",
            ),
            "outcome": ("succeeded", "retried", "failed"),
        },
    ),
    "rate_limited_requests_total": Series(
        "Requests answered 429 rate_limited, by the [rate_limits] quota they were over: "
        "per_account, per_audience, create_per_account",
        {"policy": RATE_LIMIT_QUOTAS},
    ),
    "rate_limit_storage_errors_total": Series(
        "Counts of requests against their quotas that failed because the rate limits' storage "
        "(Redis) could not be reached or did not answer in time"
    ),
    "rate_limit_unchecked_total": Series(
        "Requests served without a rate limit check (fail open) because the storage was "
        "failing, or backing off after a failure"
    ),
    "rooms_compensated_total": Series(
        "Rooms closed again after a create or recreate failed half-way (D14), by service and "
        "whether closing them worked (closed) or failed too (failed: the room stays open)",
        {"service": ("event", "conference"), "outcome": ("closed", "failed")},
    ),
    "room_locks_failed_total": Series(
        "Creates whose event room did not take its locked interaction types (the class works, "
        "chat and questions stay unlocked)"
    ),
    "mqtt_connection_events_total": Series(
        "Changes of the MQTT connection to the platform's broker: connected, lost (was up), "
        "failed (a connection attempt failed), subscription_refused",
        {"event": ("connected", "lost", "failed", "subscription_refused")},
    ),
    "mqtt_messages_dropped_total": Series(
        "Incoming MQTT messages dropped before any handler: too_large (over max_message_size), "
        "unrouted (no subscription of ours matches the topic)",
        {"reason": ("too_large", "unrouted")},
    ),
    "mqtt_responses_dropped_total": Series(
        "MQTT responses no request waited for: late (its request had timed out), duplicate, "
        "unknown (correlation never ours), malformed (unreadable envelope), not_a_response",
        {"reason": ("late", "duplicate", "unknown", "malformed", "not_a_response")},
    ),
    "mqtt_handler_failures_total": Series(
        "Incoming MQTT messages whose handler raised (the message is not acknowledged and comes "
        "back with the broker's redelivery)"
    ),
}

GAUGES: dict[str, Series] = {
    "inbox_pending_events": Series(
        "Lifecycle events recorded and not handled yet (due now or waiting for a retry)"
    ),
    "inbox_dead_letters": Series(
        "Lifecycle events that failed max_attempts times or for good and wait for an operator "
        "(`minigroups events list --dead`, `events replay`)"
    ),
    "outbox_pending_messages": Series("Side effects queued and not sent yet"),
    "inbox_oldest_pending_age_seconds": Series(
        "Seconds since the oldest pending lifecycle event was received (0 when none is pending)"
    ),
    "outbox_oldest_pending_age_seconds": Series(
        "Seconds since the oldest pending side effect was queued (0 when none is pending)"
    ),
    "by_stage": Series(
        "Established minigroups by pipeline stage: real_time (not ended, nothing recorded), "
        "closed (ended, no recording yet), finished (recordings uploaded or converted), "
        "adjusted, transcoded",
        {"stage": STAGES},
    ),
}


class PrometheusMetrics:
    """The `Metrics` port for Prometheus, plus the HTTP latency histogram and process series."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        version: str = "unknown",
        inbox_labels: Iterable[str] = (),
    ) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series: a process-wide switch of the client
        self.registry = registry
        self._request_series: dict[tuple[str, str, int], Histogram] = {}
        self._requests = Histogram(
            PREFIX + "http_request_duration_seconds",
            "Seconds from the start of an HTTP request to the end of its answer, by route "
            "template (`unmatched` for unknown paths), method and status",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        known = {"inbox_events_total": {"label": tuple(sorted(inbox_labels))}}
        self._counters = {
            name: _counter(name, series, known.get(name, {}), registry)
            for name, series in COUNTERS.items()
        }
        self._gauges = {name: _gauge(name, series, registry) for name, series in GAUGES.items()}
        build = Gauge(
            PREFIX + "build_info",
            "Always 1; the version of minigroups this process runs is the label",
            ["version"],
            registry=registry,
        )
        build.labels(version).set(1)
        self._connected = Gauge(
            PREFIX + "mqtt_connected",
            "1 while the connection to the platform's MQTT broker is up, 0 while it is down "
            '(always 1 with upstream = "sandbox": its peers are in the process, no broker)',
            registry=registry,
        )
        self._connected.set(1)
        _process_collectors(registry)

    def watch_broker(self, connected: Callable[[], bool]) -> None:
        """`minigroups_mqtt_connected` asks `connected` at each scrape."""
        self._connected.set_function(lambda: 1.0 if connected() else 0.0)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self._request_series.get(key)
        if series is None:  # the labels' look-up, once per series (issue 12: once per request)
            series = self._request_series[key] = self._requests.labels(route, method, str(status))
        series.observe(seconds)

    def increment(self, name: str, **labels: str) -> None:
        counter = self._counters.get(name)
        if counter is None:  # not in the catalogue: exported anyway, under its own name
            log.warning("metrics: counter %s is not declared in adapters/metrics.py", name)
            series = Series(f"{name} (undeclared)", dict.fromkeys(labels, ()))
            counter = self._counters[name] = _counter(name, series, {}, self.registry)
        if labels:
            counter.labels(**labels).inc()
        else:
            counter.inc()

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        gauge = self._gauges.get(name)
        if gauge is None:
            log.warning("metrics: gauge %s is not declared in adapters/metrics.py", name)
            return
        if labels:
            gauge.labels(**labels).set(value)
        else:
            gauge.set(value)


def _counter(
    name: str,
    series: Series,
    known: Mapping[str, tuple[str, ...]],
    registry: CollectorRegistry,
) -> Counter:
    """The counter, with a zero series for every combination of its known label values."""
    values = {label: known.get(label) or series.labels[label] for label in series.labels}
    counter = Counter(
        PREFIX + name.removesuffix("_total"), series.help, sorted(values), registry=registry
    )
    if values and all(values.values()):
        names = sorted(values)
        for combination in itertools.product(*(values[label] for label in names)):
            counter.labels(**dict(zip(names, combination, strict=True)))
    return counter


def _gauge(name: str, series: Series, registry: CollectorRegistry) -> Gauge:
    gauge = Gauge(PREFIX + name, series.help, sorted(series.labels), registry=registry)
    names = sorted(series.labels)
    if not names:
        return gauge
    for combination in itertools.product(*(series.labels[label] for label in names)):
        gauge.labels(**dict(zip(names, combination, strict=True)))
    return gauge


def _process_collectors(registry: CollectorRegistry) -> None:
    """process_* (CPU, memory, file descriptors), python_info and python_gc_* on our registry."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
