"""The one error the configuration raises to its callers."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used; the one-line message names the source and the key."""
