"""Minting tokens: exact header and claims, and a round trip through the Authenticator."""

from __future__ import annotations

from pathlib import Path

import pytest

from minigroups.adapters.auth.authn import Authenticator
from minigroups.adapters.auth.keys import load_signing_key
from minigroups.adapters.auth.tokens import mint_id_token, mint_token
from minigroups.config import Algorithm, AuthnIssuerSettings
from minigroups.domain.ids import AccountId
from tests.unit.auth.support import FakeClock, hs256_token, token_parts, write_ec_key_files

SECRET = b"0123456789abcdef0123456789abcdef"


def key_paths(tmp_path: Path, algorithm: Algorithm) -> tuple[Path, Path]:
    """(signing key file, verifying key file)."""
    if algorithm == "HS256":
        path = tmp_path / "secret"
        path.write_bytes(SECRET)
        return path, path
    files = write_ec_key_files(tmp_path, "svc")
    return files.private_der, files.public_der


@pytest.mark.parametrize("algorithm", ["HS256", "ES256"])
def test_minted_token_round_trips(tmp_path: Path, algorithm: Algorithm) -> None:
    signing, verifying = key_paths(tmp_path, algorithm)
    token = mint_token(
        issuer="dev.svc.example.org",
        audience="dev.svc.example.org:tenant",
        subject="dispatcher",
        algorithm=algorithm,
        key=load_signing_key(signing, algorithm),
        expires_at=1_900_000_000,
    )
    header, claims = token_parts(token)
    assert header == {"alg": algorithm, "typ": "JWT"}
    assert claims == {
        "iss": "dev.svc.example.org",
        "aud": "dev.svc.example.org:tenant",
        "sub": "dispatcher",
        "exp": 1_900_000_000,
    }
    authn = Authenticator(
        {
            "dev.svc.example.org": AuthnIssuerSettings(
                audience=["dev.svc.example.org"], algorithm=algorithm, key=str(verifying)
            )
        },
        clock=FakeClock(1_800_000_000),
    )
    assert authn.authenticate(f"Bearer {token}", None) == AccountId(
        "dispatcher", "dev.svc.example.org:tenant"
    )


def test_hs256_token_matches_an_independent_signature(tmp_path: Path) -> None:
    signing, _ = key_paths(tmp_path, "HS256")
    claims = {"iss": "a.org", "aud": "b.org", "sub": "c"}
    token = mint_token(
        issuer="a.org",
        audience="b.org",
        subject="c",
        algorithm="HS256",
        key=load_signing_key(signing, "HS256"),
    )
    assert token == hs256_token(claims, SECRET)


def test_es256_token_signed_by_a_pem_private_key(tmp_path: Path) -> None:
    files = write_ec_key_files(tmp_path, "svc")
    token = mint_token(
        issuer="a.org",
        audience="b.org",
        subject="c",
        algorithm="ES256",
        key=load_signing_key(files.private_pem, "ES256"),
    )
    authn = Authenticator(
        {
            "a.org": AuthnIssuerSettings(
                audience=["b.org"], algorithm="ES256", key=str(files.public_pem)
            )
        }
    )
    assert authn.authenticate(f"Bearer {token}", None) == AccountId("c", "b.org")


@pytest.mark.parametrize("algorithm", ["HS256", "ES256"])
def test_id_token_has_no_exp(tmp_path: Path, algorithm: Algorithm) -> None:
    signing, verifying = key_paths(tmp_path, algorithm)
    own = AccountId.parse("dispatcher.dev.svc.example.org")
    token = mint_id_token(own, algorithm=algorithm, key=load_signing_key(signing, algorithm))
    header, claims = token_parts(token)
    assert header == {"alg": algorithm, "typ": "JWT"}
    assert claims == {
        "iss": "dev.svc.example.org",
        "aud": "dev.svc.example.org",
        "sub": "dispatcher",
    }
    authn = Authenticator(
        {
            "dev.svc.example.org": AuthnIssuerSettings(
                audience=["dev.svc.example.org"], algorithm=algorithm, key=str(verifying)
            )
        },
        clock=FakeClock(2.0**40),
    )
    assert authn.authenticate(f"Bearer {token}", None) == own
