"""The rules of idempotency keys (domain/idempotency.py): valid keys, stored answers, scopes."""

from __future__ import annotations

import pytest

from minigroups.domain.errors import InvalidIdempotencyKey
from minigroups.domain.idempotency import KeyScope, fingerprint, is_stored, parse_key
from minigroups.domain.ids import AccountId

ALICE = AccountId("alice", "usr.example.org")


@pytest.mark.parametrize("raw", [b"a", b"!", b"~" * 255, b'"quoted"', b"8e03978e-40d5-43e8"])
def test_visible_ascii_of_1_to_255_characters_is_a_key(raw: bytes) -> None:
    assert parse_key(raw) == raw.decode("ascii")


@pytest.mark.parametrize(
    "raw", [b"", b"x" * 256, b"a b", b"a\tb", b"\x00", b"a\x7f", b"\xc3\xa9", b"\xff"]
)
def test_anything_else_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        parse_key(raw)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 400, 404, 408, 413, 422, 431])
def test_2xx_and_4xx_answers_are_stored(status: int) -> None:
    assert is_stored(status)


@pytest.mark.parametrize("status", [101, 301, 401, 403, 409, 429, 500, 502, 503, 504])
def test_credentials_conflicts_throttling_and_failures_are_not(status: int) -> None:
    assert not is_stored(status)


def test_the_fingerprint_is_the_sha256_of_the_raw_body() -> None:
    assert fingerprint(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert fingerprint(b'{"a":1}') != fingerprint(b'{"a": 1}')


def test_a_record_is_one_account_route_parameters_and_key() -> None:
    scope = KeyScope(ALICE, "POST", "/x/{id}/y/{p}", {"id": "1", "p": "2"})
    same = KeyScope(ALICE, "POST", "/x/{id}/y/{p}", {"p": "2", "id": "1"})
    assert scope.record_id("k") == same.record_id("k")
    assert scope.route == "POST /x/{id}/y/{p}"
    others = [
        KeyScope(AccountId("bob", "usr.example.org"), "POST", "/x/{id}/y/{p}", scope.params),
        KeyScope(AccountId("alice", "usr.example.com"), "POST", "/x/{id}/y/{p}", scope.params),
        KeyScope(ALICE, "PUT", "/x/{id}/y/{p}", scope.params),
        KeyScope(ALICE, "POST", "/z/{id}/y/{p}", scope.params),
        KeyScope(ALICE, "POST", "/x/{id}/y/{p}", {"id": "1", "p": "3"}),
    ]
    ids = {scope.record_id("k"), scope.record_id("k2")} | {o.record_id("k") for o in others}
    assert len(ids) == 7
