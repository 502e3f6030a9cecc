"""Console sessions: signed ids, server-side expiry and logout, CSRF tokens per session."""

from __future__ import annotations

from minigroups.console.sessions import Sessions
from minigroups.domain.ids import AccountId

ADMIN = AccountId("admin", "usr.example.org")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_by_its_cookie_until_it_expires() -> None:
    clock = Clock()
    sessions = Sessions(60, clock=clock)
    cookie, session = sessions.open(ADMIN)
    assert sessions.find(cookie) == session
    clock.now += 59
    assert sessions.find(cookie) == session
    clock.now += 1
    assert sessions.find(cookie) is None
    assert sessions.find(cookie) is None  # and it is forgotten


def test_forged_and_foreign_cookies_open_nothing() -> None:
    sessions = Sessions(60)
    cookie, _ = sessions.open(ADMIN)
    session_id, _, signature = cookie.rpartition(".")
    other = "B" if signature.endswith("A") else "A"  # a changed signature, never the same one
    assert sessions.find(f"{session_id}.{signature[:-1]}{other}") is None
    assert sessions.find(session_id) is None
    assert sessions.find("") is None
    assert sessions.find(None) is None
    assert sessions.find("é.é") is None  # not ASCII: refused, not an error
    assert Sessions(60).find(cookie) is None  # another process's key


def test_logout_ends_the_session_on_the_server() -> None:
    sessions = Sessions(60)
    cookie, _ = sessions.open(ADMIN)
    sessions.close(cookie)
    assert sessions.find(cookie) is None


def test_each_session_has_its_own_csrf_token() -> None:
    sessions = Sessions(60)
    _, first = sessions.open(ADMIN)
    _, second = sessions.open(ADMIN)
    assert first.csrf_token != second.csrf_token
    assert first.accepts(first.csrf_token)
    assert not first.accepts(second.csrf_token)
    assert not first.accepts(None)
    assert not first.accepts("")


def test_a_full_table_drops_the_oldest_session() -> None:
    sessions = Sessions(60, capacity=2)
    oldest, _ = sessions.open(ADMIN)
    middle, _ = sessions.open(ADMIN)
    newest, _ = sessions.open(ADMIN)
    assert sessions.find(oldest) is None
    assert sessions.find(middle) is not None
    assert sessions.find(newest) is not None
