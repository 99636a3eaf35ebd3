"""The review service's durable store: tickets, drafts, reviews, outbox, drafting leases,
idempotency keys and API tokens.

Services take a ``Session`` and only flush; callers own the transaction
(``with sessions.begin() as session: ...``).  See ``db`` for engines and migrations.
"""

from app.store.db import create_engine_for, migrate, session_factory
from app.store.errors import (
    ConflictError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    StoreError,
)
from app.store.models import (
    ApiToken,
    AuditLog,
    Draft,
    IdempotencyRecord,
    OutboxMessage,
    ReviewEvent,
    Ticket,
)

__all__ = [
    "ApiToken",
    "AuditLog",
    "ConflictError",
    "Draft",
    "IdempotencyRecord",
    "InvalidInputError",
    "InvalidStateError",
    "NotFoundError",
    "OutboxMessage",
    "ReviewEvent",
    "StoreError",
    "Ticket",
    "create_engine_for",
    "migrate",
    "session_factory",
]
