"""The svc-agent JSON envelope on MQTT 3.1.1 (upstream §1.5, D25): build and read messages.

On the wire: `{"payload": "<JSON text>", "properties": {<string>: <string>}}`. What we publish has
exactly the reference's properties; what we read is taken leniently (only `type`, `status`,
`correlation_data` and `label` matter), as a broker such as mqtt-gateway adds many more.
"""

from __future__ import annotations

import random
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from minigroups.adapters.ulms.errors import MalformedEnvelope
from minigroups.domain.json_value import JsonValue

CORRELATION_ALPHABET = string.ascii_letters + string.digits
CORRELATION_LENGTH = 16


class _Wire(msgspec.Struct):
    payload: str
    properties: dict[str, Any] = msgspec.field(default_factory=dict)


_encoder = msgspec.json.Encoder()
_correlation_random = random.Random(secrets.token_bytes(16))  # noqa: S311 - see new_correlation_data
_decoder = msgspec.json.Decoder(_Wire)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message: the JSON text of its body and its string properties."""

    payload: str
    properties: dict[str, str]

    @property
    def type(self) -> str | None:
        return self.properties.get("type")

    def body(self) -> JsonValue:
        """The decoded `payload`; raise MalformedEnvelope when it is not JSON."""
        try:
            body: JsonValue = msgspec.json.decode(self.payload)
        except msgspec.DecodeError as exc:
            raise MalformedEnvelope(f"payload is not JSON: {exc}") from exc
        return body

    def encode(self) -> bytes:
        return _encoder.encode(_Wire(self.payload, dict(self.properties)))


def new_correlation_data() -> str:
    """16 random characters of [A-Za-z0-9], as svc-agent makes them.

    A correlation value must be unique among the requests in flight (`Correlations.open`
    checks), not secret: one draw from a seeded generator, not 16 reads of the OS's.
    """
    return "".join(_correlation_random.choices(CORRELATION_ALPHABET, k=CORRELATION_LENGTH))


def unix_ms(now: float | None = None) -> str:
    """A timestamp property: unix milliseconds as a decimal string."""
    return str(int((time.time() if now is None else now) * 1000))


def to_text(body: JsonValue) -> str:
    return _encoder.encode(body).decode()


def request(
    *,
    method: str,
    body: JsonValue,
    correlation_data: str,
    response_topic: str,
    timestamp: str,
    tracking: Mapping[str, str] | None = None,
) -> Envelope:
    """A request: exactly type, method, correlation_data, response_topic, timestamp, plus the
    tracking properties (`tracking_id`, `session_tracking_label`) when it serves an HTTP request
    (adapters/ulms/tracking.py)."""
    return Envelope(
        to_text(body),
        {
            "type": "request",
            "method": method,
            "correlation_data": correlation_data,
            "response_topic": response_topic,
            "timestamp": timestamp,
            **(tracking or {}),
        },
    )


def event(*, label: str, body: JsonValue, timestamp: str) -> Envelope:
    """An event (a notification): exactly type, label, timestamp."""
    return Envelope(to_text(body), {"type": "event", "label": label, "timestamp": timestamp})


def decode(raw: bytes) -> Envelope:
    """Read an envelope leniently: numbers and booleans in properties become strings, other
    non-string values are dropped. Raise MalformedEnvelope when it is not an envelope at all."""
    try:
        wire = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedEnvelope(f"not an envelope: {exc}") from exc
    properties: dict[str, str] = {}
    for key, value in wire.properties.items():
        if isinstance(value, str):
            properties[key] = value
        elif isinstance(value, bool):
            properties[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            properties[key] = str(value)
    return Envelope(wire.payload, properties)


def status_of(envelope: Envelope) -> int:
    """The `status` property of a response as an integer; raise MalformedEnvelope otherwise."""
    text = envelope.properties.get("status")
    if text is None or not text.isdigit():
        raise MalformedEnvelope(f"response status {text!r} is not a number")
    return int(text)
