"""The review queue's read path, the API's hottest route, without ORM objects.

For a page that is only serialised, hydrating identity-mapped ORM tickets and drafts
costs more than the queries.  One statement (the page of tickets, left-joined to their
drafts) runs as a Core select on the given connection, so the page is one consistent
snapshot even without a transaction; the JSON body is written in the public shape
(``QueuePage``) directly: JSON columns are read as text and embedded as they are, never
parsed and re-encoded (redactions excepted: only their kind and placeholder are public).
Order, filters, page size and the keyset cursor are the store's (``queue_params``,
``page_statement``, ``encode_cursor``); tests/api/test_tickets.py compares whole pages
with SQL written in the test.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Text, cast, select

from app.store.models import Draft, Ticket
from app.store.tickets import QueueQuery, encode_cursor, page_statement, queue_params

_T = Ticket.__table__.c
_D = Draft.__table__.c


def _json_text(column: Any, name: str) -> Any:
    # CAST is a no-op for SQLite's TEXT and renders JSONB as text on PostgreSQL.
    return cast(column, Text).label(name)


_TICKET = (
    _T.id,
    _T.status,
    _T.channel,
    _T.reporter,
    _T.message,
    _json_text(_T["metadata"], "metadata"),
    _json_text(_T.triage, "triage"),
    _json_text(_T.signals, "signals"),
    _json_text(_T.redactions, "redactions"),
    _T.category,
    _T.priority,
    _T.team,
    _T.external_ref,
    _T.created_at,
    _T.updated_at,
)
_DRAFT_FIELDS = (
    ("id", _D.id),
    ("ticket_id", _D.ticket_id),
    ("version", _D.version),
    ("status", _D.status),
    ("text", _D.text),
    ("final_text", _D.final_text),
    ("citations", cast(_D.citations, Text)),
    ("confidence", _D.confidence),
    ("needs_human", _D.needs_human),
    ("reason", _D.reason),
    ("created_at", _D.created_at),
    ("approved_by", _D.approved_by),
    ("approved_at", _D.approved_at),
)
# Labelled: tickets and drafts share column names in the joined row.
_DRAFT = tuple(column.label(f"draft_{name}") for name, column in _DRAFT_FIELDS)
# Both in the field order of TicketPublic / DraftPublic, so the body lists keys as the
# other routes' bodies do.
_TICKET_KEYS = tuple(column.key for column in _TICKET)
_DRAFT_KEYS = tuple(name for name, _ in _DRAFT_FIELDS)
_RAW_TICKET_KEYS = ("metadata", "triage", "signals")


def _raw(value: str | None) -> orjson.Fragment | None:
    return None if value is None else orjson.Fragment(value)


# One joined statement per query shape (which parameters it binds): at most 2^5 of
# them.  Rebuilding it per request re-derived the subquery's columns and re-adapted
# SQLAlchemy's cached result metadata to a new statement object: more than the SQL cost.
@functools.cache
def _page_with_drafts(bound: frozenset[str]) -> Select[Any]:
    page = page_statement(select(*_TICKET), bound).subquery("page")
    return (
        select(*page.c, *_DRAFT)
        .select_from(page.outerjoin(Draft.__table__, _D.ticket_id == page.c.id))
        .order_by(page.c.priority, page.c.created_at, page.c.id, _D.version)
    )


def queue_page_json(connection: Connection, query: QueueQuery) -> bytes:
    """One page of the queue as the response body: ``{"items": [...], "next_cursor": ...}``."""
    params, limit = queue_params(query)
    stmt = _page_with_drafts(frozenset(params))
    tickets: dict[str, dict[str, Any]] = {}
    drafts: dict[str, dict[str, Any]] = {}
    width = len(_TICKET_KEYS)
    for row in connection.execute(stmt, params):
        ticket_id = row[0]
        if ticket_id not in tickets:
            tickets[ticket_id] = dict(zip(_TICKET_KEYS, row[:width], strict=True))
        if row[width] is None:
            continue  # a ticket without drafts
        # The current draft: the pending one, else the latest version.
        held = drafts.get(ticket_id)
        if held is None or held["status"] != "pending":
            drafts[ticket_id] = dict(zip(_DRAFT_KEYS, row[width:], strict=True))
    page_rows = list(tickets.values())
    next_cursor = None
    if len(page_rows) > limit:
        page_rows = page_rows[:limit]
        last = page_rows[-1]
        marker = Ticket(priority=last["priority"], created_at=last["created_at"], id=last["id"])
        next_cursor = encode_cursor(marker)
    items = []
    for ticket in page_rows:
        created_at, updated_at = ticket.pop("created_at"), ticket.pop("updated_at")
        for key in _RAW_TICKET_KEYS:
            ticket[key] = _raw(ticket[key])
        ticket["redactions"] = [
            {"kind": r.get("kind"), "placeholder": r.get("placeholder")}
            for r in orjson.loads(ticket["redactions"] or "[]")
        ]
        draft = drafts.get(ticket["id"])
        if draft is not None:
            draft["citations"] = _raw(draft["citations"])
        items.append({**ticket, "draft": draft, "created_at": created_at, "updated_at": updated_at})
    # OPT_UTC_Z: datetimes end in "Z", as pydantic writes them on every other route.
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)
