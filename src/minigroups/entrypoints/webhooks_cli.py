"""`minigroups webhooks list|deliveries|retry`: the operator's view of every tenant's webhooks.

Imports only argparse at load time (`--help` stays fast); each action imports what it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from minigroups.config import LoadedSettings
    from minigroups.domain.webhooks import Delivery, Endpoint

AddConfig = Callable[[argparse.ArgumentParser], None]


def add_parser(commands: Any, add_config: AddConfig) -> None:
    """The `webhooks` command and its actions, under the command line's subparsers."""
    webhooks = commands.add_parser("webhooks", help="tenants' webhook endpoints and deliveries")
    actions = webhooks.add_subparsers(
        dest="action", required=True, title="actions", metavar="action", help="what to do"
    )
    listing = actions.add_parser("list", help="the endpoints, with their state")
    listing.add_argument("--audience", help="only this audience's endpoints")
    add_config(listing)
    deliveries = actions.add_parser(
        "deliveries", help="an endpoint's newest deliveries, each with its attempts"
    )
    deliveries.add_argument("webhook_id", type=UUID, help="the endpoint's id, as `list` shows")
    deliveries.add_argument(
        "--limit", type=int, default=20, help="how many deliveries to show (default: 20)"
    )
    add_config(deliveries)
    retry = actions.add_parser(
        "retry", help="send a delivery again: one more attempt, or now if still pending"
    )
    retry.add_argument("delivery_id", type=UUID, help="the delivery's id, as `deliveries` shows")
    add_config(retry)


async def run(args: argparse.Namespace, loaded: LoadedSettings) -> None:
    from minigroups.adapters.db import create_store
    from minigroups.adapters.webhooks import webhook_policy
    from minigroups.bootstrap import StartupError
    from minigroups.domain.errors import MinigroupsError
    from minigroups.services import webhooks

    store = create_store(loaded.settings.database_url)
    try:
        if args.action == "list":
            for endpoint in await webhooks.admin_list(store, args.audience):
                print(_endpoint_line(endpoint))
        elif args.action == "deliveries":
            page = await webhooks.admin_deliveries(store, args.webhook_id, args.limit)
            for delivery in page.deliveries:
                print(_delivery_lines(delivery))
        else:
            from datetime import UTC, datetime

            policy = webhook_policy(loaded.settings)
            delivery = await webhooks.admin_retry(
                store, policy, args.delivery_id, datetime.now(UTC)
            )
            print(f"delivery {delivery.id} ({delivery.message_id}) will be sent again")
    except MinigroupsError as exc:
        raise StartupError(exc.detail or type(exc).__name__) from exc
    finally:
        await store.close()


def _endpoint_line(endpoint: Endpoint) -> str:
    state = "enabled" if endpoint.enabled else "disabled"
    events = ",".join(endpoint.events)
    line = f"{endpoint.id}  {state:8}  {endpoint.audience}  {endpoint.url}  {events}"
    if not endpoint.enabled:
        line += f"\n    disabled: {endpoint.disabled_reason}"
    elif endpoint.failing_since is not None:
        line += f"\n    failing since {endpoint.failing_since.isoformat(timespec='seconds')}"
    return line


def _delivery_lines(delivery: Delivery) -> str:
    created = delivery.created_at.isoformat(timespec="seconds")
    lines = [
        f"{delivery.id}  {delivery.status:9}  {created}  {delivery.event_type}  "
        f"{delivery.message_id}"
    ]
    for attempt in delivery.log:
        outcome = attempt.outcome
        result = outcome.error if outcome.status_code is None else f"HTTP {outcome.status_code}"
        following = attempt.next_attempt_at
        after = "-" if following is None else following.isoformat(timespec="seconds")
        at = attempt.attempted_at.isoformat(timespec="seconds")
        lines.append(f"    {at}  {result}  {outcome.duration_ms} ms  next: {after}")
    return "\n".join(lines)
