"""Idempotency keys (Stripe's semantics, the IETF `Idempotency-Key` draft): which keys are valid,
what a key is scoped to, what identifies a request body, and which answers are kept for replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from minigroups.domain.errors import InvalidIdempotencyKey
from minigroups.domain.ids import AccountId

MAX_KEY_LENGTH = 255
_VISIBLE_ASCII = frozenset(range(0x21, 0x7F))  # RFC 5234 VCHAR: no space, no control characters

# Answers that say nothing final about the request: the caller's credentials or rights may change
# (401, 403), it collided with another request (409) or was throttled (429).
_NOT_STORED_4XX = frozenset({401, 403, 409, 429})


def parse_key(raw: bytes) -> str:
    """The key of an `Idempotency-Key` header value: 1-255 visible ASCII characters."""
    if not 1 <= len(raw) <= MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(
            f"`Idempotency-Key` must be 1 to {MAX_KEY_LENGTH} characters, got {len(raw)}"
        )
    if not _VISIBLE_ASCII.issuperset(raw):
        raise InvalidIdempotencyKey(
            "`Idempotency-Key` must be visible ASCII characters (no spaces or control characters)"
        )
    return raw.decode("ascii")


def fingerprint(body: bytes) -> str:
    """What identifies a request's body: the SHA-256 of its raw bytes, in hex."""
    return hashlib.sha256(body).hexdigest()


def is_stored(status: int) -> bool:
    """Whether an answer is kept for replay: 2xx and 4xx, except 401, 403, 409 and 429.

    5xx (the upstream failures 502, 503 and 504 among them) are not: the key is released so that
    a retry runs again.
    """
    return 200 <= status < 300 or (400 <= status < 500 and status not in _NOT_STORED_4XX)


@dataclass(frozen=True, slots=True)
class KeyScope:
    """What a key belongs to: the caller's account and the route, which is the method, the path
    template and the path parameters (decoded; ids in their canonical form)."""

    account: AccountId
    method: str
    template: str
    params: Mapping[str, str]

    @property
    def route(self) -> str:
        return f"{self.method} {self.template}"

    def record_id(self, key: str) -> str:
        """The stored key's identity: a SHA-256 over the scope and the key (fixed length, so the
        database index never meets a long audience, scope or label)."""
        parts = [
            self.account.label,
            self.account.audience,
            self.method,
            self.template,
            sorted(self.params.items()),
            key,
        ]
        text = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("ascii")).hexdigest()
