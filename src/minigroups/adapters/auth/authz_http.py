"""The `http` authz backend: a tenant's service answers which actions a subject may do.

Behaves as the reference's svc-authz client (upstream §7.2), with an in-process decision cache
instead of Redis, backend failures reported as unavailable (503, D6) rather than 422, and a
non-2xx answer counted as a failure rather than read as a decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

import httpx
import msgspec

from minigroups.adapters.auth.cache import ExpiringLru
from minigroups.adapters.auth.intent import Intent
from minigroups.config import AuthzHttpSettings
from minigroups.domain.ids import AccountId

_actions_decoder = msgspec.json.Decoder(list[str])


@dataclass(frozen=True, slots=True)
class _Unanswered:
    """No attempt produced a readable answer; `reason` describes the last failure."""

    reason: str


class HttpBackend:
    """Asks the tenant's authz service, remembering decisions for `cache_ttl` seconds.

    Concurrent identical questions share one call to the service.
    """

    def __init__(
        self,
        settings: AuthzHttpSettings,
        *,
        trusted: Iterable[AccountId],
        token: str,
        own_account_id: str,
        http_client: httpx.AsyncClient,
        clock: Callable[[], float],
    ) -> None:
        self._uri = settings.uri
        self._trusted = frozenset(trusted)
        self._timeout = settings.timeout
        self._attempts = max(1, settings.max_retries)
        self._ttl = settings.cache_ttl
        self._own_account_id = own_account_id
        self._client = http_client
        self._clock = clock
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if settings.user_agent is not None:
            self._headers["User-Agent"] = settings.user_agent
        cache_size = settings.cache_size if settings.cache_ttl > 0 else 0
        # Keyed by the intent as a value, never by its text (intent.py); there is one backend
        # per audience, so the intent is the whole key.
        self._decisions: ExpiringLru[Intent, bool] = ExpiringLru(cache_size)
        self._in_flight: dict[Intent, asyncio.Task[bool | _Unanswered]] = {}

    async def check(self, intent: Intent) -> None:
        if intent.subject in self._trusted:
            return
        decision: bool | _Unanswered | None = self._decisions.get(intent, self._clock())
        if decision is None:
            decision = await self._shared_ask(intent)
        if isinstance(decision, _Unanswered):
            raise intent.unavailable(decision.reason)
        if not decision:
            raise intent.denied("the action forbidden by tenant")

    async def _shared_ask(self, intent: Intent) -> bool | _Unanswered:
        task = self._in_flight.get(intent)
        if task is None:
            task = asyncio.create_task(self._ask(intent))
            self._in_flight[intent] = task
            task.add_done_callback(partial(self._forget, intent))
        # shield: a caller that gives up does not cancel the answer the others wait for.
        return await asyncio.shield(task)

    def _forget(self, intent: Intent, task: asyncio.Task[bool | _Unanswered]) -> None:
        if self._in_flight.get(intent) is task:
            del self._in_flight[intent]
        if not task.cancelled():
            task.exception()  # retrieved here so that an abandoned failure is not logged twice

    async def _ask(self, intent: Intent) -> bool | _Unanswered:
        body = self._body(intent)
        failure = _Unanswered("no attempt was made")
        for _ in range(self._attempts):
            outcome = await self._attempt(body)
            if isinstance(outcome, _Unanswered):
                failure = outcome
                continue
            allowed = intent.action in outcome
            self._decisions.put(intent, allowed, self._clock() + self._ttl)
            return allowed
        return failure

    async def _attempt(self, body: bytes) -> list[str] | _Unanswered:
        # Only a 2xx answer is a decision, read from its body. The reference ignored the status,
        # so a tenant's error page that happened to be a JSON array counted as a decision; here
        # any other status is a failure (503 authorization_failed, D6), retried like one.
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    self._uri, content=body, headers=self._headers, timeout=self._timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            return _Unanswered(f"no answer from {self._uri} within {self._timeout} s")
        except httpx.HTTPError as exc:
            return _Unanswered(f"request to {self._uri} failed: {_describe(exc)}")
        if not response.is_success:
            return _Unanswered(f"the answer of {self._uri} has status {response.status_code}")
        try:
            return _actions_decoder.decode(response.content)
        except msgspec.DecodeError:
            return _Unanswered(
                f"the answer of {self._uri} (status {response.status_code}) "
                "is not a JSON array of strings"
            )

    def _body(self, intent: Intent) -> bytes:
        return msgspec.json.encode(
            {
                "subject": {"namespace": intent.subject.audience, "value": intent.subject.label},
                "object": {"namespace": self._own_account_id, "value": list(intent.object_)},
                "action": intent.action,
            }
        )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
