"""Webhooks over HTTP: Standard Webhooks signatures, and a client that reaches public addresses
only (checked again at every connection), follows no redirect and reads little of the answer."""

from minigroups.adapters.webhooks.client import HttpWebhookClient
from minigroups.adapters.webhooks.resolver import Resolver, SystemResolver
from minigroups.adapters.webhooks.settings import webhook_client, webhook_policy

__all__ = ["HttpWebhookClient", "Resolver", "SystemResolver", "webhook_client", "webhook_policy"]
