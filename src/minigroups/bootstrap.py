"""The composition root: builds every adapter from the settings and wires the use cases."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from importlib.metadata import version
from typing import Protocol
from uuid import uuid4

import httpx
import msgspec
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from minigroups.adapters.auth.authn import Authenticator
from minigroups.adapters.auth.authz import build_authorizer
from minigroups.adapters.auth.keys import AuthConfigError, load_signing_key
from minigroups.adapters.auth.tokens import mint_id_token
from minigroups.adapters.clock import SystemClock
from minigroups.adapters.db import Pools, create_store
from minigroups.adapters.logging_setup import AccessLines
from minigroups.adapters.metrics import PrometheusMetrics
from minigroups.adapters.peers.build import build_peer_clients
from minigroups.adapters.peers.lifecycle import LifecycleWire
from minigroups.adapters.peers.tq import AiohttpPost, HttpxPost, TaskPost
from minigroups.adapters.peers.transport import Requester
from minigroups.adapters.rate_limits import build_rate_limiter, quotas_of
from minigroups.adapters.sandbox import (
    InProcessRequester,
    Sandbox,
    SandboxNotifier,
    SandboxTqTransport,
)
from minigroups.adapters.sandbox.autopilot import Accounts, SandboxAutopilot
from minigroups.adapters.ulms import AgentOptions, MqttAgent, MqttNotifier, MqttRequester
from minigroups.adapters.ulms.errors import MalformedEnvelope
from minigroups.adapters.ulms.inbound import Handler, InboundMessage
from minigroups.adapters.ulms.topics import lifecycle_subscriptions
from minigroups.adapters.webhooks import HttpWebhookClient, Resolver, webhook_client, webhook_policy
from minigroups.api.app import ApiApp
from minigroups.api.cors import CorsPolicy
from minigroups.api.guards import RequestLimits
from minigroups.api.rate_limits import RateLimitGate
from minigroups.api.routes import build_routes
from minigroups.api.trail import LoggedAccessLines
from minigroups.config import RATE_LIMIT_QUOTAS, Settings
from minigroups.console.app import ConsoleOptions, build_console_app
from minigroups.consumer.key_expiry import KeyExpiry, KeyExpiryOptions
from minigroups.consumer.loops import LoopOptions
from minigroups.consumer.runtime import PipelineRuntime
from minigroups.consumer.upkeep import PurgeOptions
from minigroups.domain.ids import AccountId
from minigroups.domain.limits import Limits
from minigroups.domain.tasks import AudienceMedia
from minigroups.ports import Clock, Notifier, Owner
from minigroups.services.context import Context, IdempotencyOptions, Options
from minigroups.services.rate_limits import Policies, RateLimits
from minigroups.services.sandbox import minigroup_of_room

log = logging.getLogger(__name__)

# A create whose dummy is older than both room timeouts plus this margin is presumed dead (D13).
DUMMY_STALE_MARGIN = timedelta(seconds=60)


class Closable(Protocol):
    """An HTTP client the container closes at shutdown."""

    async def aclose(self) -> None: ...


class StartupError(Exception):
    """Settings that load but cannot run: an unreadable key file, an unavailable mode."""


@dataclass(kw_only=True)
class Container:
    """Everything one process runs with; `start()` connects to the platform, `close()` releases.

    `agent` is the MQTT agent of `upstream = "ulms"`; `autopilot` plays the platform's side of
    the pipeline with `upstream = "sandbox"`. Each is None with the other upstream.
    """

    settings: Settings
    ctx: Context
    authenticator: Authenticator
    registry: CollectorRegistry
    metrics: PrometheusMetrics
    runtime: PipelineRuntime
    clients: list[Closable]
    webhook_client: HttpWebhookClient
    agent: MqttAgent | None = None
    autopilot: SandboxAutopilot | None = None
    key_expiry: KeyExpiry | None = None
    rate_limits: RateLimits | None = None  # None: `[rate_limits]` configures no quota
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Lifespan start-up: the pipeline's loops, then the broker connection in the background.

        A broker that is down does not stop the HTTP API: requests get 503 while the agent keeps
        reconnecting. Lifecycle subscriptions are registered before connecting, so that the
        backlog of the persistent session finds its handler.
        """
        self.runtime.start()
        if self.agent is not None:
            handler = _lifecycle_handler(self.runtime)
            for topic in _lifecycle_topics(self.settings):
                await self.agent.subscribe_events(topic, handler)
            await self.agent.start()
        if self.autopilot is not None:
            self._background.append(asyncio.create_task(self.autopilot.run()))
        if self.key_expiry is not None:
            self._background.append(asyncio.create_task(self.key_expiry.run()))

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.runtime.stop()
        if self.agent is not None:
            await self.agent.close()
        for client in self.clients:
            await client.aclose()
        await self.webhook_client.aclose()
        if self.rate_limits is not None:
            await self.rate_limits.close()
        await self.ctx.store.close()


@dataclass(frozen=True, slots=True)
class _Upstream:
    """What the upstream choice decides: how requests, tq's HTTP and notifications travel."""

    requester: Requester
    tq_post: TaskPost
    notifier: Notifier
    agent: MqttAgent | None = None
    autopilot: SandboxAutopilot | None = None


def pools(settings: Settings) -> Pools:
    """The connection pools `[database]` asks for."""
    database = settings.database
    return Pools(
        size=database.pool_size,
        timeout=database.pool_timeout,
        max_lifetime=database.pool_max_lifetime,
        read_size=database.read_pool_size,
        read_idle=database.pool_idle_size,
    )


def build_container(
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    clock: Clock | None = None,
    resolver: Resolver | None = None,
) -> Container:
    """Build the service from its settings.

    Tests pass their own clock, for `upstream = "sandbox"` their own sandbox (with the faults
    they inject), and the resolver webhook hosts are looked up with (DNS they control).
    """
    if settings.upstream == "ulms":
        _require_ulms_sections(settings)
    clock = clock or SystemClock()
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
    try:
        authenticator = Authenticator(settings.authn)
        authorizer = build_authorizer(settings.authz, own_account_id=settings.id, http_client=http)
        id_token = _id_token(settings)
    except AuthConfigError as exc:
        raise StartupError(str(exc)) from exc
    registry = CollectorRegistry()
    wire = LifecycleWire()
    metrics = PrometheusMetrics(registry, version=version("minigroups"), inbox_labels=wire.labels)
    if settings.upstream == "ulms":
        upstream = _ulms_upstream(settings, id_token, metrics)
        agent = upstream.agent
        if agent is not None:
            metrics.watch_broker(lambda: agent.connected)
    else:
        sandbox = sandbox or Sandbox(
            clock=clock.now, agent_id=f"{settings.agent_label}.{settings.id}"
        )
        upstream = _sandbox_upstream(settings, sandbox)
    peers = build_peer_clients(
        upstream.requester,
        upstream.tq_post,
        event=settings.event_client,
        conference=settings.conference_client,
        tq=settings.tq_client,
        token=id_token,
        user_agent=f"minigroups-{version('minigroups')}",
    )
    client = webhook_client(settings, resolver)
    ctx = Context(
        store=create_store(settings.database_url, pools(settings)),
        authorizer=authorizer,
        events=peers.event,
        conferences=peers.conference,
        tasks=peers.tq,
        notifier=upstream.notifier,
        webhook_client=client,
        clock=clock,
        metrics=metrics,
        options=_options(settings),
        broker=upstream.agent,
    )
    runtime = PipelineRuntime(
        ctx,
        _loop_options(settings),
        wire,
        owner=Owner(instance_id(settings), incarnation=uuid4()),
        purge=_purge_options(settings),
        webhooks=_webhook_loop_options(settings),
    )
    if upstream.autopilot is not None:
        upstream.autopilot.emit = runtime.receive
        upstream.autopilot.sandbox.stored_minigroup = partial(minigroup_of_room, ctx)
    return Container(
        settings=settings,
        ctx=ctx,
        authenticator=authenticator,
        registry=registry,
        metrics=metrics,
        runtime=runtime,
        clients=[http, upstream.tq_post],
        webhook_client=client,
        agent=upstream.agent,
        autopilot=upstream.autopilot,
        key_expiry=KeyExpiry(
            ctx,
            KeyExpiryOptions(
                interval=settings.idempotency.purge_interval_seconds,
                batch=settings.idempotency.purge_batch_size,
            ),
        ),
        rate_limits=_rate_limits(settings, metrics),
    )


def _rate_limits(settings: Settings, metrics: PrometheusMetrics) -> RateLimits | None:
    """The quotas of `[rate_limits]` over their storage; None when no quota is configured."""
    section = settings.rate_limits
    policies = Policies(
        **{
            key: quotas_of(key, text)
            for key in RATE_LIMIT_QUOTAS
            if (text := getattr(section, key)) is not None
        }
    )
    if not policies.configured:
        return None
    limiter = build_rate_limiter(section.storage, timeout=section.storage_timeout_seconds)
    return RateLimits(limiter, policies, metrics)


def _sandbox_upstream(settings: Settings, sandbox: Sandbox) -> _Upstream:
    """The in-process peers, and the autopilot that plays the platform's side of the pipeline."""
    requester = InProcessRequester(
        sandbox,
        event_account_id=settings.event_client.account_id,
        conference_account_id=settings.conference_client.account_id,
    )
    accounts = Accounts(
        event=settings.event_client.account_id,
        conference=settings.conference_client.account_id,
        tq=settings.tq_client.account_id,
    )
    return _Upstream(
        requester=requester,
        tq_post=HttpxPost(httpx.AsyncClient(transport=SandboxTqTransport(sandbox))),
        notifier=SandboxNotifier(),
        autopilot=SandboxAutopilot(sandbox, accounts),
    )


def _ulms_upstream(settings: Settings, id_token: str, metrics: PrometheusMetrics) -> _Upstream:
    """The platform's peers over MQTT (the agent connects in `Container.start`); tq over HTTP
    (aiohttp: `adapters/peers/tq.py`)."""
    mqtt, event, conference = settings.mqtt, settings.event_client, settings.conference_client
    if mqtt is None:
        raise StartupError('upstream = "ulms" needs the [mqtt] section')
    agent_id = f"{settings.agent_label}.{settings.id}"
    try:
        options = AgentOptions.from_settings(mqtt, agent_id=agent_id, password=id_token)
    except ValueError as exc:
        raise StartupError(f"[mqtt]: {exc}") from exc
    agent = MqttAgent(options, metrics)
    requester = MqttRequester(
        agent, services={event.account_id: "event", conference.account_id: "conference"}
    )
    notifier = MqttNotifier(agent, account_id=settings.id)
    return _Upstream(requester=requester, tq_post=AiohttpPost(), notifier=notifier, agent=agent)


def _options(settings: Settings) -> Options:
    room_timeouts = settings.event_client.timeout + settings.conference_client.timeout
    return Options(
        turn_hosts=tuple(settings.turn_hosts),
        storage_base_url=settings.storage.base_url,
        dummy_stale_after=timedelta(seconds=room_timeouts) + DUMMY_STALE_MARGIN,
        audience_media={
            audience: AudienceMedia(
                preroll=media.preroll,
                postroll=media.postroll,
                watermark=media.watermark,
                preroll_offset=media.preroll_offset,
                to=media.to,
            )
            for audience, media in settings.tq_client.audience_settings.items()
        },
        limits=Limits.picked(msgspec.structs.asdict(settings.limits)),
        idempotency=IdempotencyOptions(
            ttl=timedelta(seconds=settings.idempotency.ttl_seconds),
            lease=timedelta(seconds=settings.idempotency.lease_seconds),
        ),
        webhooks=webhook_policy(settings),
    )


def _webhook_loop_options(settings: Settings) -> LoopOptions:
    """The pipeline's leases and pace, with the webhooks' own concurrency (retries follow the
    webhook schedule, not these backoff settings)."""
    pipeline = settings.pipeline
    return LoopOptions(
        lease=pipeline.lease_seconds,
        concurrency=settings.webhooks.concurrency,
        poll=pipeline.poll_seconds,
        grace=pipeline.shutdown_grace_seconds,
    )


def _loop_options(settings: Settings) -> LoopOptions:
    pipeline = settings.pipeline
    return LoopOptions(
        max_attempts=pipeline.max_attempts,
        retry_base=pipeline.retry_base_seconds,
        retry_max=pipeline.retry_max_seconds,
        lease=pipeline.lease_seconds,
        concurrency=pipeline.concurrency,
        poll=pipeline.poll_seconds,
        grace=pipeline.shutdown_grace_seconds,
    )


def _purge_options(settings: Settings) -> PurgeOptions:
    pipeline = settings.pipeline
    return PurgeOptions(
        retention=timedelta(days=pipeline.retention_days),
        interval=pipeline.purge_interval_seconds,
        batch=pipeline.purge_batch_size,
        gauge_interval=pipeline.gauge_interval_seconds,
        deliveries=timedelta(days=settings.webhooks.retention_days),
    )


def instance_id(settings: Settings) -> str:
    """Who this instance is in the queues' claims, the same after every restart: the agent id
    `<agent_label>.<id>`, which is unique per running instance already (the MQTT client id)."""
    return f"{settings.agent_label}.{settings.id}"


def _lifecycle_topics(settings: Settings) -> list[str]:
    peers = [
        (settings.conference_client.account_id, settings.conference_client.api_version),
        (settings.event_client.account_id, settings.event_client.api_version),
        (settings.tq_client.account_id, settings.tq_client.api_version),
    ]
    return lifecycle_subscriptions(settings.id, peers, settings.tenants)


def _lifecycle_handler(runtime: PipelineRuntime) -> Handler:
    """Subscribed lifecycle events go into the inbox; returning lets the agent acknowledge."""

    async def record(message: InboundMessage) -> None:
        try:
            envelope = message.envelope()
        except MalformedEnvelope:
            log.warning("unreadable message on %s dropped", message.topic)
            return
        await runtime.receive(message.topic, envelope.properties, envelope.payload)

    return record


def _require_ulms_sections(settings: Settings) -> None:
    """`[mqtt]` says where the broker is; `[id_token]` signs the MQTT password."""
    for section, value in (("mqtt", settings.mqtt), ("id_token", settings.id_token)):
        if value is None:
            raise StartupError(f'upstream = "ulms" needs the [{section}] section')


def _id_token(settings: Settings) -> str:
    """The service's own token (upstream §1.2): the MQTT password and tq's bearer token (the
    sandbox accepts any)."""
    if settings.id_token is None:
        return "sandbox"
    key = load_signing_key(settings.id_token.key, settings.id_token.algorithm)
    return mint_id_token(
        AccountId.parse(settings.id), algorithm=settings.id_token.algorithm, key=key
    )


def create_app(container: Container) -> ApiApp:
    settings = container.settings
    return ApiApp(
        build_routes(simulator=container.autopilot),
        container.ctx,
        container.authenticator.authenticate,
        CorsPolicy(tuple(settings.http.cors_allowed_origins)),
        on_startup=container.start,
        on_shutdown=container.close,
        observer=container.metrics,
        limits=RequestLimits.picked(msgspec.structs.asdict(settings.limits)),
        rate_limits=None if container.rate_limits is None else RateLimitGate(container.rate_limits),
        access=AccessLines(fallback=LoggedAccessLines()),
    )


def create_console(container: Container) -> Starlette:
    """The metrics listener's app: `/metrics` and the operators' console (`[console]`)."""
    settings = container.settings
    console = settings.console
    options = ConsoleOptions(
        admins=frozenset(AccountId.parse(admin) for admin in console.admins),
        audiences=tuple(sorted({*settings.tenants, *settings.authz})),
        session_seconds=console.session_seconds,
        stuck_after=timedelta(seconds=console.stuck_after_seconds),
        secure_cookie=console.secure_cookie,
        instance=instance_id(settings),
    )
    return build_console_app(
        container.ctx,
        LifecycleWire(),
        container.authenticator.authenticate,
        container.registry,
        options,
    )
