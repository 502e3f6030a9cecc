"""Key files and hand-made tokens for the auth tests, built with `cryptography` and `hmac` only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


@dataclass(frozen=True)
class EcKeyFiles:
    """One P-256 key pair written in every form the service reads."""

    private_key: ec.EllipticCurvePrivateKey
    private_der: Path  # PKCS#8, the reference's `*.p8.der`
    private_pem: Path
    public_der: Path  # SubjectPublicKeyInfo
    public_pem: Path


def write_ec_key_files(directory: Path, name: str) -> EcKeyFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = serialization.PrivateFormat.PKCS8
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
    none = serialization.NoEncryption()
    files = EcKeyFiles(
        private_key=key,
        private_der=directory / f"{name}.p8.der",
        private_pem=directory / f"{name}.key.pem",
        public_der=directory / f"{name}.public.der",
        public_pem=directory / f"{name}.public.pem",
    )
    files.private_der.write_bytes(key.private_bytes(der, pkcs8, none))
    files.private_pem.write_bytes(key.private_bytes(pem, pkcs8, none))
    files.public_der.write_bytes(key.public_key().public_bytes(der, spki))
    files.public_pem.write_bytes(key.public_key().public_bytes(pem, spki))
    return files


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def hs256_token(claims: Any, secret: bytes, *, header: Any = None) -> str:
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def es256_token(claims: Any, key: ec.EllipticCurvePrivateKey, *, header: Any = None) -> str:
    header = {"alg": "ES256", "typ": "JWT"} if header is None else header
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def token_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified."""
    header, claims, _ = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(claims))


class FakeClock:
    """Unix seconds that a test sets by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
