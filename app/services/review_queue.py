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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Text, and_, bindparam, cast, func, literal, or_, select

from app.conversations.policy import SlaPolicy
from app.conversations.sla import SlaEvent, compute
from app.store.conversations import TicketState
from app.store.models import Draft, Ticket
from app.store.tickets import (
    NO_DUE,
    QueueQuery,
    QueueSort,
    encode_cursor,
    page_statement,
    queue_params,
)
from app.triage.results import recorded_checks

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
    ("checks", cast(_D.provenance, Text)),  # the provenance, reduced to its checks below
)
_S = TicketState.__table__.c
# The workflow columns a console row shows (assignee, SLA clocks), after the ticket's.
_STATE = (
    _S.ticket_id.label("state_ticket_id"),
    _S.assignee.label("state_assignee"),
    _S.sla_first_response_due.label("state_first_response_due"),
    _S.sla_next_response_due.label("state_next_response_due"),
    _S.sla_resolution_due.label("state_resolution_due"),
    _S.sla_next_due.label("state_next_due"),
    _S.sla_breached.label("state_breached"),
    _S.sla_paused.label("state_paused"),
)
# The due-time order's key: a ticket without a running clock sorts after every other.
_DUE = func.coalesce(_S.sla_next_due, literal(NO_DUE, type_=_S.sla_next_due.type))


@dataclass(frozen=True)
class Workflow:
    """The console's view of the queue: each row's assignee and SLA, and two filters.

    A ticket no agent has acted on has no state row yet: its first-response clock is
    computed here from the policy, exactly as the conversation view computes it.
    ``breached`` keeps only tickets whose clocks ran past a target at ``now``;
    ``assignee`` only the tickets assigned to that agent ("mine").
    """

    policy: SlaPolicy
    now: datetime
    assignee: str | None = None
    breached: bool = False


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
def _page_with_drafts(
    bound: frozenset[str], workflow: bool = False, sort: QueueSort = "priority"
) -> Select[Any]:
    by_due = sort == "due"
    if not (workflow or by_due):
        page = page_statement(select(*_TICKET), bound).subquery("page")
    else:
        due = (_DUE.label("due_key"),) if by_due else ()
        rows = select(*_TICKET, *_STATE, *due).select_from(
            Ticket.__table__.outerjoin(TicketState.__table__, _S.ticket_id == _T.id)
        )
        if "wf_assignee" in bound:
            rows = rows.where(_S.assignee == bindparam("wf_assignee"))
        if "wf_now" in bound:
            # A superset (no state row: older than the shortest first-response target);
            # the exact clocks are checked per row in Python.
            rows = rows.where(
                or_(
                    _S.sla_breached.is_(True),
                    _S.sla_next_due < bindparam("wf_now", type_=_S.sla_next_due.type),
                    and_(
                        _S.ticket_id.is_(None),
                        _T.created_at < bindparam("wf_opened_before", type_=_T.created_at.type),
                    ),
                )
            )
        page = page_statement(rows, bound, _DUE if by_due else None).subquery("page")
    order = [page.c.priority, page.c.created_at, page.c.id, _D.version]
    if by_due:
        order.insert(0, page.c.due_key)
    return (
        select(*page.c, *_DRAFT)
        .select_from(page.outerjoin(Draft.__table__, _D.ticket_id == page.c.id))
        .order_by(*order)
    )


def _sla(workflow: Workflow, ticket: dict[str, Any], state: tuple[Any, ...]) -> dict[str, Any]:
    has_state, _, first, following, resolution, next_due, breached, paused = state
    if has_state is None:
        # No state row yet (the sweep starts one): the opening's clocks, as the
        # conversation view computes them.
        targets = workflow.policy.for_priority(ticket["priority"])
        opened = ticket["created_at"]
        sla = compute(targets, opened, [SlaEvent(opened, "customer")], workflow.now)
        first, resolution = sla.first_response.due, sla.resolution.due
        following, next_due = None, sla.next_due
        breached, paused = sla.breached, sla.paused
    # Stored clocks are as of the ticket's last event (the sweep marks a breach within
    # TRIAGE_SLA_SWEEP_SECONDS): a due time passed since is a breach already.
    late = next_due is not None and next_due < workflow.now
    return {
        "first_response_due": first,
        "next_response_due": following,
        "resolution_due": resolution,
        "next_due": next_due,
        "breached": bool(breached) or late,
        "paused": bool(paused),
    }


def _workflow_params(workflow: Workflow) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if workflow.assignee is not None:
        params["wf_assignee"] = workflow.assignee
    if workflow.breached:
        shortest = min(
            (t.first_response for t in workflow.policy.targets.values()),
            default=timedelta(0),
        )
        params["wf_now"] = workflow.now
        params["wf_opened_before"] = workflow.now - shortest
    return params


def queue_page_json(
    connection: Connection, query: QueueQuery, workflow: Workflow | None = None
) -> bytes:
    """One page of the queue as the response body: ``{"items": [...], "next_cursor": ...}``.

    With ``workflow`` each item also has ``assignee`` and ``sla`` (``first_response_due``,
    ``next_response_due``, ``resolution_due``, ``next_due``, ``breached``, ``paused``).
    ``query.sort == "due"`` orders by the stored next due time (see ``NO_DUE``); due
    times move as tickets are acted on, so unlike the priority order a page boundary
    is only as stable as the clocks it was read with.  The ``breached`` filter may leave
    a page shorter than the limit (rows are dropped after the keyset page is read);
    ``next_cursor`` still says whether more follow."""
    params, limit = queue_params(query)
    if workflow is not None:
        params.update(_workflow_params(workflow))
    by_due = query.sort == "due"
    stmt = _page_with_drafts(frozenset(params), workflow is not None, query.sort)
    tickets: dict[str, dict[str, Any]] = {}
    states: dict[str, tuple[Any, ...]] = {}
    dues: dict[str, datetime] = {}
    drafts: dict[str, dict[str, Any]] = {}
    joined = workflow is not None or by_due
    width = len(_TICKET_KEYS) + (len(_STATE) if joined else 0)
    state_end = width
    width += 1 if by_due else 0
    for row in connection.execute(stmt, params):
        ticket_id = row[0]
        if ticket_id not in tickets:
            tickets[ticket_id] = dict(zip(_TICKET_KEYS, row[: len(_TICKET_KEYS)], strict=True))
            states[ticket_id] = tuple(row[len(_TICKET_KEYS) : state_end])
            if by_due:
                dues[ticket_id] = row[state_end]
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
        next_cursor = encode_cursor(marker, dues[last["id"]] if by_due else None)
    items = []
    for ticket in page_rows:
        extra: dict[str, Any] = {}
        if workflow is not None:
            state = states[ticket["id"]]
            extra = {"assignee": state[1], "sla": _sla(workflow, ticket, state)}
            if workflow.breached and not extra["sla"]["breached"]:
                continue
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
            draft["checks"] = recorded_checks(orjson.loads(draft["checks"] or "null"))
        items.append(
            {
                **ticket,
                "draft": draft,
                "created_at": created_at,
                "updated_at": updated_at,
                **extra,
            }
        )
    # OPT_UTC_Z: datetimes end in "Z", as pydantic writes them on every other route.
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)
