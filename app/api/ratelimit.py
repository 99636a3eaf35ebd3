"""An in-process token bucket per client, for the public /v1/ask endpoint.

Per process: with N uvicorn workers a client gets up to N times the rate in the worst
case, which is acceptable for abuse protection of a help widget.  A deployment that
needs one global limit would keep the buckets in Redis (one ``EVAL`` of the same
arithmetic per request); the interface here is what it would implement.

The client is ``request.client.host``, the TCP peer: ``triage serve`` believes
``X-Forwarded-For`` only from the proxies in ``TRIAGE_FORWARDED_ALLOW_IPS`` (default
none), so a caller cannot rotate a header to get a fresh bucket per request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucketLimiter:
    """``capacity`` requests at once, refilled at ``per_minute`` per minute."""

    def __init__(
        self,
        per_minute: int,
        *,
        capacity: int | None = None,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(capacity or per_minute)
        self.max_clients = max_clients
        self.clock = clock
        # client -> (tokens, last refill); ordered by last use so the oldest is evicted.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float | None:
        """Take one token: None when allowed, else seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                allowed = True
            else:
                self._buckets[client] = (tokens, now)
                allowed = False
            while len(self._buckets) > self.max_clients:
                # A forgotten client simply starts again with a full bucket.
                self._buckets.popitem(last=False)
        if allowed:
            return None
        return (1.0 - tokens) / self.rate
