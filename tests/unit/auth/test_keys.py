"""Reading key files: the forms the reference uses, and clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, OctKey

from minigroups.adapters.auth.keys import KeyFileError, load_signing_key, load_verifying_key
from minigroups.config import Algorithm
from tests.unit.auth.support import write_ec_key_files


def test_ec_key_files_in_der_and_pem(tmp_path: Path) -> None:
    files = write_ec_key_files(tmp_path, "svc")
    expected = files.private_key.public_key().public_numbers()
    for path in (files.public_der, files.public_pem):
        key = load_verifying_key(path, "ES256")
        assert isinstance(key, ECKey)
        assert key.curve_name == "P-256"
        assert not key.is_private
    for path in (files.private_der, files.private_pem):
        key = load_signing_key(path, "ES256")
        assert isinstance(key, ECKey)
        assert key.is_private
        assert key.get_op_key("verify").public_numbers() == expected


def test_hs256_secret_is_the_raw_file_content(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"  spaces and a newline stay\n")
    for load in (load_signing_key, load_verifying_key):
        key = load(path, "HS256")
        assert isinstance(key, OctKey)
        assert key.raw_value == b"  spaces and a newline stay\n"


def test_short_secret_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"secret")
    key = load_verifying_key(path, "HS256")
    assert isinstance(key, OctKey)
    assert key.raw_value == b"secret"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def p384_public_der() -> bytes:
    return (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.secret", b"", "the HS256 secret is empty"),
        ("garbage.der", b"\x30\x03\x02\x01", "not a DER or PEM public key"),
        ("garbage.pem", b"-----BEGIN PUBLIC KEY-----\nxx\n", "not a DER or PEM public key"),
        ("p384.der", None, "ES256 needs an EC P-256 public key"),
    ],
)
def test_unusable_verifying_key(tmp_path: Path, name: str, data: bytes | None, reason: str) -> None:
    path = write(tmp_path, name, p384_public_der() if data is None else data)
    algorithm: Algorithm = "HS256" if name.endswith(".secret") else "ES256"
    with pytest.raises(KeyFileError) as caught:
        load_verifying_key(path, algorithm)
    assert caught.value.path == str(path)
    assert caught.value.reason.startswith(reason)
    assert str(path) in str(caught.value)


def test_public_key_is_not_a_signing_key(tmp_path: Path) -> None:
    files = write_ec_key_files(tmp_path, "svc")
    with pytest.raises(KeyFileError) as caught:
        load_signing_key(files.public_der, "ES256")
    assert caught.value.reason.startswith("not an unencrypted DER or PEM private key")


def test_public_key_is_refused_as_an_hs256_secret(tmp_path: Path) -> None:
    files = write_ec_key_files(tmp_path, "svc")
    with pytest.raises(KeyFileError) as caught:
        load_verifying_key(files.public_pem, "HS256")
    assert caught.value.reason.startswith("not usable as an HS256 secret")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "key.der"
    with pytest.raises(KeyFileError) as caught:
        load_signing_key(path, "ES256")
    assert caught.value.reason == "No such file or directory"
    assert caught.value.path == str(path)
