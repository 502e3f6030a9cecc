"""JSON as it travels through the service: any decoded value, and an object of them."""

from __future__ import annotations

from typing import Any

JsonValue = Any
JsonObject = dict[str, Any]
