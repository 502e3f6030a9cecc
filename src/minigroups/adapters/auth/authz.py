"""May the caller do this: the `[authz]` backends per audience (HTTP §2.3, upstream §7.2)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import httpx

from minigroups.adapters.auth.authz_http import HttpBackend
from minigroups.adapters.auth.intent import Intent
from minigroups.adapters.auth.keys import AuthConfigError, load_signing_key
from minigroups.adapters.auth.tokens import mint_token
from minigroups.config import (
    AuthzHttpSettings,
    AuthzLocalSettings,
    AuthzLocalWhitelistSettings,
    AuthzNoneSettings,
    AuthzSettings,
)
from minigroups.domain.ids import AccountId
from minigroups.ports import Action, Authorizer


class Backend(Protocol):
    async def check(self, intent: Intent) -> None:
        """Return when allowed; raise AccessDenied or AuthorizationUnavailable."""
        ...


class AllowAll:
    """`type = "none"`: every intent is allowed."""

    async def check(self, intent: Intent) -> None:
        return None


class TrustedOnly:
    """`type = "local"`: allowed iff the subject's (label, audience) pair is in `trusted`."""

    def __init__(self, trusted: Iterable[AccountId]) -> None:
        self._trusted = frozenset(trusted)

    async def check(self, intent: Intent) -> None:
        if intent.subject not in self._trusted:
            raise intent.denied("the subject isn't in a trusted list")


class Whitelist:
    """`type = "localwhitelist"`: allowed iff an exact (subject, object, action) record exists."""

    def __init__(self, records: Iterable[Intent]) -> None:
        self._records = frozenset(records)

    async def check(self, intent: Intent) -> None:
        if intent not in self._records:
            raise intent.denied("Not allowed")


class AudienceAuthorizer:
    """The `Authorizer` port: picks the backend configured for the audience."""

    def __init__(self, backends: Mapping[str, Backend]) -> None:
        self._backends = dict(backends)

    async def authorize(
        self, audience: str, subject: AccountId, object_: Sequence[str], action: Action
    ) -> None:
        intent = Intent(subject, tuple(object_), action)
        backend = self._backends.get(audience)
        if backend is None:
            raise intent.denied(f"no authorization configuration for the audience = {audience}")
        await backend.check(intent)


def build_authorizer(
    authz: Mapping[str, AuthzSettings],
    *,
    own_account_id: str,
    http_client: httpx.AsyncClient,
    clock: Callable[[], float] = time.monotonic,
) -> Authorizer:
    """One backend per configured audience; http backends get their token and key now.

    Raise AuthConfigError (KeyFileError for an unusable key file) when a section cannot work.
    """
    try:
        own = AccountId.parse(own_account_id)
    except ValueError as exc:
        raise AuthConfigError(f"own account id: {exc}") from exc
    backends: dict[str, Backend] = {}
    for audience, settings in authz.items():
        backends[audience] = _build_backend(audience, settings, own, http_client, clock)
    return AudienceAuthorizer(backends)


def _build_backend(
    audience: str,
    settings: AuthzSettings,
    own: AccountId,
    http_client: httpx.AsyncClient,
    clock: Callable[[], float],
) -> Backend:
    match settings:
        case AuthzNoneSettings():
            return AllowAll()
        case AuthzLocalSettings(trusted=trusted):
            return TrustedOnly(_subjects(audience, "trusted", trusted))
        case AuthzLocalWhitelistSettings(records=records):
            subjects = _subjects(audience, "records", [r.subject_account_id for r in records])
            return Whitelist(
                Intent(subject, tuple(r.object), r.action)
                for subject, r in zip(subjects, records, strict=True)
            )
        case AuthzHttpSettings():
            return HttpBackend(
                settings,
                trusted=_subjects(audience, "trusted", settings.trusted),
                token=_backend_token(audience, settings, own),
                own_account_id=str(own),
                http_client=http_client,
                clock=clock,
            )


def _subjects(audience: str, key: str, texts: Sequence[str]) -> list[AccountId]:
    """Configured account ids as (label, audience) pairs; AuthConfigError for one that is not."""
    subjects = []
    for index, text in enumerate(texts):
        try:
            subjects.append(AccountId.parse(text))
        except ValueError as exc:
            raise AuthConfigError(f"authz.{audience}.{key}[{index}]: {exc}") from exc
    return subjects


def _backend_token(audience: str, settings: AuthzHttpSettings, own: AccountId) -> str:
    # upstream §7.2: iss = own audience, aud = "<own audience>:<tenant audience>", no exp.
    if settings.key is None:
        raise AuthConfigError(f"authz.{audience}: an http backend needs `key` (a private key file)")
    return mint_token(
        issuer=own.audience,
        audience=f"{own.audience}:{audience}",
        subject=own.label,
        algorithm=settings.algorithm,
        key=load_signing_key(settings.key, settings.algorithm),
    )
