"""Who is calling: the request's bearer token checked against the `[authn]` issuers.

Implements contract.md HTTP §2.2 with decision D22 (the `Authorization` scheme must be `Bearer`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from joserfc import jws

from minigroups.adapters.auth.cache import ExpiringLru
from minigroups.adapters.auth.keys import load_verifying_key
from minigroups.adapters.auth.tokens import Claims, MalformedToken, read_token
from minigroups.config import AuthnIssuerSettings
from minigroups.domain.errors import InvalidAuthentication, MissingAuthenticationToken
from minigroups.domain.ids import AccountId

INVALID_CLAIMS = "invalid claims of the authentication token"
SUPPORTED_ALGORITHMS = frozenset({"ES256", "HS256"})

_SCHEME = "bearer "  # compared case-insensitively, with exactly one space (D22)
# The reference reads the header only when it is visible ASCII (tab allowed) and >= 7 bytes long;
# otherwise it acts as if the header were absent (contract.md HTTP §2.2).
_VISIBLE_ASCII = re.compile(r"[\t\x20-\x7e]*")

Verifier = Callable[[bytes, bytes], bool]  # (signing input, signature) -> valid


@dataclass(frozen=True, slots=True)
class _Issuer:
    audiences: frozenset[str]
    algorithm: str
    verify: Verifier | None  # None: the configured algorithm is not supported
    require_exp: bool


class Authenticator:
    """Turns the `Authorization` header or `access_token` query value into the caller's AccountId.

    Verified tokens are remembered (bounded LRU keyed by the token text) until their `exp`; a hit
    costs one dictionary lookup and one clock reading. Failures are not remembered.
    """

    def __init__(
        self,
        issuers: Mapping[str, AuthnIssuerSettings],
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        """Load every issuer's key now; raise KeyFileError naming the file that cannot be used."""
        self._issuers = {name: _load_issuer(settings) for name, settings in issuers.items()}
        self._clock = clock
        self._cache: ExpiringLru[str, AccountId] = ExpiringLru(cache_size)

    def authenticate(self, authorization: str | None, access_token: str | None) -> AccountId:
        """The caller's account id; raise MissingAuthenticationToken or InvalidAuthentication."""
        token = _token_from(authorization, access_token)
        now = self._clock()
        account = self._cache.get(token, now)
        if account is not None:
            return account
        account, expires_at = self._verify(token, now)
        self._cache.put(token, account, expires_at)
        return account

    def _verify(self, token: str, now: float) -> tuple[AccountId, int | None]:
        # The order of the checks decides which title wins (contract.md HTTP §2.2 step 2).
        try:
            unverified = read_token(token)
        except MalformedToken:
            raise InvalidAuthentication(INVALID_CLAIMS) from None
        claims = unverified.claims
        issuer = self._issuers.get(claims.iss)
        if issuer is None:
            raise InvalidAuthentication(
                f"issuer = {claims.iss} of the authentication token is not allowed"
            )
        if claims.aud.partition(":")[0] not in issuer.audiences:
            raise InvalidAuthentication(
                f"audience = {claims.aud} of the authentication token is not allowed"
            )
        if issuer.verify is None:
            raise InvalidAuthentication(f"unsupported algorithm {issuer.algorithm}")
        if unverified.alg != issuer.algorithm:
            raise _verification_failed("InvalidAlgorithm")
        if unverified.critical:  # RFC 7515 §4.1.11: we understand no extension
            raise _verification_failed("UnsupportedCriticalHeader")
        if not issuer.verify(unverified.signing_input, unverified.signature):
            raise _verification_failed("InvalidSignature")
        _check_times(claims, now, require_exp=issuer.require_exp)
        if "." in claims.sub:
            # Account labels never contain a dot: `alice.usr` of `a` must not pass for `alice` of
            # `usr.a`, whose account id text is the same (issue 8).
            raise InvalidAuthentication(
                f"subject = {claims.sub} of the authentication token is not allowed"
            )
        return AccountId(label=claims.sub, audience=claims.aud), claims.exp


def _check_times(claims: Claims, now: float, *, require_exp: bool) -> None:
    """`exp` and `nbf`, both without leeway; `exp` may be absent unless the issuer requires it."""
    if claims.exp is None:
        if require_exp:
            raise _verification_failed("Missing required claim: exp")
    elif now >= claims.exp:
        raise _verification_failed("ExpiredSignature")
    if claims.nbf is not None and now < claims.nbf:
        raise _verification_failed("ImmatureSignature")


def _token_from(authorization: str | None, access_token: str | None) -> str:
    if (
        authorization is not None
        and len(authorization) >= len(_SCHEME)
        and _VISIBLE_ASCII.fullmatch(authorization) is not None
    ):
        if authorization[: len(_SCHEME)].lower() != _SCHEME:
            raise InvalidAuthentication(INVALID_CLAIMS)  # D22: another scheme is refused
        return authorization[len(_SCHEME) :]
    if access_token is not None:
        return access_token
    raise MissingAuthenticationToken


def _verification_failed(reason: str) -> InvalidAuthentication:
    # The reason is the reference JWT library's error name; the dash is U+2013 EN DASH.
    return InvalidAuthentication(f"verification of the authentication token failed \u2013 {reason}")


def _load_issuer(settings: AuthnIssuerSettings) -> _Issuer:
    audiences = frozenset(settings.audience)
    if settings.algorithm not in SUPPORTED_ALGORITHMS:
        return _Issuer(audiences, settings.algorithm, None, settings.require_exp)
    key = load_verifying_key(settings.key, settings.algorithm)
    alg = jws.JWSRegistry(algorithms=[settings.algorithm]).get_alg(settings.algorithm)
    alg.check_key(key)

    def verify(signing_input: bytes, signature: bytes) -> bool:
        return alg.verify(signing_input, signature, key)

    return _Issuer(audiences, settings.algorithm, verify, settings.require_exp)
