"""The bearer token checks of contract.md HTTP §2.2 with D22, title by title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minigroups.adapters.auth.authn import Authenticator
from minigroups.adapters.auth.keys import KeyFileError
from minigroups.config import AuthnIssuerSettings
from minigroups.domain.errors import InvalidAuthentication, MissingAuthenticationToken
from minigroups.domain.ids import AccountId
from tests.unit.auth.support import (
    EcKeyFiles,
    FakeClock,
    es256_token,
    hs256_token,
    write_ec_key_files,
)

ES_ISSUER = "iam.example.org"
HS_ISSUER = "svc.example.org"
SECRET = b"a shared secret of enough length\n"  # the trailing newline is part of it
NOW = 1_700_000_000.0
INVALID_CLAIMS = "invalid claims of the authentication token"


def failed(reason: str) -> str:
    return f"verification of the authentication token failed \u2013 {reason}"


@pytest.fixture
def ec_keys(tmp_path: Path) -> EcKeyFiles:
    return write_ec_key_files(tmp_path, "iam")


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "svc.secret"
    path.write_bytes(SECRET)
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def authn(ec_keys: EcKeyFiles, secret_file: Path, clock: FakeClock) -> Authenticator:
    return Authenticator(
        {
            ES_ISSUER: AuthnIssuerSettings(
                audience=["school.example.org"], algorithm="ES256", key=str(ec_keys.public_der)
            ),
            HS_ISSUER: AuthnIssuerSettings(
                audience=["svc.example.org"], algorithm="HS256", key=str(secret_file)
            ),
        },
        clock=clock,
    )


def es_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"iss": ES_ISSUER, "aud": "school.example.org:tenant", "sub": "alice"}
    claims.update(overrides)
    return claims


def rejection(authn: Authenticator, token: str) -> str | None:
    with pytest.raises(InvalidAuthentication) as caught:
        authn.authenticate(f"Bearer {token}", None)
    return caught.value.detail


# --- accepted tokens --------------------------------------------------------------------------


def test_es256_token_with_der_public_key_gives_the_full_audience(
    authn: Authenticator, ec_keys: EcKeyFiles
) -> None:
    token = es256_token(es_claims(exp=int(NOW) + 60), ec_keys.private_key)
    assert authn.authenticate(f"Bearer {token}", None) == AccountId(
        "alice", "school.example.org:tenant"
    )


def test_es256_token_with_pem_public_key(ec_keys: EcKeyFiles) -> None:
    authn = Authenticator(
        {
            ES_ISSUER: AuthnIssuerSettings(
                audience=["school.example.org"], algorithm="ES256", key=str(ec_keys.public_pem)
            )
        }
    )
    token = es256_token(es_claims(aud="school.example.org"), ec_keys.private_key)
    assert authn.authenticate(f"Bearer {token}", None) == AccountId("alice", "school.example.org")


def test_hs256_token_is_checked_with_the_file_bytes_as_stored(authn: Authenticator) -> None:
    claims = {"iss": HS_ISSUER, "aud": "svc.example.org:x:y", "sub": "event"}
    token = hs256_token(claims, SECRET)
    assert authn.authenticate(f"Bearer {token}", None) == AccountId("event", "svc.example.org:x:y")
    without_newline = hs256_token(claims, SECRET.rstrip(b"\n"))
    assert rejection(authn, without_newline) == failed("InvalidSignature")


def test_access_token_query_value_is_used_without_a_header(
    authn: Authenticator, ec_keys: EcKeyFiles
) -> None:
    token = es256_token(es_claims(), ec_keys.private_key)
    assert authn.authenticate(None, token) == AccountId("alice", "school.example.org:tenant")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_bearer_scheme_is_case_insensitive(
    authn: Authenticator, ec_keys: EcKeyFiles, scheme: str
) -> None:
    token = es256_token(es_claims(), ec_keys.private_key)
    assert authn.authenticate(f"{scheme} {token}", None).label == "alice"


def test_header_wins_over_the_query_value(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    header_token = es256_token(es_claims(sub="header"), ec_keys.private_key)
    query_token = es256_token(es_claims(sub="query"), ec_keys.private_key)
    assert authn.authenticate(f"Bearer {header_token}", query_token).label == "header"


@pytest.mark.parametrize("header", ["Bearer", "Basic", "Bear\u00e9r x.y.z"])
def test_short_or_non_ascii_header_is_ignored_as_in_the_reference(
    authn: Authenticator, ec_keys: EcKeyFiles, header: str
) -> None:
    token = es256_token(es_claims(), ec_keys.private_key)
    assert authn.authenticate(header, token).label == "alice"


def test_token_without_exp_never_expires(
    authn: Authenticator, ec_keys: EcKeyFiles, clock: FakeClock
) -> None:
    token = es256_token(es_claims(), ec_keys.private_key)
    clock.now = 2.0**40
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


def test_exp_null_counts_as_absent(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    token = es256_token(es_claims(exp=None), ec_keys.private_key)
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


# --- rejected tokens --------------------------------------------------------------------------


def test_no_token_at_all(authn: Authenticator) -> None:
    with pytest.raises(MissingAuthenticationToken):
        authn.authenticate(None, None)


@pytest.mark.parametrize("header", ["Token  abc", "Basic dXNlcjpwYXNz", "Bearer\tabc"])
def test_another_scheme_is_refused_even_with_a_query_token(
    authn: Authenticator, ec_keys: EcKeyFiles, header: str
) -> None:
    token = es256_token(es_claims(), ec_keys.private_key)
    with pytest.raises(InvalidAuthentication) as caught:
        authn.authenticate(header.replace("abc", token), token)
    assert caught.value.detail == INVALID_CLAIMS


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b", "a.b.c.d", "e30.e30.", "!!.??.xx", "eyJhbGciOiJIUzI1NiJ9.e30=.AA"],
)
def test_malformed_token(authn: Authenticator, token: str) -> None:
    assert rejection(authn, token) == INVALID_CLAIMS


def test_empty_bearer_value_is_invalid_claims(authn: Authenticator) -> None:
    with pytest.raises(InvalidAuthentication) as caught:
        authn.authenticate("Bearer ", None)
    assert caught.value.detail == INVALID_CLAIMS


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": ES_ISSUER, "aud": "school.example.org"},  # no sub
        es_claims(sub=7),
        es_claims(iss=None),
        {"aud": "school.example.org", "sub": "alice"},  # no iss
        es_claims(aud=["school.example.org"]),  # an array is not accepted
        es_claims(exp=-1),
        es_claims(exp=1.5),
        es_claims(exp="1900000000"),
        es_claims(exp=True),
        es_claims(exp=2**64),
        es_claims(nbf=-1),
        es_claims(nbf=1.5),
        es_claims(nbf="0"),
        es_claims(nbf=2**64),
        ["not", "an", "object"],
    ],
)
def test_ill_typed_claims(authn: Authenticator, ec_keys: EcKeyFiles, claims: Any) -> None:
    assert rejection(authn, es256_token(claims, ec_keys.private_key)) == INVALID_CLAIMS


def test_header_without_alg_is_invalid_claims(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    token = es256_token(es_claims(), ec_keys.private_key, header={"typ": "JWT"})
    assert rejection(authn, token) == INVALID_CLAIMS


def test_unknown_issuer(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    token = es256_token(es_claims(iss="evil.example.org"), ec_keys.private_key)
    assert rejection(authn, token) == (
        "issuer = evil.example.org of the authentication token is not allowed"
    )


def test_audience_prefix_must_be_listed(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    token = es256_token(es_claims(aud="other.example.org:school.example.org"), ec_keys.private_key)
    assert rejection(authn, token) == (
        "audience = other.example.org:school.example.org of the authentication token is not allowed"
    )


def test_signature_by_another_key(authn: Authenticator, tmp_path: Path) -> None:
    stranger = write_ec_key_files(tmp_path, "stranger")
    token = es256_token(es_claims(), stranger.private_key)
    assert rejection(authn, token) == failed("InvalidSignature")


def test_tampered_claims(authn: Authenticator, ec_keys: EcKeyFiles) -> None:
    header, _, signature = es256_token(es_claims(), ec_keys.private_key).split(".")
    _, claims, _ = es256_token(es_claims(sub="mallory"), ec_keys.private_key).split(".")
    assert rejection(authn, f"{header}.{claims}.{signature}") == failed("InvalidSignature")


def test_hs256_token_to_an_es256_issuer_is_the_wrong_algorithm(authn: Authenticator) -> None:
    token = hs256_token(es_claims(), SECRET)
    assert rejection(authn, token) == failed("InvalidAlgorithm")


def test_issuer_check_comes_before_the_signature(authn: Authenticator) -> None:
    token = hs256_token(es_claims(iss="evil.example.org", aud="nowhere"), b"whatever secret!!")
    assert rejection(authn, token) == (
        "issuer = evil.example.org of the authentication token is not allowed"
    )


@pytest.mark.parametrize("exp", [int(NOW), int(NOW) - 1, 0])
def test_expired_token_at_or_after_exp(authn: Authenticator, ec_keys: EcKeyFiles, exp: int) -> None:
    token = es256_token(es_claims(exp=exp), ec_keys.private_key)
    assert rejection(authn, token) == failed("ExpiredSignature")


def test_expiry_is_checked_after_the_signature(authn: Authenticator, tmp_path: Path) -> None:
    stranger = write_ec_key_files(tmp_path, "stranger")
    token = es256_token(es_claims(exp=0), stranger.private_key)
    assert rejection(authn, token) == failed("InvalidSignature")


def test_unsupported_configured_algorithm(tmp_path: Path) -> None:
    settings = AuthnIssuerSettings(
        audience=["svc.example.org"],
        algorithm="RS256",  # type: ignore[arg-type]  # what a hand-built config could hold
        key=str(tmp_path / "unused"),
    )
    authn = Authenticator({HS_ISSUER: settings})
    token = hs256_token({"iss": HS_ISSUER, "aud": "svc.example.org", "sub": "x"}, SECRET)
    assert rejection(authn, token) == "unsupported algorithm RS256"


# --- nbf, crit, require_exp and dotted subjects (issue 8) ------------------------------------


@pytest.mark.parametrize("nbf", [int(NOW) + 1, int(NOW) + 3600])
def test_token_before_its_nbf_is_refused(
    authn: Authenticator, ec_keys: EcKeyFiles, nbf: int
) -> None:
    token = es256_token(es_claims(nbf=nbf), ec_keys.private_key)
    assert rejection(authn, token) == failed("ImmatureSignature")


@pytest.mark.parametrize("nbf", [int(NOW), int(NOW) - 1, 0, None])
def test_token_at_or_after_its_nbf_is_accepted(
    authn: Authenticator, ec_keys: EcKeyFiles, nbf: int | None
) -> None:
    token = es256_token(es_claims(nbf=nbf), ec_keys.private_key)
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


def test_an_immature_token_is_accepted_once_its_nbf_is_reached(
    authn: Authenticator, ec_keys: EcKeyFiles, clock: FakeClock
) -> None:
    token = es256_token(es_claims(nbf=int(NOW) + 60), ec_keys.private_key)
    assert rejection(authn, token) == failed("ImmatureSignature")
    clock.now = NOW + 60  # no leeway either side, like exp
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


@pytest.mark.parametrize("crit", [["exp"], ["b64"], [], None, "x"])
def test_a_crit_header_is_refused(authn: Authenticator, ec_keys: EcKeyFiles, crit: Any) -> None:
    header = {"alg": "ES256", "typ": "JWT", "crit": crit, "b64": True}
    token = es256_token(es_claims(), ec_keys.private_key, header=header)
    assert rejection(authn, token) == failed("UnsupportedCriticalHeader")


def test_other_unknown_header_members_are_ignored(
    authn: Authenticator, ec_keys: EcKeyFiles
) -> None:
    header = {"alg": "ES256", "typ": "JWT", "kid": "k1", "x-extra": [1]}
    token = es256_token(es_claims(), ec_keys.private_key, header=header)
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


def require_exp_authn(secret_file: Path, clock: FakeClock, *, require_exp: bool) -> Authenticator:
    settings = AuthnIssuerSettings(
        audience=["svc.example.org"],
        algorithm="HS256",
        key=str(secret_file),
        require_exp=require_exp,
    )
    return Authenticator({HS_ISSUER: settings}, clock=clock)


def test_require_exp_refuses_a_token_without_exp(secret_file: Path, clock: FakeClock) -> None:
    authn = require_exp_authn(secret_file, clock, require_exp=True)
    claims = {"iss": HS_ISSUER, "aud": "svc.example.org", "sub": "event"}
    assert rejection(authn, hs256_token(claims, SECRET)) == failed("Missing required claim: exp")
    assert rejection(authn, hs256_token({**claims, "exp": None}, SECRET)) == failed(
        "Missing required claim: exp"
    )
    token = hs256_token({**claims, "exp": int(NOW) + 1}, SECRET)
    assert authn.authenticate(f"Bearer {token}", None).label == "event"


def test_require_exp_is_off_by_default(secret_file: Path, clock: FakeClock) -> None:
    assert AuthnIssuerSettings(audience=["a"], algorithm="HS256", key="k").require_exp is False
    authn = require_exp_authn(secret_file, clock, require_exp=False)
    claims = {"iss": HS_ISSUER, "aud": "svc.example.org", "sub": "event"}
    assert authn.authenticate(f"Bearer {hs256_token(claims, SECRET)}", None).label == "event"


@pytest.mark.parametrize("sub", ["alice.usr", ".", "alice.", ".alice"])
def test_a_subject_with_a_dot_is_refused(
    authn: Authenticator, ec_keys: EcKeyFiles, sub: str
) -> None:
    """`alice.usr` of `a` would print as `alice` of `usr.a` (issue 8): 401, never an account."""
    token = es256_token(es_claims(sub=sub, aud="school.example.org"), ec_keys.private_key)
    assert rejection(authn, token) == (
        f"subject = {sub} of the authentication token is not allowed"
    )


def test_a_dotted_subject_is_refused_only_after_the_signature(
    authn: Authenticator, tmp_path: Path
) -> None:
    stranger = write_ec_key_files(tmp_path, "stranger")
    token = es256_token(es_claims(sub="alice.usr"), stranger.private_key)
    assert rejection(authn, token) == failed("InvalidSignature")


# --- the cache --------------------------------------------------------------------------------


def test_cached_token_is_refused_once_the_clock_reaches_exp(
    authn: Authenticator, ec_keys: EcKeyFiles, clock: FakeClock
) -> None:
    token = es256_token(es_claims(exp=int(NOW) + 100), ec_keys.private_key)
    first = authn.authenticate(f"Bearer {token}", None)
    clock.now = NOW + 99.5
    assert authn.authenticate(f"Bearer {token}", None) is first  # served from the cache
    clock.now = NOW + 100
    assert rejection(authn, token) == failed("ExpiredSignature")


def test_cache_hit_returns_the_remembered_result_without_verifying(
    ec_keys: EcKeyFiles, clock: FakeClock
) -> None:
    authn = Authenticator(
        {
            ES_ISSUER: AuthnIssuerSettings(
                audience=["school.example.org"], algorithm="ES256", key=str(ec_keys.public_der)
            )
        },
        clock=clock,
        cache_size=1,
    )
    alice = es256_token(es_claims(), ec_keys.private_key)
    bob = es256_token(es_claims(sub="bob"), ec_keys.private_key)
    first = authn.authenticate(f"Bearer {alice}", None)
    # Verification builds a new AccountId; only the cache can hand back the very same object.
    assert authn.authenticate(f"Bearer {alice}", None) is first
    authn.authenticate(f"Bearer {bob}", None)  # evicts alice (size 1)
    again = authn.authenticate(f"Bearer {alice}", None)
    assert again == first
    assert again is not first


def test_failures_are_not_cached(
    authn: Authenticator, ec_keys: EcKeyFiles, clock: FakeClock
) -> None:
    token = es256_token(es_claims(exp=int(NOW)), ec_keys.private_key)
    assert rejection(authn, token) == failed("ExpiredSignature")
    clock.now = NOW - 10  # a remembered failure would still be served here
    assert authn.authenticate(f"Bearer {token}", None).label == "alice"


# --- keys at construction ---------------------------------------------------------------------


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.der"
    settings = AuthnIssuerSettings(audience=["a"], algorithm="ES256", key=str(path))
    with pytest.raises(KeyFileError) as caught:
        Authenticator({ES_ISSUER: settings})
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
