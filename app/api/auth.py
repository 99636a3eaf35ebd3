"""Bearer-token authentication with a short in-process cache.

Every authenticated request would otherwise cost one token lookup; the cache keeps a
verified principal for ``ttl`` seconds (``TRIAGE_AUTH_CACHE_SECONDS``, default 5), so a
revoked token stops working within that time in every process.  Set it to 0 for
immediate revocation at one query per request.  Unknown tokens are not cached: a
token created a moment ago works at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app.store import api_tokens
from app.store.api_tokens import Principal

MAX_CACHED = 4096


class TokenAuthenticator:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.clock = clock
        # Keyed by the token's sha256, never the plaintext.
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, plaintext: str) -> Principal | None:
        """The principal if verified within ``ttl``; None means "ask the database"."""
        if self.ttl <= 0:
            return None
        digest = api_tokens.hash_token(plaintext)
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and hit[1] > self.clock():
                self._cache.move_to_end(digest)
                return hit[0]
        return None

    def authenticate(self, plaintext: str) -> Principal | None:
        """Cache, then database (blocking: call from a worker thread)."""
        hit = self.cached(plaintext)
        if hit is not None:
            return hit
        digest = api_tokens.hash_token(plaintext)
        now = self.clock()
        with self.sessions() as session:
            principal = api_tokens.authenticate(session, plaintext)
        if principal is not None and self.ttl > 0:
            with self._lock:
                self._cache[digest] = (principal, now + self.ttl)
                while len(self._cache) > MAX_CACHED:
                    self._cache.popitem(last=False)
        return principal

    def forget(self) -> None:
        """Drop every cached principal (after a revocation in this process)."""
        with self._lock:
            self._cache.clear()
