"""Signed agency callbacks: HMAC-SHA256 over timestamp, nonce and body with the agency's secret.

The agency (or its simulator) signs with ``sign``; the service checks with ``verify``. Replay
protection (remembering nonces) is the service's job, since only it has the durable store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER_TIMESTAMP = "X-Signature-Timestamp"
HEADER_NONCE = "X-Signature-Nonce"
HEADER_SIGNATURE = "X-Signature"


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: float | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers an agency sends with a callback body."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    n = nonce or secrets.token_hex(16)
    return {HEADER_TIMESTAMP: ts, HEADER_NONCE: n, HEADER_SIGNATURE: signature(secret, ts, n, body)}


def verify(secret: str, timestamp: str, nonce: str, body: bytes, given: str) -> bool:
    """Constant-time comparison of the expected and the given signature."""
    return hmac.compare_digest(signature(secret, timestamp, nonce, body), given)


__all__ = ["HEADER_NONCE", "HEADER_SIGNATURE", "HEADER_TIMESTAMP", "sign", "signature", "verify"]
