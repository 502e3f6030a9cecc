"""Prometheus counters behind the `Metrics` port, in a registry of the app's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class PrometheusMetrics:
    """Counters are created on first use; label names are fixed by that first use."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._counters: dict[str, Counter] = {}

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
