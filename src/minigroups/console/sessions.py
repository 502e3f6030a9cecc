"""Console sessions: kept in this process, named to the browser by a signed random id.

A session is opened by a login and holds the admin's account and its CSRF token (the
synchronizer token every changing form carries). It ends at logout or after its lifetime. The
signing key is random per process, so a restart logs everybody out; so does a full table (the
oldest session goes first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from minigroups.domain.ids import AccountId

MAX_SESSIONS = 1000


@dataclass(frozen=True, slots=True)
class Session:
    account: AccountId
    csrf_token: str
    expires_at: float  # on the sessions' clock (monotonic seconds)

    def accepts(self, submitted: str | None) -> bool:
        """The form's CSRF token is this session's (compared in constant time)."""
        return submitted is not None and hmac.compare_digest(
            submitted.encode(), self.csrf_token.encode()
        )


class Sessions:
    def __init__(
        self,
        lifetime: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = MAX_SESSIONS,
    ) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._capacity = capacity
        self._key = secrets.token_bytes(32)
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, account: AccountId) -> tuple[str, Session]:
        """A new session for `account`; returns the cookie value that names it."""
        self._forget_expired()
        while len(self._sessions) >= self._capacity:
            self._sessions.popitem(last=False)
        session_id = secrets.token_urlsafe(32)
        session = Session(account, secrets.token_urlsafe(32), self._clock() + self.lifetime)
        self._sessions[session_id] = session
        return f"{session_id}.{self._sign(session_id)}", session

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie names; None for a missing, forged, ended or expired one."""
        session_id = self._verified(cookie)
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= self._clock():
            del self._sessions[session_id]
            return None
        return session

    def close(self, cookie: str | None) -> None:
        session_id = self._verified(cookie)
        if session_id is not None:
            self._sessions.pop(session_id, None)

    def _verified(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        session_id, _, signature = cookie.rpartition(".")
        expected = self._sign(session_id).encode()
        if not session_id or not hmac.compare_digest(signature.encode(), expected):
            return None
        return session_id

    def _sign(self, session_id: str) -> str:
        digest = hmac.new(self._key, session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _forget_expired(self) -> None:
        now = self._clock()
        for session_id in [sid for sid, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[session_id]
