"""Managing a tenant's webhook endpoints and looking into their deliveries (issue 10).

Every use case is authorized on the object `["webhooks"]` of the path's audience before it
looks anything up, so an endpoint of another audience is simply not found. The `admin_*` ones
are the operator's (the CLI): they read the database directly, with no authorization.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from minigroups.domain.errors import (
    DeliveryNotFound,
    InvalidPayload,
    InvalidQueryString,
    TooManyWebhooks,
    WebhookDisabled,
    WebhookNotFound,
)
from minigroups.domain.ids import AccountId
from minigroups.domain.webhook_targets import parse_target
from minigroups.domain.webhooks import (
    Delivery,
    Endpoint,
    WebhookPolicy,
    new_secret,
    parse_events,
    retry_attempts,
)
from minigroups.ports import Action, DeliveryPage, Store, UnitOfWork
from minigroups.services.context import Context

OBJECT = ["webhooks"]
MAX_DESCRIPTION = 1024  # characters


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """What a tenant says of an endpoint: where, which events, and a note for itself."""

    url: str
    events: tuple[str, ...]
    description: str = ""


async def _authorize(ctx: Context, caller: AccountId, audience: str, action: Action) -> None:
    await ctx.authorizer.authorize(audience, caller, OBJECT, action)


async def _checked(ctx: Context, spec: WebhookSpec) -> WebhookSpec:
    """The events known, the URL's shape allowed, and its host resolving to public addresses
    only (unless `allow_private_targets`); checked again when sending (DNS can change)."""
    if len(spec.description) > MAX_DESCRIPTION:
        raise InvalidPayload(f"`description` is longer than {MAX_DESCRIPTION} characters")
    events = parse_events(spec.events)
    parse_target(spec.url, allow_http=ctx.options.webhooks.allow_http)
    await ctx.webhook_client.check_target(spec.url)
    return WebhookSpec(spec.url, events, spec.description)


async def create_webhook(
    ctx: Context, caller: AccountId, audience: str, spec: WebhookSpec
) -> Endpoint:
    """A new endpoint with a new secret (shown to the caller in this answer only)."""
    await _authorize(ctx, caller, audience, "create")
    spec = await _checked(ctx, spec)
    now = ctx.clock.now()
    endpoint = Endpoint(
        id=uuid4(),
        audience=audience,
        url=spec.url,
        events=spec.events,
        secret=new_secret(),
        created_at=now,
        updated_at=now,
        description=spec.description,
    )
    async with ctx.store.unit_of_work() as uow:
        limit = ctx.options.webhooks.max_endpoints
        if await uow.webhooks.count(audience) >= limit:
            raise TooManyWebhooks(f"the audience has {limit} webhooks already")
        await uow.webhooks.add(endpoint)
        await uow.commit()
    return endpoint


async def list_webhooks(ctx: Context, caller: AccountId, audience: str) -> list[Endpoint]:
    await _authorize(ctx, caller, audience, "read")
    async with ctx.store.unit_of_work(read_only=True) as uow:
        return await uow.webhooks.find_all(audience)


async def get_webhook(ctx: Context, caller: AccountId, audience: str, webhook_id: UUID) -> Endpoint:
    await _authorize(ctx, caller, audience, "read")
    async with ctx.store.unit_of_work(read_only=True) as uow:
        return await _find(uow, audience, webhook_id)


async def update_webhook(
    ctx: Context,
    caller: AccountId,
    audience: str,
    webhook_id: UUID,
    spec: WebhookSpec,
    *,
    enabled: bool | None = None,
) -> Endpoint:
    """Replace URL, events and description; `enabled` true re-enables a disabled endpoint (its
    failure count starts again), false disables it; None keeps it as it is."""
    await _authorize(ctx, caller, audience, "update")
    spec = await _checked(ctx, spec)
    now = ctx.clock.now()
    async with ctx.store.unit_of_work() as uow:
        endpoint = await _find(uow, audience, webhook_id, lock=True)
        changed = replace(
            endpoint,
            url=spec.url,
            events=spec.events,
            description=spec.description,
            updated_at=now,
        )
        if enabled is True and not endpoint.enabled:
            changed = changed.enabled_again(now)
        elif enabled is False and endpoint.enabled:
            changed = changed.disabled(now, "disabled through the API")
            await uow.deliveries.fail_pending(endpoint.id, "the endpoint was disabled", now)
        await uow.webhooks.save(changed)
        await uow.commit()
    return changed


async def delete_webhook(ctx: Context, caller: AccountId, audience: str, webhook_id: UUID) -> None:
    """The endpoint goes with its deliveries (sent or not) and their log."""
    await _authorize(ctx, caller, audience, "delete")
    async with ctx.store.unit_of_work() as uow:
        await _find(uow, audience, webhook_id, lock=True)
        await uow.webhooks.delete(webhook_id)
        await uow.commit()


async def rotate_secret(
    ctx: Context, caller: AccountId, audience: str, webhook_id: UUID
) -> Endpoint:
    """A new secret; the old one keeps signing beside it for `rotation_overlap` (two
    signatures in `webhook-signature`). A secret older than that stops signing at once."""
    await _authorize(ctx, caller, audience, "update")
    now = ctx.clock.now()
    async with ctx.store.unit_of_work() as uow:
        endpoint = await _find(uow, audience, webhook_id, lock=True)
        rotated = endpoint.rotated(now, ctx.options.webhooks.rotation_overlap)
        await uow.webhooks.save(rotated)
        await uow.commit()
    return rotated


async def list_deliveries(
    ctx: Context,
    caller: AccountId,
    audience: str,
    webhook_id: UUID,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, each with its attempts; a page at a time."""
    await _authorize(ctx, caller, audience, "read")
    after = None if cursor is None else decode_cursor(cursor)
    size = ctx.options.webhooks.page_size if limit is None else limit
    async with ctx.store.unit_of_work(read_only=True) as uow:
        await _find(uow, audience, webhook_id)
        return await uow.deliveries.page(webhook_id, after, size)


async def retry_delivery(
    ctx: Context, caller: AccountId, audience: str, webhook_id: UUID, delivery_id: UUID
) -> Delivery:
    """Send it again now: a settled delivery gets one more attempt, a pending one is due now."""
    await _authorize(ctx, caller, audience, "update")
    async with ctx.store.unit_of_work() as uow:
        endpoint = await _find(uow, audience, webhook_id, lock=True)
        if not endpoint.enabled:
            raise WebhookDisabled("the webhook is disabled: enable it before retrying")
        delivery = await uow.deliveries.get(delivery_id, webhook_id)
        if delivery is None:
            raise DeliveryNotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
        delivery = await _requeue(uow, ctx.options.webhooks, delivery, ctx.clock.now())
        await uow.commit()
    return delivery


async def _requeue(
    uow: UnitOfWork, policy: WebhookPolicy, delivery: Delivery, now: datetime
) -> Delivery:
    await uow.deliveries.requeue(delivery.id, retry_attempts(delivery, policy), now)
    return await uow.deliveries.get(delivery.id, delivery.endpoint_id) or delivery


async def _find(
    uow: UnitOfWork, audience: str, webhook_id: UUID, *, lock: bool = False
) -> Endpoint:
    endpoint = await uow.webhooks.get(webhook_id, audience)
    if endpoint is not None and lock:
        endpoint = await uow.webhooks.lock(webhook_id)
    if endpoint is None:
        raise WebhookNotFound(f"no webhook {webhook_id} in audience {audience}")
    return endpoint


def encode_cursor(cursor: tuple[datetime, UUID]) -> str:
    created_at, delivery_id = cursor
    text = f"{created_at.isoformat()}|{delivery_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, UUID]:
    """A cursor of `encode_cursor`; InvalidQueryString for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        created_at, delivery_id = raw.split("|")
        moment, last = datetime.fromisoformat(created_at), UUID(delivery_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidQueryString(f"`cursor` is not a cursor of this list: {text!r}") from exc
    if moment.tzinfo is None:
        raise InvalidQueryString(f"`cursor` is not a cursor of this list: {text!r}")
    return moment, last


# --- the operator's (CLI) -----------------------------------------------------------------------


async def admin_list(store: Store, audience: str | None = None) -> list[Endpoint]:
    async with store.unit_of_work(read_only=True) as uow:
        return await uow.webhooks.find_all(audience)


async def admin_deliveries(store: Store, webhook_id: UUID, limit: int) -> DeliveryPage:
    async with store.unit_of_work(read_only=True) as uow:
        if await uow.webhooks.get(webhook_id) is None:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        return await uow.deliveries.page(webhook_id, None, limit)


async def admin_retry(
    store: Store, policy: WebhookPolicy, delivery_id: UUID, now: datetime
) -> Delivery:
    """An operator's retry: as the API's, found by the delivery's id alone."""
    async with store.unit_of_work() as uow:
        found = await uow.deliveries.get(delivery_id, None)
        if found is None:
            raise DeliveryNotFound(f"no delivery {delivery_id}")
        endpoint = await uow.webhooks.lock(found.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            raise WebhookDisabled(f"webhook {found.endpoint_id} is disabled: enable it first")
        delivery = await _requeue(uow, policy, found, now)
        await uow.commit()
    return delivery
