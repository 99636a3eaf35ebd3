"""The review queue's page (GET /v1/review/queue): each row a ticket with its current
draft, assignee and SLA clocks.  Written by services/review_queue.py, documented here."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.conversation_schemas import SlaPublic
from app.api.schemas import TicketPublic


class QueueSla(SlaPublic):
    next_due: datetime | None = Field(
        description="The soonest due time of the running clocks: what `sort=due` orders by."
    )


class QueueItem(TicketPublic):
    """A queue row: the ticket with its current draft, its assignee and SLA clocks."""

    assignee: str | None = Field(description="The agent (token name) who has the ticket.")
    sla: QueueSla


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )
