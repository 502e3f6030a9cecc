"""Listing an audience's minigroups as a schedule: filters, their SQL-shaped branches, cursors.

The order is the time window's start ascending (an unbounded start first), then the id. A status
is what a read by id says: the first live recording's stage when there is one (kept on the class
row as `recording_stage`), otherwise `real-time` until the window's end has passed, then `closed`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from minigroups.domain.errors import InvalidCursor, InvalidQueryString
from minigroups.domain.minigroup import Recording, Status, recorded_status

NO_RECORDING = "none"  # `recording_stage` of a class without live recordings
STAGES = (NO_RECORDING, Status.FINISHED.value, Status.ADJUSTED.value, Status.TRANSCODED.value)
MAX_CURSOR_LENGTH = 512

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Not a secret: a cursor carries no authority (the audience is authorized on every page and a
# forged position only moves the start of a walk the caller may make anyway). The MAC makes a
# cursor that was cut, edited or made for other filters a clean 400 instead of a wrong page.
_CURSOR_KEY = b"minigroups listing cursor v1"
_CURSOR_VERSION = 1


def recording_stage(recordings: Sequence[Recording]) -> str:
    """What `recording_stage` holds for these live recordings."""
    status = recorded_status(recordings)
    return NO_RECORDING if status is None else status.value


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ended: the last item's start (None: unbounded) and id."""

    start: datetime | None
    id: UUID


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """`status` (None: any), and the window `[from, to)` a minigroup's window must overlap."""

    statuses: frozenset[Status] | None = None
    from_: datetime | None = None  # the minigroup's end is after it (or unbounded)
    to: datetime | None = None  # the minigroup's start is before it (or unbounded)
    scope_prefix: str | None = None

    @classmethod
    def build(
        cls,
        statuses: Sequence[Status] | None,
        from_: datetime | None,
        to: datetime | None,
        scope_prefix: str | None,
    ) -> ListingFilter:
        """Normalized: every status is no status filter, an empty prefix is none."""
        if from_ is not None and to is not None and from_ >= to:
            raise InvalidQueryString("`from` must be before `to`")
        chosen = frozenset(statuses) if statuses else None
        if chosen is not None and chosen == frozenset(Status):
            chosen = None
        return cls(chosen, from_, to, scope_prefix or None)

    def digest(self) -> str:
        """A stable fingerprint, so that a cursor only continues the walk it came from."""
        statuses = None if self.statuses is None else sorted(s.value for s in self.statuses)
        canonical = [statuses, _micros(self.from_), _micros(self.to), self.scope_prefix]
        text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class EndBound:
    """The window's end must lie after `at` (or at it, when `inclusive`), or be unbounded."""

    at: datetime
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Branch:
    """One conjunction the storage can walk in schedule order along one index.

    `stage`: `recording_stage` equals it (None: any); `end_from`: see EndBound; `end_before`:
    the window's end is bounded and before it.
    """

    stage: str | None
    end_from: EndBound | None = None
    end_before: datetime | None = None


def branches(listing: ListingFilter, now: datetime) -> list[Branch]:
    """Disjoint branches whose union is exactly the filtered minigroups (start and scope aside).

    `real-time`: no recording and `not has_ended(now)`, i.e. end >= now or unbounded. `closed`:
    no recording and end < now. The others: the stage alone. `from` bounds every end from below.
    """
    from_ = None if listing.from_ is None else EndBound(listing.from_, inclusive=False)
    if listing.statuses is None:
        return [Branch(None, from_)]
    found: list[Branch] = []
    for status in sorted(listing.statuses, key=lambda s: list(Status).index(s)):
        if status is Status.REAL_TIME:
            found.append(Branch(NO_RECORDING, _later(from_, EndBound(now, inclusive=True))))
        elif status is Status.CLOSED:
            found.append(Branch(NO_RECORDING, from_, end_before=now))
        else:
            found.append(Branch(status.value, from_))
    return found


def _later(first: EndBound | None, second: EndBound) -> EndBound:
    """The stricter of two lower bounds on the end."""
    if first is None or second.at > first.at:
        return second
    if first.at > second.at:
        return first
    return EndBound(first.at, first.inclusive and second.inclusive)


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(audience: str, listing: ListingFilter, position: Position) -> str:
    """`<base64url JSON>.<base64url MAC>`: opaque to clients, bound to audience and filters."""
    body = {
        "v": _CURSOR_VERSION,
        "a": audience,
        "f": listing.digest(),
        "s": _micros(position.start),
        "i": str(position.id),
    }
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return f"{_b64(payload)}.{_b64(_mac(payload))}"


def decode_cursor(cursor: str, audience: str, listing: ListingFilter) -> Position:
    """The position a cursor of this audience and these filters names; InvalidCursor otherwise."""
    payload = _verified_payload(cursor)
    try:
        body = json.loads(payload)
        version, owner, digest = body["v"], body["a"], body["f"]
        start, last_id = body["s"], UUID(body["i"])
        position = Position(_from_micros(start), last_id)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidCursor("The cursor is malformed") from exc
    if version != _CURSOR_VERSION:
        raise InvalidCursor("The cursor is of another version")
    if owner != audience:
        raise InvalidCursor("The cursor belongs to another audience")
    if digest != listing.digest():
        raise InvalidCursor("The cursor belongs to other filters")
    return position


def _verified_payload(cursor: str) -> bytes:
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursor("The cursor is malformed")
    encoded_payload, dot, encoded_mac = cursor.partition(".")
    try:
        payload = _unb64(encoded_payload)
        mac = _unb64(encoded_mac)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("The cursor is malformed") from exc
    if not dot or not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidCursor("The cursor is malformed or was altered")
    return payload


def _mac(payload: bytes) -> bytes:
    return hmac.new(_CURSOR_KEY, payload, hashlib.sha256).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


def _from_micros(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("the start is not an integer")
    return _EPOCH + value * _MICROSECOND
