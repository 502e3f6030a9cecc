"""Key files for signing and verifying tokens: EC P-256 keys (DER or PEM) and HS256 secrets."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key,
    load_der_public_key,
    load_pem_private_key,
    load_pem_public_key,
)
from joserfc.jwk import ECKey, OctKey

from minigroups.config import Algorithm

logger = logging.getLogger(__name__)

JoseKey: TypeAlias = ECKey | OctKey
"""A key as the token code uses it: an EC P-256 key (ES256) or a shared secret (HS256)."""

_PEM_MARKER = b"-----BEGIN "


class AuthConfigError(Exception):
    """The authentication or authorization configuration cannot be used (a start-up error)."""


class KeyFileError(AuthConfigError):
    """A key file is missing, unreadable or does not hold a key of the configured kind."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"key file {str(path)!r}: {reason}")
        self.path = str(path)
        self.reason = reason


def load_verifying_key(path: str | Path, algorithm: Algorithm) -> JoseKey:
    """The key that checks signatures: a P-256 public key (ES256) or the raw secret (HS256)."""
    data = _read(path)
    if algorithm == "HS256":
        return _secret(path, data)
    if algorithm == "ES256":
        return _ec_public_key(path, data)
    raise KeyFileError(path, f"unsupported algorithm {algorithm}")


def load_signing_key(path: str | Path, algorithm: Algorithm) -> JoseKey:
    """The key that signs tokens: a P-256 private key (ES256) or the raw secret (HS256)."""
    data = _read(path)
    if algorithm == "HS256":
        return _secret(path, data)
    if algorithm == "ES256":
        return _ec_private_key(path, data)
    raise KeyFileError(path, f"unsupported algorithm {algorithm}")


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(path, exc.strerror or type(exc).__name__) from exc


def _secret(path: str | Path, data: bytes) -> OctKey:
    # The secret is the file's bytes exactly as stored (a trailing newline is part of it), as the
    # reference reads it. joserfc's warnings (short secret) are start-up log lines, not errors.
    if not data:
        raise KeyFileError(path, "the HS256 secret is empty")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            key = OctKey.import_key(data)
        except ValueError as exc:
            raise KeyFileError(path, f"not usable as an HS256 secret: {exc}") from exc
    for warning in caught:
        logger.warning("key file %s: %s", path, warning.message)
    return key


def _ec_public_key(path: str | Path, data: bytes) -> ECKey:
    try:
        load = load_pem_public_key if _PEM_MARKER in data else load_der_public_key
        public_key = load(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(path, f"not a DER or PEM public key: {exc}") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise KeyFileError(path, "ES256 needs an EC P-256 public key")
    return ECKey.import_key(public_key)


def _ec_private_key(path: str | Path, data: bytes) -> ECKey:
    try:
        if _PEM_MARKER in data:
            private_key = load_pem_private_key(data, password=None)
        else:
            private_key = load_der_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(path, f"not an unencrypted DER or PEM private key: {exc}") from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise KeyFileError(path, "ES256 needs an EC P-256 private key")
    return ECKey.import_key(private_key)
