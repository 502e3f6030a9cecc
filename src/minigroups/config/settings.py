"""The configuration: the reference's App.toml keys this product uses, plus our own additions.

Only the shape lives here; `loader.py` loads and validates a file into it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Algorithm = Literal["ES256", "HS256"]
Positive = Annotated[int, msgspec.Meta(gt=0)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every section: unknown keys are start-up errors."""


class HttpSettings(_Section):
    listener_address: str = "127.0.0.1:8080"
    metrics_listener_address: str | None = None
    # Ours (D21): origins answered in `access-control-allow-origin`; "*" allows any.
    cors_allowed_origins: list[str] = msgspec.field(default_factory=lambda: ["*"])


class AuthnIssuerSettings(_Section):
    audience: list[str]
    algorithm: Algorithm
    key: str  # path: DER/PEM public key (ES256) or the raw secret (HS256)
    # Ours: refuse tokens without `exp`. Off by default, as in the reference: the platform's
    # service tokens (ours included, upstream §1.2) carry no `exp`.
    require_exp: bool = False


class AuthzNoneSettings(_Section, tag_field="type", tag="none"):
    pass


class AuthzLocalSettings(_Section, tag_field="type", tag="local"):
    trusted: list[str] = msgspec.field(default_factory=list)


class AuthzRecordSettings(_Section):
    subject_account_id: str
    object: list[str]
    action: str


class AuthzLocalWhitelistSettings(_Section, tag_field="type", tag="localwhitelist"):
    records: list[AuthzRecordSettings] = msgspec.field(default_factory=list)


class AuthzHttpSettings(_Section, tag_field="type", tag="http"):
    uri: str
    algorithm: Algorithm = "ES256"
    key: str | None = None  # path of the private key that signs our token to the backend
    trusted: list[str] = msgspec.field(default_factory=list)
    timeout: float = 5.0
    max_retries: int = 1
    user_agent: str | None = None
    # Ours: the in-process decision cache.
    cache_ttl: float = 300.0
    cache_size: int = 10_000


AuthzSettings = (
    AuthzNoneSettings | AuthzLocalSettings | AuthzLocalWhitelistSettings | AuthzHttpSettings
)


class PeerClientSettings(_Section):
    account_id: str
    timeout: float = 5.0
    api_version: str = "v1"


class AudienceSettings(_Section):
    preroll: str
    postroll: str
    watermark: str
    preroll_offset: int
    to: str | None = None


class TqClientSettings(_Section):
    base_url: str
    account_id: str
    timeout: float = 5.0
    api_version: str = "v1"
    audience_settings: dict[str, AudienceSettings] = msgspec.field(default_factory=dict)


class IdTokenSettings(_Section):
    algorithm: Algorithm
    key: str  # path: DER/PEM private key (ES256) or the raw secret (HS256)


class MqttSettings(_Section):
    uri: str
    clean_session: bool = False
    keep_alive_interval: int | None = None
    reconnect_interval: float | None = None
    incoming_message_queue_size: int | None = None
    outgoing_message_queue_size: int | None = None
    max_message_size: int | None = None
    requests_channel_size: int | None = None


class StorageSettings(_Section):
    base_url: str


class DatabaseSettings(_Section):
    """Ours (issue 12): the connection pools of one process. The reference's variables
    `DATABASE_POOL_SIZE`, `_IDLE_SIZE`, `_TIMEOUT` and `_MAX_LIFETIME` set the first four.
    See docs/decisions.md, "Connection pools"."""

    # The units of work's connections: writes and the pipeline; on PostgreSQL as many again for
    # the read-only units (the listing, the console), which plan each statement for its values.
    pool_size: Positive = 10
    pool_idle_size: Annotated[int, msgspec.Meta(ge=0)] = 1  # read connections kept when idle
    pool_timeout: Seconds = 5.0  # to get a free connection or to connect; then 503
    pool_max_lifetime: Seconds = 1800.0  # a unit-of-work connection is replaced after this
    # asyncpg's own (PostgreSQL): reads (R1/R3), a create's writes, the pipeline's
    # single-statement units (the intake, the claims, the relay's marks)
    read_pool_size: Positive = 16


class PipelineSettings(_Section):
    """Ours: how the inbox worker and the outbox relay retry (D18), and how long they keep rows."""

    max_attempts: int = 5  # an inbox event failing this often becomes a dead letter
    retry_base_seconds: float = 1.0  # first retry delay, doubled on each attempt
    retry_max_seconds: float = 300.0
    # How long a claim lasts unless renewed; it is renewed every third of it while in work.
    lease_seconds: float = 15.0
    concurrency: int = 32  # items handled at once per instance (decisions.md "Pipeline throughput")
    poll_seconds: float = 1.0  # idle polling, besides the wake-up on new items
    shutdown_grace_seconds: float = 5.0  # at stop, items in flight may finish; then released
    retention_days: float = 7.0  # handled events and sent effects are purged after this
    purge_interval_seconds: float = 600.0
    purge_batch_size: int = 500  # rows deleted per transaction
    # Ours (issue 11): how often the backlog gauges of /metrics are read from the database.
    gauge_interval_seconds: Seconds = 15.0


class LimitsSettings(_Section):
    """Ours (issue 8): what one caller may store, send, or hold open. See docs/decisions.md."""

    # Class properties, account properties and the `properties` of a create body.
    property_value_bytes: Positive = 64 * 1024  # one value, as compact JSON
    property_keys: Positive = 256  # keys in one map
    property_map_bytes: Positive = 1024 * 1024  # the whole map, as compact JSON
    property_key_length: Positive = 128  # characters
    property_key_pattern: str = "[A-Za-z0-9_.:-]+"  # a regular expression the key must match
    tags_bytes: Positive = 64 * 1024  # `tags` of a create body, as compact JSON
    event_bytes: Positive = 64 * 1024  # an R11 event, as compact JSON
    scope_bytes: Positive = 1024  # a created class's scope, UTF-8
    # Every request.
    json_depth: Positive = 64  # nesting of arrays and objects in a JSON body
    header_bytes: Positive = 16 * 1024  # all request headers together (names and values)
    header_field_bytes: Positive = 8 * 1024  # one request header (name and value)
    header_read_seconds: Seconds = 10.0  # to receive a request's headers
    body_read_seconds: Seconds = 30.0  # to receive a request's body
    keep_alive_seconds: Positive = 5  # an idle kept-alive connection is closed after this
    max_connections: Positive = 1000  # open connections and requests; over it: 503


class IdempotencySettings(_Section):
    """Ours (issue 9): `Idempotency-Key` on POST routes. See docs/decisions.md."""

    ttl_seconds: Annotated[int, msgspec.Meta(gt=0, le=366 * 86_400)] = 86_400  # answers kept
    # A running request's claim lasts this long unless renewed (every third of it); a claim not
    # renewed for so long belongs to a dead request and is taken over by the next one.
    lease_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 15.0
    purge_interval_seconds: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 300.0
    purge_batch_size: Positive = 500  # expired keys deleted per transaction


class LogSettings(_Section):
    """Ours (issue 11): the process's log lines on stderr. See docs/decisions.md."""

    level: str = "info"  # debug, info, warning, error or critical (any case)
    # "json": one JSON object a line; "console": readable, coloured lines. Unset: console when
    # stderr is a terminal, JSON otherwise.
    format: Literal["json", "console"] | None = None
    # Ours (issue 12): the one access line per HTTP request, at `info`. About a fifth of a
    # read's CPU: a service behind a proxy that logs requests may turn it off.
    access: bool = True


class ConsoleSettings(_Section):
    """Ours (issue 11): the operators' console on the metrics listener. See docs/decisions.md."""

    admins: list[str] = msgspec.field(default_factory=list)  # account ids `label.audience`
    session_seconds: Seconds = 8 * 3600.0  # a login lasts this long (then log in again)
    stuck_after_seconds: Seconds = 600.0  # a pipeline stage waiting longer is shown stuck
    secure_cookie: bool = False  # set true when a TLS proxy serves the console


class WebhooksSettings(_Section):
    """Ours (issue 10): signed webhooks, their retries and where they may go. See
    docs/decisions.md, "Webhooks"."""

    timeout_seconds: Seconds = 10.0  # a 2xx within this is a success
    # Delays before each attempt, the first counted from the event (Standard Webhooks' default:
    # at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the last, the delivery fails.
    retry_schedule_seconds: list[float] = msgspec.field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    disable_after_days: Seconds = 5.0  # failing without a success this long disables it
    rotation_overlap_seconds: Seconds = 86400.0  # the old secret keeps signing this long
    allow_http: bool = False  # `http://` URLs too (else only `https://`)
    allow_private_targets: bool = False  # loopback, private, link-local, metadata addresses
    max_endpoints_per_audience: Positive = 20
    concurrency: Positive = 16  # deliveries sent at once per instance
    per_endpoint_concurrency: Positive = 2  # deliveries of one endpoint in flight at once
    max_response_bytes: Positive = 4096  # of a receiver's answer read; the rest is dropped
    retention_days: Seconds = 30.0  # settled deliveries (and their attempts) are purged after


# The quota keys of [rate_limits], also the `policy` label values of rate_limited_requests_total.
RATE_LIMIT_QUOTAS = ("per_account", "per_audience", "create_per_account")


class RateLimitsSettings(_Section):
    """Ours (issue 10): per-tenant request quotas, in the `limits` library's notation
    (`"50/second;2000/minute"`: every one applies). Each is off while unset, so the section
    changes nothing until a quota is configured. See docs/decisions.md, "Rate limits"."""

    per_account: str | None = None  # every authenticated request, per caller account
    per_audience: str | None = None  # every authenticated request, per the caller's audience
    create_per_account: str | None = None  # creates and recreates, per caller account
    storage: str = "memory://"  # or "redis://host:port/db" to share the counts among instances
    # A storage that does not answer within this is failing: the request is served unchecked.
    storage_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.25


class Settings(_Section):
    id: str  # own account id, `<label>.<audience>`
    agent_label: str
    turn_hosts: list[str]
    storage: StorageSettings
    event_client: PeerClientSettings
    conference_client: PeerClientSettings
    tq_client: TqClientSettings
    database_url: str  # ours; env DATABASE_URL overrides it
    tenants: list[str] = msgspec.field(default_factory=list)
    http: HttpSettings = msgspec.field(default_factory=HttpSettings)
    authn: dict[str, AuthnIssuerSettings] = msgspec.field(default_factory=dict)
    authz: dict[str, AuthzSettings] = msgspec.field(default_factory=dict)
    id_token: IdTokenSettings | None = None
    mqtt: MqttSettings | None = None
    upstream: Literal["sandbox", "ulms"] = "sandbox"  # ours
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)  # ours
    pipeline: PipelineSettings = msgspec.field(default_factory=PipelineSettings)  # ours
    limits: LimitsSettings = msgspec.field(default_factory=LimitsSettings)  # ours
    idempotency: IdempotencySettings = msgspec.field(default_factory=IdempotencySettings)  # ours
    log: LogSettings = msgspec.field(default_factory=LogSettings)  # ours
    console: ConsoleSettings = msgspec.field(default_factory=ConsoleSettings)  # ours
    webhooks: WebhooksSettings = msgspec.field(default_factory=WebhooksSettings)  # ours
    rate_limits: RateLimitsSettings = msgspec.field(default_factory=RateLimitsSettings)  # ours
