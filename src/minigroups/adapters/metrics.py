"""Prometheus counters behind the `Metrics` port, in a registry of the app's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PrometheusMetrics:
    """Counters are created on first use; label names are fixed by that first use."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._counters: dict[str, Counter] = {}
        self._requests = Histogram(
            "http_request_duration_seconds",
            "Answered HTTP requests by route template, method and status",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(route, method, str(status)).observe(seconds)

    def increment(self, name: str, **labels: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = Counter(
                name.removesuffix("_total"), name, sorted(labels), registry=self.registry
            )
            self._counters[name] = counter
        if labels:
            counter.labels(**labels).inc()
        else:
            counter.inc()
