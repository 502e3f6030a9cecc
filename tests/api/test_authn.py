"""Authentication through HTTP (HTTP §2.2, D22): every failure is the reference's 401."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.api.conftest import AUDIENCE, ISSUER, Api

URL = "/api/v1/minigroups/00000000-0000-4000-8000-000000000000"


def _hs256(api: Api, claims: dict[str, object], *, secret: bytes | None = None) -> str:
    key = OctKey.import_key(secret if secret is not None else api.secret.read_bytes())
    return jwt.encode({"alg": "HS256"}, claims, key)


def _claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user1"}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


async def _status(api: Api, token: str, scheme: str = "Bearer") -> tuple[int, dict[str, str]]:
    response = await api.client.get(URL, headers={"authorization": f"{scheme} {token}"})
    return response.status_code, response.json()


async def test_missing_token(api: Api) -> None:
    response = await api.client.get(URL)
    assert response.status_code == 401
    assert response.json() == {
        "type": "no_authentication_token",
        "title": "No application account id for anonymous access",
    }


@pytest.mark.parametrize(
    ("case", "title"),
    [
        ("malformed", "invalid claims of the authentication token"),
        ("no-sub", "invalid claims of the authentication token"),
        ("wrong-issuer", "issuer = evil.example.org of the authentication token is not allowed"),
        (
            "wrong-audience",
            "audience = other.example.org of the authentication token is not allowed",
        ),
        (
            "bad-signature",
            "verification of the authentication token failed \u2013 InvalidSignature",
        ),
        (
            "wrong-algorithm",
            "verification of the authentication token failed \u2013 InvalidAlgorithm",
        ),
        ("expired", "verification of the authentication token failed \u2013 ExpiredSignature"),
        ("basic-scheme", "invalid claims of the authentication token"),
    ],
)
async def test_every_authentication_failure_is_the_reference_401(
    api: Api, case: str, title: str
) -> None:
    scheme = "Bearer"
    if case == "malformed":
        token = "not.a.token"
    elif case == "no-sub":
        token = _hs256(api, _claims(sub=None))
    elif case == "wrong-issuer":
        token = _hs256(api, _claims(iss="evil.example.org"))
    elif case == "wrong-audience":
        token = _hs256(api, _claims(aud="other.example.org"))
    elif case == "bad-signature":
        token = _hs256(api, _claims(), secret=b"another secret, long enough to be a key")
    elif case == "wrong-algorithm":
        key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
        token = jwt.encode({"alg": "ES256"}, _claims(), key)
    elif case == "expired":
        token = _hs256(api, _claims(exp=int(time.time()) - 10))
    else:
        token, scheme = api.token(), "Basic"
    status, body = await _status(api, token, scheme)
    assert status == 401
    assert body == {"type": "invalid_authentication", "title": title}


async def test_lower_case_scheme_and_audience_suffix_are_accepted(api: Api) -> None:
    token = _hs256(api, _claims(aud=f"{AUDIENCE}:web", exp=int(time.time()) + 60))
    status, body = await _status(api, token, "bearer")
    assert status == 404  # authenticated: the minigroup just does not exist
    assert body["type"] == "class_not_found"
