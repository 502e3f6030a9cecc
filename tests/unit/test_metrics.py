"""/metrics by Prometheus's conventions (issue 11): HELP texts, units in names, counters at zero
for their known label values, no `_created` series, build info and the process collectors."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from minigroups.adapters.metrics import COUNTERS, GAUGES, PREFIX, PrometheusMetrics
from minigroups.adapters.peers.lifecycle import LifecycleWire
from minigroups.ports import STAGES

SRC = Path(__file__).parents[2] / "src" / "minigroups"


def scrape(metrics: PrometheusMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def fresh() -> PrometheusMetrics:
    return PrometheusMetrics(
        CollectorRegistry(), version=version("minigroups"), inbox_labels=LifecycleWire().labels
    )


def test_every_series_has_a_help_text_that_says_more_than_its_name() -> None:
    families = list(text_string_to_metric_families(scrape(fresh())))
    ours = [family for family in families if family.name.startswith(PREFIX)]
    assert len(ours) >= len(COUNTERS) + len(GAUGES)
    for family in ours:
        words = family.documentation.split()
        assert len(words) >= 5, family.name
        assert family.documentation.replace(" ", "_") != family.name


def test_names_carry_their_unit_and_type() -> None:
    for family in text_string_to_metric_families(scrape(fresh())):
        if not family.name.startswith(PREFIX):
            continue
        words = family.name.split("_")
        if family.type == "histogram" or {"age", "duration"} & set(words):
            assert family.name.endswith("_seconds"), family.name
        if family.type == "gauge":
            assert not family.name.endswith("_total"), family.name
    names = set(re.findall(r"^(minigroups_\w+?)(?:\{| )", scrape(fresh()), re.MULTILINE))
    counters = {PREFIX + name for name in COUNTERS}
    assert counters <= names  # every counter's samples end in _total
    assert all(name.endswith("_total") for name in counters)


def test_counters_start_at_zero_for_every_known_label_value() -> None:
    text = scrape(fresh())
    for label in sorted(LifecycleWire().labels):
        for outcome in ("handled", "retried", "dead", "lease_lost"):
            sample = f'minigroups_inbox_events_total{{label="{label}",outcome="{outcome}"}} 0.0'
            assert sample in text
    assert 'minigroups_outbox_messages_total{kind="tq_task",outcome="sent"} 0.0' in text
    assert 'minigroups_rooms_compensated_total{outcome="failed",service="conference"} 0.0' in text
    assert 'minigroups_mqtt_connection_events_total{event="lost"} 0.0' in text
    assert 'minigroups_mqtt_responses_dropped_total{reason="late"} 0.0' in text
    assert "minigroups_mqtt_handler_failures_total 0.0" in text
    for stage in STAGES:
        assert f'minigroups_by_stage{{stage="{stage}"}} 0.0' in text


def test_counting_and_gauges_reach_the_exported_series() -> None:
    metrics = fresh()
    metrics.increment("inbox_events_total", label="room.close", outcome="handled")
    metrics.increment("room_locks_failed_total")
    metrics.set_gauge("inbox_dead_letters", 3)
    metrics.set_gauge("by_stage", 2, stage="closed")
    metrics.observe_request("/api/v1/minigroups", "POST", 201, 0.02)
    value = metrics.registry.get_sample_value
    assert value("minigroups_inbox_events_total", {"label": "room.close", "outcome": "handled"})
    assert value("minigroups_room_locks_failed_total") == 1.0
    assert value("minigroups_inbox_dead_letters") == 3.0
    assert value("minigroups_by_stage", {"stage": "closed"}) == 2.0
    labels = {"route": "/api/v1/minigroups", "method": "POST", "status": "201"}
    assert value("minigroups_http_request_duration_seconds_count", labels) == 1.0


def test_no_created_series() -> None:
    metrics = fresh()
    metrics.increment("inbox_events_total", label="room.close", outcome="handled")
    metrics.observe_request("/x", "GET", 200, 0.01)
    assert "_created" not in scrape(metrics)


def test_build_info_names_the_version() -> None:
    value = fresh().registry.get_sample_value(
        "minigroups_build_info", {"version": version("minigroups")}
    )
    assert value == 1.0


def test_process_and_python_collectors_are_on_our_registry() -> None:
    text = scrape(fresh())
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "python_info",
        "python_gc_objects_collected_total",
    ):
        assert re.search(rf"^{name}[{{ ]", text, re.MULTILINE), name


def test_the_broker_gauge_follows_the_connection() -> None:
    metrics = fresh()
    value = metrics.registry.get_sample_value
    assert value("minigroups_mqtt_connected") == 1.0  # no broker (the sandbox): nothing is down
    connected = [True]
    metrics.watch_broker(lambda: connected[0])
    assert value("minigroups_mqtt_connected") == 1.0
    connected[0] = False
    assert value("minigroups_mqtt_connected") == 0.0


def test_every_counter_the_code_increments_is_declared() -> None:
    """A name missing from the catalogue would be exported without a real HELP text."""
    used = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r'"([a-z_]+_total)"', path.read_text(encoding="utf-8")))
    assert used, "the search finds the counters"
    assert used <= set(COUNTERS), used - set(COUNTERS)


def test_an_undeclared_counter_is_still_exported() -> None:
    metrics = fresh()
    metrics.increment("surprises_total", kind="x")
    assert metrics.registry.get_sample_value("minigroups_surprises_total", {"kind": "x"}) == 1.0
