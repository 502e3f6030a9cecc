"""What an operator runs against `minigroups serve` (issue 11): the Grafana dashboard and the
alert rules name only series a real /metrics scrape has, promtool accepts the rules, and the
process's stderr is JSON log lines that never show the development token."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ports import free_port
from tests.support.served import read_token, wait_until_ready

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "minigroups.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMTOOL = "/usr/bin/promtool"

# PromQL words that are not series: binary and set operators, modifiers.
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
_KEYWORDS |= {"group_left", "group_right", "inf", "nan"}


def series_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not a function or
    aggregation (followed by `(`), a keyword, a label (inside `{}` or `by (...)`), a string, a
    range or a Grafana variable."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[match.end() :].lstrip().startswith("("):
            continue
        if match.group().lower() not in _KEYWORDS:
            names.add(match.group())
    return names


def test_the_tokenizer_finds_series_and_nothing_else() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(a_bucket{job=~"$job",x="y z"}'
        "[$__rate_interval]))) / on(instance) group_left b_total > bool 1e3 unless c"
    )
    assert series_names(expr) == {"a_bucket", "b_total", "c"}
    assert series_names("max(minigroups_x) > 0") == {"minigroups_x"}


@dataclass
class Served:
    base: str
    token: str
    metrics: str  # the /metrics text, scraped after a few requests
    stderr: str  # everything serve wrote there, up to and including its shutdown


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp_path = tmp_path_factory.mktemp("operating")
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "MINIGROUPS_DATA_DIR": str(tmp_path / "data"),
        "APP_HTTP__LISTENER_ADDRESS": f"127.0.0.1:{port}",
        "APP_HTTP__METRICS_LISTENER_ADDRESS": f"127.0.0.1:{metrics_port}",
        "APP_PIPELINE__GAUGE_INTERVAL_SECONDS": "0.2",
    }
    env.pop("APP_LOG__FORMAT", None)
    env.pop("APP_LOG__LEVEL", None)
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "minigroups", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        token = read_token(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, process)
        headers = {"authorization": f"Bearer {token}", "x-request-id": "operating-1"}
        body = {"scope": "operating", "audience": "usr.minigroups.local"}
        created = httpx.post(f"{base}/api/v1/minigroups", json=body, headers=headers)
        assert created.status_code == 201, created.text
        minigroup = created.json()["id"]
        httpx.get(f"{base}/api/v1/minigroups/{minigroup}?access_token={token}")
        httpx.get(f"{base}/no/such/path")
        time.sleep(0.5)  # a gauge refresh or two
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    return Served(base, token, metrics, stderr_path.read_text())


def exported(metrics: str) -> set[str]:
    """Every sample name of the scrape (`_bucket`, `_sum`, `_count`, `_total` included)."""
    families = text_string_to_metric_families(metrics)
    return {sample.name for family in families for sample in family.samples}


def dashboard_exprs() -> list[str]:
    exprs = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(DASHBOARD.read_text(encoding="utf-8")))
    return exprs


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


@pytest.mark.slow
def test_the_dashboard_names_only_exported_series(served: Served) -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    named = set().union(*(series_names(expr) for expr in exprs))
    assert named - exported(served.metrics) == set()
    shown = {
        "minigroups_http_request_duration_seconds_count",  # request rate, error ratio
        "minigroups_http_request_duration_seconds_bucket",  # latency quantiles
        "minigroups_inbox_events_total",  # throughput
        "minigroups_outbox_messages_total",
        "minigroups_inbox_pending_events",  # backlog
        "minigroups_outbox_pending_messages",
        "minigroups_inbox_dead_letters",
        "minigroups_mqtt_connected",
        "minigroups_rooms_compensated_total",
    }
    assert shown <= named


@pytest.mark.slow
def test_the_alert_rules_name_only_exported_series(served: Served) -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    assert {"MinigroupsDeadLetters", "MinigroupsInboxStuck"} <= names
    assert {"MinigroupsHighErrorRatio", "MinigroupsBrokerDisconnected"} <= names
    for rule in rules:
        assert rule["annotations"]["summary"]
        assert series_names(rule["expr"]) - exported(served.metrics) == set(), rule["alert"]


def test_promtool_accepts_the_alert_rules() -> None:
    promtool = shutil.which("promtool") or (PROMTOOL if Path(PROMTOOL).exists() else None)
    if promtool is None:
        message = "promtool is missing (Debian's `prometheus`; `make test` installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    done = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


@pytest.mark.slow
def test_serve_logs_json_lines_with_access_lines_and_never_its_token(served: Served) -> None:
    lines = [json.loads(line) for line in served.stderr.splitlines() if line.strip()]
    assert lines, "serve logged nothing"
    assert all({"timestamp", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "minigroups.access"]
    statuses = sorted(line["status"] for line in access)
    assert 201 in statuses
    assert 404 in statuses
    [create] = [line for line in access if line["request_id"] == "operating-1"]
    assert create["account"] == "dev.usr.minigroups.local"
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # through the same setup
    handled = [line for line in lines if line["message"].startswith("inbox: ")]
    assert handled == [] or all("label" in line for line in handled)
    assert served.token not in served.stderr
    assert "access_token" not in served.stderr
