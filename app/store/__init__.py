"""The review service's durable store: tickets, drafts, reviews, outbox, drafting leases,
idempotency keys and API tokens.

Services take a ``Session`` and only flush; callers own the transaction
(``with sessions.begin() as session: ...``).  See ``db`` for engines and migrations.
"""

# The conversation, contact, metric, auto-send, self-service and embedding-job tables live
# on the same Base: importing them here registers them with its metadata wherever the store
# is used (migrations, the schema test).
from app.store import askers as askers
from app.store import autosend as autosend
from app.store import contacts as contacts
from app.store import conversations as conversations
from app.store import embed_job_tables as embed_job_tables
from app.store import embed_jobs as embed_jobs
from app.store import metric_facts as metric_facts
from app.store import metric_rollups as metric_rollups
from app.store import self_service as self_service
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
