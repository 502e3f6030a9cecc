"""The error hierarchy of the product; `api/problems.py` maps each class to HTTP in one table."""

from __future__ import annotations

from enum import Enum


class MinigroupsError(Exception):
    """Base of every error the product raises on purpose; `detail` is shown to clients."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail


# --- the caller's fault -------------------------------------------------------------------------


class InvalidPayload(MinigroupsError):
    """The request body is missing, not JSON, or does not fit the route; detail names the field."""


class InvalidQueryString(MinigroupsError):
    """The query string cannot be parsed into the route's filters."""


class InvalidCursor(MinigroupsError):
    """A listing `cursor` that is malformed, altered, or made for another audience or filters."""


class InvalidParameter(MinigroupsError):
    """A path parameter (a minigroup id) is not of the required form."""


class MissingAuthenticationToken(MinigroupsError):
    """No bearer token in the `Authorization` header nor in `access_token`."""


class InvalidAuthentication(MinigroupsError):
    """The token is malformed, from an unknown issuer or audience, badly signed or expired.

    `detail` holds the reference's exact 401 title.
    """


class LimitExceeded(MinigroupsError):
    """A value is over one of the `[limits]`; each subclass names the limit (docs/decisions.md)."""


class PropertyValueTooLarge(LimitExceeded):
    """One property value is over `property_value_bytes`."""


class PropertiesTooLarge(LimitExceeded):
    """The property map would be over `property_map_bytes`."""


class TooManyProperties(LimitExceeded):
    """The property map would hold more than `property_keys` keys."""


class PropertyKeyTooLong(LimitExceeded):
    """A property key is longer than `property_key_length`."""


class InvalidPropertyKey(LimitExceeded):
    """A property key does not match `property_key_pattern`."""


class TagsTooLarge(LimitExceeded):
    """`tags` is over `tags_bytes`."""


class EventTooLarge(LimitExceeded):
    """An R11 event is over `event_bytes`."""


class ScopeTooLong(LimitExceeded):
    """A scope is over `scope_bytes`."""


class InvalidIdempotencyKey(MinigroupsError):
    """An `Idempotency-Key` header that is not 1-255 visible ASCII characters, or given twice."""


class IdempotencyKeyReused(MinigroupsError):
    """The idempotency key was used before, on this route, with a different request body."""


class IdempotencyKeyInUse(MinigroupsError):
    """A request with this idempotency key is still running (here or on another instance)."""


class InvalidWebhookUrl(MinigroupsError):
    """A webhook URL is not an absolute `https://` URL with a host (`http://` only when allowed)."""


class WebhookTargetRefused(MinigroupsError):
    """A webhook URL's host is, or resolves to, a loopback, private, link-local or metadata
    address (refused at creation and again at connect time)."""


class TooManyWebhooks(MinigroupsError):
    """The audience has `[webhooks] max_endpoints_per_audience` endpoints already."""


class WebhookDisabled(MinigroupsError):
    """The endpoint is disabled: enable it (PUT `"enabled": true`) before retrying deliveries."""


class AccessDenied(MinigroupsError):
    """The authorization backend answered that the caller may not do this."""


class ClassNotFound(MinigroupsError):
    """No established minigroup (or class) with this id or audience and scope."""


class WebhookNotFound(MinigroupsError):
    """No webhook endpoint with this id in the audience."""


class DeliveryNotFound(MinigroupsError):
    """No delivery with this id for the webhook endpoint."""


class ClassPropertyNotFound(MinigroupsError):
    """The minigroup has no property with this id."""


class AccountNotFound(MinigroupsError):
    """The caller has never stored an account property."""


class AccountPropertyNotFound(MinigroupsError):
    """The caller's account has no property with this id."""


class EditionNotFound(MinigroupsError):
    """The edition is not one of the class's original event room (so not the caller's to commit)."""


class RecordingNotFound(MinigroupsError):
    """No (transcoded) recording that the route needs."""


class ClassAlreadyEstablished(MinigroupsError):
    """A minigroup with this audience and scope exists, or another create for it is under way."""


class TranscodingFlowFailed(MinigroupsError):
    """A precondition of (re)starting transcoding does not hold."""


class EditionFailed(MinigroupsError):
    """Committing an edition failed."""


class LeaseLost(MinigroupsError):
    """A worker's claim on an inbox or outbox item expired and another worker took it over."""


class EventOutOfOrder(MinigroupsError):
    """A lifecycle event refers to something not stored yet; a retry will find it."""


class LifecycleFailed(MinigroupsError):
    """A lifecycle event reports a failure, or can never be handled: retrying cannot help."""


# --- not the caller's fault ---------------------------------------------------------------------


class AuthorizationUnavailable(MinigroupsError):
    """The authorization backend could not be reached or answered something unreadable."""


class DatabaseUnavailable(MinigroupsError):
    """The database could not be reached (connection, pool timeout, lock timeout)."""


class RateLimitStorageUnavailable(MinigroupsError):
    """The rate limits' storage (Redis) could not be reached or did not answer in time; the
    request is served without a check (fail open, docs/decisions.md "Rate limits")."""


class DatabaseFailure(MinigroupsError):
    """The database rejected a statement for a reason that is not the caller's fault."""


class UpstreamFailureKind(Enum):
    """How a call to a peer service failed; decides 502, 504 or 503 (decision D6)."""

    REJECTED = "rejected"  # the peer answered with an error status
    TIMEOUT = "timeout"  # the peer did not answer in time
    UNAVAILABLE = "unavailable"  # the transport (broker, HTTP connection) is down
    MALFORMED = "malformed"  # the peer answered something that cannot be read


class UpstreamFailed(MinigroupsError):
    """A request to the event service, the conference service or tq failed.

    A rejection keeps the peer's status and, when its error object has one, its `type`.
    """

    def __init__(
        self,
        kind: UpstreamFailureKind,
        service: str,
        method: str,
        detail: str,
        *,
        peer_status: int | None = None,
        peer_type: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.service = service
        self.method = method
        self.peer_status = peer_status
        self.peer_type = peer_type


class RouteUpstreamFailed(MinigroupsError):
    """An upstream failure seen by a route that names it in its own terms (e.g. whiteboard)."""

    def __init__(self, cause: UpstreamFailed, detail: str) -> None:
        super().__init__(detail)
        self.cause = cause


class ServicesRequestFailed(RouteUpstreamFailed):
    """Room creation or update in the peer services failed (`mqtt_request_failed`)."""


class CreationWhiteboardFailed(RouteUpstreamFailed):
    """Creating the whiteboard documents in the event room failed."""


class EventCreationFailed(RouteUpstreamFailed):
    """The event service did not take the proxied event."""


class EditionCommitFailed(RouteUpstreamFailed):
    """The event service did not take the edition commit (`edition_flow_failed`)."""


# --- the recording pipeline (contract.md upstream §6) ---------------------------------------------


class SegmentsMalformed(MinigroupsError):
    """tq's `segments` string of a conversion cannot be read (D17); the recording is dropped."""


class RecordingDurationMalformed(MinigroupsError):
    """tq's `recording_duration` of a transcoding is not a non-negative decimal number."""


class RecordingsNotReady(TranscodingFlowFailed):
    """A recording lacks its stream, segments or start, so the streams cannot be built (D12)."""


class NoHostRecording(TranscodingFlowFailed):
    """No recording was made by the host agent of the room (D12, D19)."""
