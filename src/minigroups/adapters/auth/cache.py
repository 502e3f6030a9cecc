"""A bounded least-recently-used map whose entries stop being returned at their expiry time."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringLru(Generic[K, V]):
    """At most `max_size` entries (0 keeps none); an entry is never returned at or after expiry.

    Not thread-safe: it lives on one event loop, like the rest of the service.
    """

    __slots__ = ("_entries", "_max_size")

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._entries: OrderedDict[K, tuple[V, float | None]] = OrderedDict()

    def get(self, key: K, now: float) -> V | None:
        """The live value for `key`, or None (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and now >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, expires_at: float | None) -> None:
        """Store `value` until `expires_at` (None: until evicted), evicting the least recent."""
        if self._max_size <= 0:
            return
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
