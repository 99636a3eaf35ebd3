"""Domain errors raised by the store; the API layer maps each to one HTTP status.

Every service only flushes, so when one of these is raised the caller's transaction
may hold partial writes: roll it back (``with sessions.begin():`` does so).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: something the caller asked for cannot be done as asked."""


class NotFoundError(StoreError):
    """The named ticket, draft, message or token does not exist (404)."""


class ConflictError(StoreError):
    """Someone else changed the row first: a second approval, a stale version (409)."""


class InvalidStateError(StoreError):
    """The row exists but its status does not allow this action (409)."""


class InvalidInputError(StoreError, ValueError):
    """An argument the API layer should have rejected: unknown reason code, bad cursor (400)."""
