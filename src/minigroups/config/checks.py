"""What the types cannot say (contract.md upstream §9: e.g. start-up fails on empty turn_hosts)."""

from __future__ import annotations

import math

from minigroups.config.schema import KeyPath, key_problem
from minigroups.config.settings import (
    AuthzHttpSettings,
    PeerClientSettings,
    PipelineSettings,
    Settings,
    TqClientSettings,
)
from minigroups.domain.ids import AccountId

DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


def check_values(settings: Settings) -> None:
    """Raise `SettingsProblem` for the first value the settings cannot run with."""
    _check_account_id(("id",), settings.id)
    if not settings.agent_label or "." in settings.agent_label:
        raise key_problem(("agent_label",), "must be non-empty and contain no dot")
    if not settings.turn_hosts:
        raise key_problem(("turn_hosts",), "must not be empty")
    _check_non_empty_strings(("turn_hosts",), settings.turn_hosts)
    _check_non_empty_strings(("tenants",), settings.tenants)
    if not settings.database_url.startswith(DATABASE_SCHEMES):
        # The URL may carry a password: name the key, never echo the value.
        schemes = ", ".join(DATABASE_SCHEMES)
        raise key_problem(("database_url",), f"must start with one of {schemes}")
    clients: dict[str, PeerClientSettings | TqClientSettings] = {
        "event_client": settings.event_client,
        "conference_client": settings.conference_client,
        "tq_client": settings.tq_client,
    }
    for name, client in clients.items():
        _check_account_id((name, "account_id"), client.account_id)
        _check_timeout((name, "timeout"), client.timeout)
    for audience, authz in settings.authz.items():
        if isinstance(authz, AuthzHttpSettings):
            _check_http_authz(("authz", audience), authz)
    _check_pipeline(settings.pipeline)


def _check_pipeline(pipeline: PipelineSettings) -> None:
    for key in ("lease_seconds", "retention_days", "purge_interval_seconds"):
        value = getattr(pipeline, key)
        if not (math.isfinite(value) and value > 0):
            raise key_problem(("pipeline", key), "must be a number > 0")
    grace = pipeline.shutdown_grace_seconds
    if not (math.isfinite(grace) and grace >= 0):
        raise key_problem(("pipeline", "shutdown_grace_seconds"), "must be a number >= 0")
    if pipeline.purge_batch_size < 1:
        raise key_problem(("pipeline", "purge_batch_size"), "must be at least 1")


def _check_http_authz(path: KeyPath, authz: AuthzHttpSettings) -> None:
    if not authz.uri:
        raise key_problem((*path, "uri"), "an http authz needs a uri")
    _check_timeout((*path, "timeout"), authz.timeout)
    if authz.max_retries < 1:
        raise key_problem((*path, "max_retries"), "must be at least 1")


def _check_account_id(path: KeyPath, value: str) -> None:
    try:
        AccountId.parse(value)
    except ValueError:
        detail = f"must be an account id <label>.<audience>, got {value!r}"
        raise key_problem(path, detail) from None


def _check_non_empty_strings(path: KeyPath, values: list[str]) -> None:
    for index, value in enumerate(values):
        if not value:
            raise key_problem((*path, index), "must not be an empty string")


def _check_timeout(path: KeyPath, seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds > 0):
        raise key_problem(path, "must be a number of seconds > 0")
