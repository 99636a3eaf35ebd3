"""Domain errors of the conversation actions (the API maps them like the store's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.store.errors import ConflictError


class TicketChanged(ConflictError):
    """Another agent changed the ticket first (a lost race, a stale expected_version).

    Carries the ticket's current workflow state, so the client can show it and decide
    again without another request; the API adds it to the problem document as
    ``current``.
    """

    def __init__(self, message: str, current: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.current = dict(current)
        self.extensions: dict[str, Any] = {"current": self.current}
