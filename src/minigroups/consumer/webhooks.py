"""The webhook sender: attempts due deliveries after commit, on the retry schedule.

A loop of its own, beside the outbox relay, so that webhook receivers never hold the slots of
the platform's side effects (tq tasks, notifications). Its claims are leased, renewed while an
attempt runs, taken back at start and released at stop like the other queues'. A claim takes
at most `[webhooks] per_endpoint_concurrency` deliveries of one endpoint in flight, so a slow or
dead endpoint holds that many of the `[webhooks] concurrency` slots and the others keep going.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from minigroups.consumer.loops import QueueLoop
from minigroups.ports import DeliveryItem
from minigroups.services import webhook_delivery

log = logging.getLogger(__name__)


class WebhookSender(QueueLoop[DeliveryItem]):
    name = "webhooks"

    async def claim(self, until: datetime, limit: int) -> list[DeliveryItem]:
        return await webhook_delivery.claim_deliveries(self.ctx, self.owner, until, limit)

    async def renew(self, leases: Mapping[UUID, UUID], until: datetime) -> set[UUID]:
        return await webhook_delivery.renew_deliveries(self.ctx, leases, until)

    def _count(self, item: DeliveryItem, outcome: str) -> None:
        self.ctx.metrics.increment(
            "webhook_deliveries_total", event=item.event_type, outcome=outcome
        )

    async def process(self, item: DeliveryItem) -> None:
        attempted = await webhook_delivery.attempt(self.ctx, item)
        verdict = None

        async def record() -> None:
            nonlocal verdict
            verdict = await webhook_delivery.record(self.ctx, item, attempted)

        await self._settle(record)
        if verdict is None:
            return
        outcome = "retried" if verdict.status == "pending" else verdict.status
        if verdict.status != "succeeded" and attempted.outcome is not None:
            log.info(
                "webhooks: delivery %s (%s, attempt %d) %s: %s",
                item.id,
                item.event_type,
                item.attempts,
                outcome,
                attempted.outcome.error or f"HTTP {attempted.outcome.status_code}",
            )
        if verdict.disables:
            log.warning(
                "webhooks: endpoint %s disabled: %s",
                item.endpoint_id,
                verdict.endpoint.disabled_reason,
            )
        self._count(item, outcome)
