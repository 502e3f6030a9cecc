"""Counters kept in memory: the `Metrics` of agents that export nothing (simulators, benchmarks)."""

from __future__ import annotations

from collections import Counter


class CountingMetrics:
    """`ports.Metrics` as a `Counter` keyed by (name, sorted labels)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def increment(self, name: str, **labels: str) -> None:
        self.counts[name, tuple(sorted(labels.items()))] += 1

    def set_gauge(self, name: str, value: float, **labels: str) -> None:
        self.gauges[name, tuple(sorted(labels.items()))] = value

    def count(self, name: str, **labels: str) -> int:
        """How often `name` was counted with these labels (all label sets when none are given)."""
        if labels:
            return self.counts[name, tuple(sorted(labels.items()))]
        return sum(n for (counted, _), n in self.counts.items() if counted == name)
