"""Standard Webhooks signatures, made by its reference library (`standardwebhooks`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from math import floor

from standardwebhooks import Webhook


def signed_headers(
    message_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`: `v1,<base64>`
    per secret, space-separated (two during a secret's rotation)."""
    seconds = floor(timestamp.timestamp())
    signed_at = datetime.fromtimestamp(seconds, UTC)
    signatures = [Webhook(secret).sign(message_id, signed_at, body) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": " ".join(signatures),
    }
