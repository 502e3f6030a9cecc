"""What the types cannot say (contract.md upstream §9: e.g. start-up fails on empty turn_hosts)."""

from __future__ import annotations

import math
import re

import limits

from minigroups.config.schema import KeyPath, key_problem
from minigroups.config.settings import (
    RATE_LIMIT_QUOTAS,
    AuthzHttpSettings,
    AuthzLocalSettings,
    AuthzLocalWhitelistSettings,
    PeerClientSettings,
    PipelineSettings,
    RateLimitsSettings,
    Settings,
    TqClientSettings,
    WebhooksSettings,
)
from minigroups.domain.ids import AccountId

DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
RATE_LIMIT_STORAGES = ("memory://", "redis://", "rediss://")
# The platform's audiences are DNS-like names (decisions.md, "Caller data in URLs and topics").
_AUDIENCE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_AUDIENCE_MAX = 253
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")  # [log] level, any case


def check_values(settings: Settings) -> None:
    """Raise `SettingsProblem` for the first value the settings cannot run with."""
    _check_account_id(("id",), settings.id)
    if not settings.agent_label or "." in settings.agent_label:
        raise key_problem(("agent_label",), "must be non-empty and contain no dot")
    if not settings.turn_hosts:
        raise key_problem(("turn_hosts",), "must not be empty")
    _check_non_empty_strings(("turn_hosts",), settings.turn_hosts)
    _check_non_empty_strings(("tenants",), settings.tenants)
    for index, tenant in enumerate(settings.tenants):
        _check_audience(("tenants", index), tenant)
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
        _check_audience(("authz", audience), audience)
        _check_authz_subjects(("authz", audience), authz)
        if isinstance(authz, AuthzHttpSettings):
            _check_http_authz(("authz", audience), authz)
    _check_pattern(("limits", "property_key_pattern"), settings.limits.property_key_pattern)
    _check_pipeline(settings.pipeline)
    if settings.log.level.lower() not in LOG_LEVELS:
        raise key_problem(("log", "level"), f"must be one of {', '.join(LOG_LEVELS)}")
    for index, admin in enumerate(settings.console.admins):
        _check_account_id(("console", "admins", index), admin)
    _check_webhooks(settings.webhooks)
    _check_rate_limits(settings.rate_limits)


def _check_pattern(path: KeyPath, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise key_problem(path, f"must be a regular expression: {exc}") from None


def _check_audience(path: KeyPath, value: str) -> None:
    # Only these audiences can hold classes (creating one needs an [authz] section for it), so
    # every audience that reaches a tq URL or an MQTT topic is a DNS-like name.
    if len(value) > _AUDIENCE_MAX or _AUDIENCE.fullmatch(value) is None:
        detail = "must be a DNS-like audience: dot-separated labels of letters, digits, `-`, `_`"
        raise key_problem(path, f"{detail}, got {value!r}")


def _check_authz_subjects(path: KeyPath, authz: object) -> None:
    # Subjects are compared as (label, audience) pairs: each entry must be one.
    if isinstance(authz, AuthzLocalSettings | AuthzHttpSettings):
        for index, trusted in enumerate(authz.trusted):
            _check_account_id((*path, "trusted", index), trusted)
    elif isinstance(authz, AuthzLocalWhitelistSettings):
        for index, record in enumerate(authz.records):
            _check_account_id(
                (*path, "records", index, "subject_account_id"), record.subject_account_id
            )


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


def _check_webhooks(webhooks: WebhooksSettings) -> None:
    schedule = webhooks.retry_schedule_seconds
    if not schedule:
        raise key_problem(("webhooks", "retry_schedule_seconds"), "must list at least one delay")
    for index, delay in enumerate(schedule):
        if not (math.isfinite(delay) and delay >= 0):
            raise key_problem(("webhooks", "retry_schedule_seconds", index), "must be >= 0")


def _check_rate_limits(rate_limits: RateLimitsSettings) -> None:
    for key in RATE_LIMIT_QUOTAS:
        text = getattr(rate_limits, key)
        if text is not None:
            _check_quotas(("rate_limits", key), text)
    if not rate_limits.storage.startswith(RATE_LIMIT_STORAGES):
        # The URL may carry a password: name the key, never echo the value.
        schemes = ", ".join(RATE_LIMIT_STORAGES)
        raise key_problem(("rate_limits", "storage"), f"must start with one of {schemes}")


def _check_quotas(path: KeyPath, text: str) -> None:
    """The `limits` library's notation: `50/second;2000/minute`, each window at most once."""
    try:
        items = limits.parse_many(text)
    except ValueError:
        example = 'e.g. "50/second;2000/minute" or "5 per 2 minutes"'
        raise key_problem(
            path, f"must be rate limits in the limits notation, {example}; got {text!r}"
        ) from None
    windows = [item.get_expiry() for item in items]
    if any(item.amount < 1 for item in items):
        raise key_problem(path, f"every amount must be at least 1, got {text!r}")
    if len(set(windows)) != len(windows):
        raise key_problem(path, f"each window may appear once, got {text!r}")


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
