"""JWTs as the platform writes them: minting (CLI, own id token, authz backend token) and reading.

Only the claims the platform uses exist here: `iss`, `aud` (one string), `sub`, and optional `exp`
and `nbf`. Of the header only `alg` is used, and whether it names `crit` parameters.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from dataclasses import dataclass
from typing import Annotated

import msgspec
from joserfc import jws

from minigroups.adapters.auth.keys import JoseKey
from minigroups.config import Algorithm
from minigroups.domain.ids import AccountId

_U64_MAX = 2**64 - 1
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class MalformedToken(ValueError):
    """The text is not a compact JWS whose header and claims have the required shape."""


class _Header(msgspec.Struct):
    alg: str
    # Any value: a `crit` header, whatever it lists, names extensions we do not implement.
    crit: object = msgspec.UNSET


class Claims(msgspec.Struct, frozen=True, omit_defaults=True):
    """The claims of a platform token; `aud` is one string (an array is not accepted)."""

    iss: str
    aud: str
    sub: str
    exp: Annotated[int, msgspec.Meta(ge=0)] | None = None  # <= _U64_MAX: checked in read_token
    nbf: Annotated[int, msgspec.Meta(ge=0)] | None = None  # likewise


_header_decoder = msgspec.json.Decoder(_Header)
_claims_decoder = msgspec.json.Decoder(Claims)


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A compact JWS split and decoded, its signature not yet checked."""

    alg: str
    critical: bool  # the header has a `crit` member
    claims: Claims
    signing_input: bytes
    signature: bytes


def mint_token(
    *,
    issuer: str,
    audience: str,
    subject: str,
    algorithm: Algorithm,
    key: JoseKey,
    expires_at: int | None = None,
) -> str:
    """A compact JWS with header `{"alg": ..., "typ": "JWT"}` and claims iss, aud, sub (, exp)."""
    claims = Claims(iss=issuer, aud=audience, sub=subject, exp=expires_at)
    return jws.serialize_compact(
        {"alg": algorithm, "typ": "JWT"}, msgspec.json.encode(claims), key, algorithms=[algorithm]
    )


def mint_id_token(account: AccountId, *, algorithm: Algorithm, key: JoseKey) -> str:
    """The service's own id token (upstream §1.2): iss = aud = audience, sub = label, no exp."""
    return mint_token(
        issuer=account.audience,
        audience=account.audience,
        subject=account.label,
        algorithm=algorithm,
        key=key,
    )


def read_token(token: str) -> UnverifiedToken:
    """Split and decode a compact JWS without checking its signature; raise MalformedToken."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a compact JWS has three dot-separated parts")
    header_part, claims_part, signature_part = parts
    try:
        header = _header_decoder.decode(_b64url_decode(header_part))
        claims = _claims_decoder.decode(_b64url_decode(claims_part))
        signature = _b64url_decode(signature_part)
    except (msgspec.DecodeError, binascii.Error, ValueError) as exc:
        raise MalformedToken(str(exc)) from exc
    for name, value in (("exp", claims.exp), ("nbf", claims.nbf)):
        if value is not None and value > _U64_MAX:  # the reference reads them as u64
            raise MalformedToken(f"{name} does not fit an unsigned 64-bit integer")
    signing_input = f"{header_part}.{claims_part}".encode("ascii")
    critical = header.crit is not msgspec.UNSET
    return UnverifiedToken(header.alg, critical, claims, signing_input, signature)


def _b64url_decode(segment: str) -> bytes:
    # Strict: only the URL-safe alphabet, no padding (RFC 7515 §2); b64decode alone would also
    # take "+" and "/".
    if _B64URL.fullmatch(segment) is None:
        raise MalformedToken("a segment is not unpadded base64url")
    data = segment.encode("ascii")
    return b64decode(data + b"=" * (-len(data) % 4), altchars=b"-_", validate=True)
