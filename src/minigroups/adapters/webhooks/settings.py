"""`[webhooks]` made into the rules' policy and the sending client."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import version

from minigroups.adapters.webhooks.client import HttpWebhookClient
from minigroups.adapters.webhooks.resolver import Resolver
from minigroups.config import Settings
from minigroups.domain.webhooks import WebhookPolicy


def webhook_policy(settings: Settings) -> WebhookPolicy:
    webhooks = settings.webhooks
    return WebhookPolicy(
        timeout=webhooks.timeout_seconds,
        retry_schedule=tuple(webhooks.retry_schedule_seconds),
        disable_after=timedelta(days=webhooks.disable_after_days),
        rotation_overlap=timedelta(seconds=webhooks.rotation_overlap_seconds),
        allow_http=webhooks.allow_http,
        allow_private_targets=webhooks.allow_private_targets,
        max_endpoints=webhooks.max_endpoints_per_audience,
        per_endpoint_concurrency=webhooks.per_endpoint_concurrency,
    )


def webhook_client(settings: Settings, resolver: Resolver | None = None) -> HttpWebhookClient:
    webhooks = settings.webhooks
    return HttpWebhookClient(
        timeout=webhooks.timeout_seconds,
        max_response_bytes=webhooks.max_response_bytes,
        allow_http=webhooks.allow_http,
        allow_private_targets=webhooks.allow_private_targets,
        resolver=resolver,
        user_agent=f"minigroups-webhooks/{version('minigroups')}",
    )
