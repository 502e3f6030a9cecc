"""Rate limits at the HTTP edge (issue 10): count the caller's request, answer `429
rate_limited` over a quota, and write the IETF `RateLimit-Policy` / `RateLimit` fields.

The fields follow draft-ietf-httpapi-ratelimit-headers (-09 and later: structured-field lists
of quota policies and service limits), on every answer of a limited route, errors included:

    RateLimit-Policy: "per_account";q=50;w=1, "per_audience";q=500;w=1
    RateLimit: "per_account";r=49;t=1, "per_audience";r=480;t=1
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response

from minigroups.api.problems import RateLimited, problem_response
from minigroups.api.routing import Endpoint, Header, RateLimitKind, RouteTable
from minigroups.domain.ids import AccountId
from minigroups.ports import Quota, Usage
from minigroups.services.rate_limits import RateLimits, Tally

POLICY_FIELD = "ratelimit-policy"
LIMIT_FIELD = "ratelimit"

POLICY_HEADER = Header(
    "RateLimit-Policy",
    str,
    'The quotas this route counts against, with `[rate_limits]` configured: `"<name>";q=<requests>'
    ";w=<seconds>` each (IETF draft-ietf-httpapi-ratelimit-headers).",
)
LIMIT_HEADER = Header(
    "RateLimit",
    str,
    'What is left of each quota counted: `"<name>";r=<requests left>;t=<seconds until more>`. '
    "Absent while the rate limits' storage is failing (the request was not counted).",
)


def describe(table: RouteTable) -> None:
    """Every limited route may answer `429 rate_limited`, and every answer of one may carry the
    two fields (only when `[rate_limits]` is configured; the document is the same either way)."""
    table.describe_problems((RateLimited,), when=is_limited)  # Retry-After: problem_headers
    fields = {POLICY_HEADER.name: POLICY_HEADER, LIMIT_HEADER.name: LIMIT_HEADER}
    table.describe_response_headers(fields, when=is_limited)


def is_limited(endpoint: Endpoint) -> bool:
    return endpoint.rate_limit is not None


Respond = Callable[[], Awaitable[Response]]


class RateLimitGate:
    """`RateLimits` for the routes: which quotas a route counts against, and the answer."""

    def __init__(self, limits: RateLimits) -> None:
        self._limits = limits
        policies = limits.policies
        # RateLimit-Policy is the same on every answer of a kind of route: written once.
        self._policy_fields: dict[RateLimitKind, str] = {
            "request": _policy_field(policies.applying(creating=False)),
            "create": _policy_field(policies.applying(creating=True)),
        }

    async def respond(
        self, endpoint: Endpoint, caller: AccountId | None, respond: Respond
    ) -> Response:
        """`respond()`, unless the caller is over a quota (then 429); either answer carries the
        fields. Routes without a caller or a rate limit are answered as they are."""
        kind = endpoint.rate_limit
        if kind is None or caller is None or not self._policy_fields[kind]:
            return await respond()
        tally = await self._limits.count(caller, creating=kind == "create")
        fields = self._fields(kind, tally)
        if tally.refused is not None:
            refused = tally.refused
            detail = (
                f"Over the {refused.quota.name} quota of {refused.quota.amount} requests in "
                f"{refused.quota.window_seconds} s; retry in {refused.reset_seconds} s"
            )
            raise RateLimited(detail, retry_after=refused.reset_seconds, fields=fields)
        try:
            response = await respond()
        except Exception as exc:  # noqa: BLE001 - rendered here, so that it carries the fields
            response = problem_response(exc)
        # Appended as they are: no answer carries them before this (MutableHeaders.update
        # looked for each among the others first; issue 12).
        response.raw_headers.extend(
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in fields.items()
        )
        return response

    def _fields(self, kind: RateLimitKind, tally: Tally) -> dict[str, str]:
        fields = {POLICY_FIELD: self._policy_fields[kind]}
        if tally.checked:
            fields[LIMIT_FIELD] = _limit_field(tally.usages)
        return fields


def _policy_field(quotas: tuple[Quota, ...]) -> str:
    return ", ".join(f'"{q.name}";q={q.amount};w={q.window_seconds}' for q in quotas)


def _limit_field(usages: tuple[Usage, ...]) -> str:
    return ", ".join(f'"{u.quota.name}";r={u.remaining};t={u.reset_seconds}' for u in usages)
