"""The ONE table from errors to HTTP status and RFC 7807-style problem bodies (HTTP §2.4).

`problem_outcomes` reads the same table for the OpenAPI document (api/openapi.py), so the `type`
values it lists per status are the ones `problem_response` renders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import msgspec
from msgspec import UNSET, UnsetType
from starlette.responses import Response

from minigroups.domain import errors as e
from minigroups.services.trail import current_request_id, new_request_id

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


class PayloadTooLarge(e.MinigroupsError):
    """The request body is over the 2 MiB limit (D23)."""


class HeadersTooLarge(e.MinigroupsError):
    """A request header, or all of them, over `[limits] header_field_bytes` / `header_bytes`."""


class RequestTimeout(e.MinigroupsError):
    """The body did not arrive within `[limits] body_read_seconds`."""


class MethodNotAllowed(e.MinigroupsError):
    """The path exists but not with this method."""

    def __init__(self, allow: str) -> None:
        super().__init__(None)
        self.allow = allow


class RouteNotFound(e.MinigroupsError):
    """No route has this path (D21: JSON 404 without CORS)."""


class RateLimited(e.MinigroupsError):
    """The caller is over one of its `[rate_limits]` quotas (issue 10); it may try again after
    `retry_after` seconds. `fields` are the `RateLimit-Policy` and `RateLimit` header fields."""

    def __init__(self, detail: str, *, retry_after: int, fields: dict[str, str]) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.fields = fields


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    type: str
    title: str
    retry_after: str | None = None  # seconds; every 503 gets RETRY_AFTER_SECONDS anyway


class ProblemBody(msgspec.Struct, kw_only=True):
    """An error (RFC 7807 style): `type` names the kind, `title` is fixed per type; `detail`
    says what went wrong (absent when there is nothing to add; a 5xx names its request id)."""

    type: str
    title: str
    detail: str | UnsetType = UNSET


_TABLE: dict[type[e.MinigroupsError], Problem] = {
    # 401: `invalid_authentication` carries the reason as its title and has no detail (HTTP §2.2).
    e.MissingAuthenticationToken: Problem(
        401, "no_authentication_token", "No application account id for anonymous access"
    ),
    e.InvalidAuthentication: Problem(401, "invalid_authentication", "Invalid authentication"),
    e.InvalidPayload: Problem(400, "invalid_payload", "Invalid payload"),
    e.InvalidQueryString: Problem(400, "invalid_query_string", "Invalid query string"),
    e.InvalidParameter: Problem(400, "invalid_parameter", "Invalid parameter"),
    e.InvalidIdempotencyKey: Problem(400, "invalid_idempotency_key", "Invalid idempotency key"),
    e.InvalidCursor: Problem(400, "invalid_cursor", "Invalid cursor"),
    e.AccessDenied: Problem(403, "access_denied", "Access denied"),
    e.ClassNotFound: Problem(404, "class_not_found", "Class not found"),
    e.ClassPropertyNotFound: Problem(404, "class_property_not_found", "Class property not found"),
    e.AccountNotFound: Problem(404, "account_not_found", "Account not found"),
    e.AccountPropertyNotFound: Problem(
        404, "account_property_not_found", "Account property not found"
    ),
    e.RecordingNotFound: Problem(404, "recording_not_found", "Recording not found"),
    e.EditionNotFound: Problem(404, "edition_not_found", "Edition not found"),
    e.WebhookNotFound: Problem(404, "webhook_not_found", "Webhook not found"),
    e.DeliveryNotFound: Problem(404, "delivery_not_found", "Delivery not found"),
    e.WebhookDisabled: Problem(409, "webhook_disabled", "Webhook disabled"),
    e.InvalidWebhookUrl: Problem(422, "invalid_webhook_url", "Invalid webhook URL"),
    e.WebhookTargetRefused: Problem(422, "webhook_target_refused", "Webhook target refused"),
    e.TooManyWebhooks: Problem(422, "too_many_webhooks", "Too many webhooks"),
    RouteNotFound: Problem(404, "not_found", "Not found"),
    RateLimited: Problem(429, "rate_limited", "Rate limited"),  # Retry-After: its own seconds
    MethodNotAllowed: Problem(405, "method_not_allowed", "Method not allowed"),
    PayloadTooLarge: Problem(413, "payload_too_large", "Payload too large"),
    RequestTimeout: Problem(408, "request_timeout", "Request timeout"),
    HeadersTooLarge: Problem(
        431, "request_header_fields_too_large", "Request header fields too large"
    ),
    # [limits] (docs/decisions.md): sizes are 413, counts and key rules 422.
    e.PropertyValueTooLarge: Problem(413, "property_value_too_large", "Property value too large"),
    e.PropertiesTooLarge: Problem(413, "properties_too_large", "Properties too large"),
    e.TagsTooLarge: Problem(413, "tags_too_large", "Tags too large"),
    e.EventTooLarge: Problem(413, "event_too_large", "Event too large"),
    e.TooManyProperties: Problem(422, "too_many_properties", "Too many properties"),
    e.PropertyKeyTooLong: Problem(422, "property_key_too_long", "Property key too long"),
    e.InvalidPropertyKey: Problem(422, "invalid_property_key", "Invalid property key"),
    e.ScopeTooLong: Problem(422, "scope_too_long", "Scope too long"),
    e.IdempotencyKeyInUse: Problem(
        409, "idempotency_key_in_use", "Idempotency key in use", retry_after="1"
    ),
    e.IdempotencyKeyReused: Problem(422, "idempotency_key_reused", "Idempotency key reused"),
    e.ClassAlreadyEstablished: Problem(
        422, "class_already_established", "Class already established"
    ),
    e.TranscodingFlowFailed: Problem(422, "transcoding_flow_failed", "Transcoding flow failed"),
    e.EditionFailed: Problem(422, "edition_flow_failed", "Edition flow failed"),
    e.DatabaseFailure: Problem(500, "database_query_failed", "Database query failed"),
    # Not the caller's fault, so 5xx (D6); 503s carry Retry-After.
    e.AuthorizationUnavailable: Problem(503, "authorization_failed", "Authorization failed"),
    e.DatabaseUnavailable: Problem(
        503, "database_connection_acquisition_failed", "Database connection acquisition failed"
    ),
    # Upstream failures: the status comes from how the peer failed (see _upstream_status).
    e.UpstreamFailed: Problem(502, "mqtt_request_failed", "Mqtt request failed"),
    e.ServicesRequestFailed: Problem(502, "mqtt_request_failed", "Mqtt request failed"),
    e.EventCreationFailed: Problem(502, "mqtt_request_failed", "Mqtt request failed"),
    e.EditionCommitFailed: Problem(502, "edition_flow_failed", "Edition flow failed"),
    e.CreationWhiteboardFailed: Problem(
        502, "creation_whiteboard_failed", "Creation whiteboard failed"
    ),
}

INTERNAL_FAILURE = Problem(500, "internal_failure", "internal failure")

_UPSTREAM_STATUS = {
    e.UpstreamFailureKind.REJECTED: 502,
    e.UpstreamFailureKind.MALFORMED: 502,
    e.UpstreamFailureKind.TIMEOUT: 504,
    e.UpstreamFailureKind.UNAVAILABLE: 503,
}


def _lookup(error: type[Exception]) -> Problem | None:
    for cls in error.__mro__:
        problem = _TABLE.get(cls)
        if problem is not None:
            return problem
    return None


def _upstream_status(error: e.MinigroupsError, default: int) -> int:
    cause = error.cause if isinstance(error, e.RouteUpstreamFailed) else error
    if isinstance(cause, e.UpstreamFailed):
        return _UPSTREAM_STATUS[cause.kind]
    return default


def problem_response(error: Exception) -> Response:
    """Render any exception; unknown ones are logged and become 500 internal_failure."""
    problem = _lookup(type(error)) if isinstance(error, e.MinigroupsError) else None
    if problem is None or not isinstance(error, e.MinigroupsError):
        request_id = current_request_id() or new_request_id()
        log.error("request %s: unhandled error", request_id, exc_info=error)
        body = ProblemBody(type=INTERNAL_FAILURE.type, title=INTERNAL_FAILURE.title)
        return _render(500, body, {"x-request-id": request_id})
    if isinstance(error, e.InvalidAuthentication):
        return _render(401, ProblemBody(type=problem.type, title=error.detail or ""))
    if isinstance(error, e.MissingAuthenticationToken):
        return _render(401, ProblemBody(type=problem.type, title=problem.title))
    status = _upstream_status(error, problem.status)
    body = ProblemBody(type=problem.type, title=problem.title)
    headers = {"retry-after": RETRY_AFTER_SECONDS} if status == 503 else {}
    if problem.retry_after is not None:
        headers["retry-after"] = problem.retry_after
    detail = error.detail
    if status >= 500:
        request_id = current_request_id() or new_request_id()
        headers["x-request-id"] = request_id
        detail = _public_detail(error, request_id)
        log.log(
            logging.ERROR if status == 500 else logging.WARNING,
            "request %s: %s %s: %s",
            request_id,
            status,
            problem.type,
            error,
            exc_info=error if status == 500 else None,
        )
    if detail:
        body.detail = detail
    if isinstance(error, MethodNotAllowed):
        headers["allow"] = error.allow
    if isinstance(error, RateLimited):
        headers.update(error.fields)
        headers["retry-after"] = str(error.retry_after)
    return _render(status, body, headers)


# What a client is told of a failure that is not its fault; the log has the cause.
_GENERIC_DETAILS: dict[type[e.MinigroupsError], str] = {
    e.DatabaseUnavailable: "The database is unavailable",
    e.DatabaseFailure: "A database statement failed",
    e.UpstreamFailed: "A request to a peer service failed",
}


def _public_detail(error: e.MinigroupsError, request_id: str) -> str:
    """The detail of a 5xx: never a driver message, host, port or URI; the request id instead.

    A route's own words about an upstream failure (`Request to event`) are kept: they are ours,
    or the peer's problem text of a rejection.
    """
    if isinstance(error, e.RouteUpstreamFailed):
        return error.detail or ""
    if isinstance(error, e.AuthorizationUnavailable):
        # Keep the reference's `[Network] intent::... has been forbidden, ` and drop its reason.
        head, sep, _ = (error.detail or "").partition(" has been forbidden, ")
        text = "the authorization backend did not answer"
        base = f"{head}{sep}{text}" if sep else text.capitalize()
    else:
        base = next(
            (_GENERIC_DETAILS[c] for c in type(error).__mro__ if c in _GENERIC_DETAILS),
            "The service failed",
        )
    return f"{base} (request id {request_id}, see the service log)"


def _render(status: int, body: ProblemBody, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(body), status, headers=headers, media_type="application/json"
    )


def problem_outcomes(error: type[Exception]) -> list[tuple[int, Problem]]:
    """Every (status, problem) that `problem_response` can answer for an error class.

    An upstream failure's status follows how the peer failed (502, 503 or 504); an error class
    outside the table is `500 internal_failure`.
    """
    problem = _lookup(error)
    if problem is None:
        return [(INTERNAL_FAILURE.status, INTERNAL_FAILURE)]
    if issubclass(error, (e.UpstreamFailed, e.RouteUpstreamFailed)):
        return [(status, problem) for status in sorted(set(_UPSTREAM_STATUS.values()))]
    return [(problem.status, problem)]


def problem_headers(status: int) -> dict[str, str]:
    """Headers every problem answer of `status` carries, with what they mean."""
    headers: dict[str, str] = {}
    if status == 429:
        headers["retry-after"] = "Seconds until the quota allows another request"
    if status == 503:
        headers["retry-after"] = f"Seconds to wait before retrying ({RETRY_AFTER_SECONDS})"
    if status >= 500:
        headers["x-request-id"] = "The request id that the service log names the cause under"
    return headers
