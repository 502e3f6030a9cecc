"""The ONE table from errors to HTTP status and RFC 7807-style problem bodies (HTTP §2.4)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import msgspec
from starlette.responses import Response

from minigroups.domain import errors as e

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


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    type: str
    title: str


_TABLE: dict[type[e.MinigroupsError], Problem] = {
    e.InvalidPayload: Problem(400, "invalid_payload", "Invalid payload"),
    e.InvalidQueryString: Problem(400, "invalid_query_string", "Invalid query string"),
    e.InvalidParameter: Problem(400, "invalid_parameter", "Invalid parameter"),
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

_INTERNAL = Problem(500, "internal_failure", "internal failure")

_UPSTREAM_STATUS = {
    e.UpstreamFailureKind.REJECTED: 502,
    e.UpstreamFailureKind.MALFORMED: 502,
    e.UpstreamFailureKind.TIMEOUT: 504,
    e.UpstreamFailureKind.UNAVAILABLE: 503,
}


def _lookup(error: e.MinigroupsError) -> Problem | None:
    for cls in type(error).__mro__:
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
    if isinstance(error, e.MissingAuthenticationToken):
        body: dict[str, str] = {
            "type": "no_authentication_token",
            "title": "No application account id for anonymous access",
        }
        return _render(401, body)
    if isinstance(error, e.InvalidAuthentication):
        return _render(401, {"type": "invalid_authentication", "title": error.detail or ""})
    problem = _lookup(error) if isinstance(error, e.MinigroupsError) else None
    if problem is None or not isinstance(error, e.MinigroupsError):
        request_id = secrets.token_hex(8)
        log.error("request %s: unhandled error", request_id, exc_info=error)
        body = {"type": _INTERNAL.type, "title": _INTERNAL.title}
        return _render(500, body, {"x-request-id": request_id})
    status = _upstream_status(error, problem.status)
    body = {"type": problem.type, "title": problem.title}
    headers = {"retry-after": RETRY_AFTER_SECONDS} if status == 503 else {}
    detail = error.detail
    if status >= 500:
        request_id = secrets.token_hex(8)
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
        body["detail"] = detail
    if isinstance(error, MethodNotAllowed):
        headers["allow"] = error.allow
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


def _render(status: int, body: dict[str, str], headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(body), status, headers=headers, media_type="application/json"
    )
