"""Prefixed, time-sortable identifiers (``tkt_01J9…``), ULID-shaped.

48 bits of milliseconds then 80 random bits, in Crockford base32, so ids sort by
creation time as plain strings (useful as the last tie-breaker of the review queue
cursor) without a database sequence, and are safe to show in URLs and logs.
"""

from __future__ import annotations

import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = 0
_last_random = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_ulid() -> str:
    """26 characters; monotonic within this process even inside one millisecond."""
    global _last_ms, _last_random  # noqa: PLW0603 - the monotonic counter is process state
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            # Same (or a backwards-stepped) millisecond: bump the random part so ids
            # generated in a tight loop still sort in creation order.
            now_ms = _last_ms
            _last_random = (_last_random + 1) % (1 << _RANDOM_BITS)
        else:
            _last_random = secrets.randbits(_RANDOM_BITS)
        _last_ms = now_ms
        return _encode(now_ms, 10) + _encode(_last_random, 16)


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"
