"""Six tickets with a known history, written straight into the store's tables.

The expected numbers in the view, template and stats tests are computed by hand from
the timeline below (UTC).  Two agents: alice (token tok_A) and bob (token tok_B).

- T1  Mon 2024-03-04 09:00  api/auth/P1 (predicted P2, corrected), en, platform.
      Draft d1 (offline) 09:00:30, approved unedited by alice 09:10; assigned to alice
      09:05, solved by alice 10:00.  Cites docs/auth.  Signals E_AUTH_401, req_123abc.
- T2  Tue 03-05 14:00  slack/payouts/P2, es, payments, assigned to bob.  Draft d2 (llm,
      100+50 tokens) 14:02, edited by bob at 15:00 (distance 7).  Stored first-response
      due 16:00 (met by the 15:00 reply), resolution due 03-06 14:00 (past: breached).
- T3  Wed 03-06 08:00  widget via /v1/ask, auth/P3 (predicted webhooks, corrected), en.
      Draft d3 08:00:10 rejected (inaccurate) by alice 08:30; alice writes the reply
      (draft d4, agent) 08:40; solved by alice 09:00; the developer follows up at 10:00
      (reopened), draft d5 10:00:05 stays pending; bob's note 10:20, bob solves 11:00.
      Stored state: first response breached.
- T4  Mon 03-11 10:00  api/auth/P1, no conversation state.  Draft d6 10:01 superseded by
      d7 10:05, auto-sent at 10:05.
- T5  Tue 03-12 12:00  api/payouts/P1, pt, assigned to bob.  Draft d8 12:00:20 pending;
      stored first-response due 12:30, no reply: breached.
- T6  Tue 03-12 13:00  email, no category, P4, paused, next-response due in 2999.
      Its message mentions E_PAYOUT_STUCK.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.operations.metrics.values import plain_rows
from app.store.conversations import TicketCorrection, TicketMessage, TicketState
from app.store.models import Draft, ReviewEvent, Ticket

ALICE = "tok_A:alice"
BOB = "tok_B:bob"
FAR_FUTURE = datetime(2999, 1, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


def _ticket(
    ticket_id: str,
    created: datetime,
    *,
    channel: str,
    category: str | None,
    priority: str,
    team: str | None,
    status: str,
    triage: dict[str, Any],
    signals: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    message: str = "help",
) -> Ticket:
    return Ticket(
        id=ticket_id,
        channel=channel,
        reporter="dev@example.com",
        message=message,
        meta=metadata or {},
        triage=triage,
        signals=signals or {},
        redactions=[],
        category=category,
        priority=priority,
        team=team,
        status=status,
        created_at=created,
        updated_at=created,
    )


def _draft(
    draft_id: str,
    ticket_id: str,
    version: int,
    created: datetime,
    status: str,
    *,
    drafter: str = "offline",
    text: str = "draft",
    final_text: str | None = None,
    approved_by: str | None = None,
    citations: list[dict[str, Any]] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Draft:
    return Draft(
        id=draft_id,
        ticket_id=ticket_id,
        version=version,
        text=text,
        citations=citations or [],
        confidence=0.8,
        needs_human=False,
        reason=None,
        provenance={"drafter": drafter, **(provenance or {})},
        status=status,
        final_text=final_text if final_text is not None else (text if approved_by else None),
        created_at=created,
        approved_by=approved_by,
        approved_at=created if approved_by and drafter == "agent" else None,
    )


def _message(
    ticket_id: str,
    seq: int,
    when: datetime,
    kind: str,
    author: str | None,
    *,
    event: str | None = None,
    text: str = "…",
) -> TicketMessage:
    return TicketMessage(
        id=f"msg_{ticket_id}_{seq}",
        ticket_id=ticket_id,
        seq=seq,
        kind=kind,
        author=author,
        text=text,
        redactions=[],
        event=event,
        meta={},
        created_at=when,
    )


def _state(ticket_id: str, updated: datetime, **values: Any) -> TicketState:
    base: dict[str, Any] = {"version": 1, "sla_breached": False, "sla_paused": False}
    base.update(values)
    return TicketState(ticket_id=ticket_id, updated_at=updated, **base)


def _review(
    review_id: str, draft: str, ticket: str, when: datetime, action: str, who: str, **more: Any
) -> ReviewEvent:
    return ReviewEvent(
        id=review_id,
        ticket_id=ticket,
        draft_id=draft,
        action=action,
        reviewer=who,
        created_at=when,
        **more,
    )


def _tickets() -> list[Ticket]:
    return [
        _ticket(
            "tkt_01", at(4, 9), channel="api", category="auth", priority="P1",
            team="platform", status="solved",
            triage={"category": "auth", "priority": "P2", "language": "en"},
            signals={"error_codes": ["E_AUTH_401"], "request_ids": ["req_123abc"],
                     "http_statuses": [401]},
        ),
        _ticket(
            "tkt_02", at(5, 14), channel="slack", category="payouts", priority="P2",
            team="payments", status="approved",
            triage={"category": "payouts", "priority": "P2", "language": "es"},
            signals={"error_codes": ["E_PAYOUT_STUCK"]},
        ),
        _ticket(
            "tkt_03", at(6, 8), channel="widget", category="auth", priority="P3",
            team="platform", status="solved", metadata={"source": "ask"},
            triage={"category": "webhooks", "priority": "P3", "language": "en"},
            signals={"unknown_error_codes": ["E_WEIRD_9"], "request_ids": ["req_999zzz"]},
        ),
        _ticket(
            "tkt_04", at(11, 10), channel="api", category="auth", priority="P1",
            team="platform", status="sent",
            triage={"category": "auth", "priority": "P1", "language": "en"},
        ),
        _ticket(
            "tkt_05", at(12, 12), channel="api", category="payouts", priority="P1",
            team="payments", status="pending_review",
            triage={"category": "payouts", "priority": "P1", "language": "pt"},
        ),
        _ticket(
            "tkt_06", at(12, 13), channel="email", category=None, priority="P4", team=None,
            status="pending_review", triage={}, message="got E_PAYOUT_STUCK again",
        ),
    ]  # fmt: skip


def _drafts() -> list[Draft]:
    d1 = _draft(
        "drf_1", "tkt_01", 1, at(4, 9, 0, 30), "sent", approved_by=ALICE,
        citations=[{"chunk_id": "c1", "doc_id": "docs/auth", "source": "docs/auth.md",
                    "url": None, "quote": "q"}],
    )  # fmt: skip
    d1.approved_at = at(4, 9, 10)
    d2 = _draft(
        "drf_2", "tkt_02", 1, at(5, 14, 2), "approved", drafter="llm", text="B",
        final_text="B edited", approved_by=BOB,
        provenance={"model": "gpt-test", "prompt_tokens": 100, "completion_tokens": 50},
        citations=[{"chunk_id": "c2", "doc_id": "docs/payouts"},
                   {"chunk_id": "c3", "doc_id": "docs/auth"}],
    )  # fmt: skip
    d2.approved_at = at(5, 15)
    d4 = _draft(
        "drf_4", "tkt_03", 2, at(6, 8, 40), "sent", drafter="agent", text="hand",
        approved_by=ALICE,
    )  # fmt: skip
    d7 = _draft("drf_7", "tkt_04", 2, at(11, 10, 5), "sent", approved_by="system:auto-send")
    d7.approved_at = at(11, 10, 5)
    return [
        d1,
        d2,
        _draft("drf_3", "tkt_03", 1, at(6, 8, 0, 10), "rejected"),
        d4,
        _draft("drf_5", "tkt_03", 3, at(6, 10, 0, 5), "pending"),
        _draft("drf_6", "tkt_04", 1, at(11, 10, 1), "superseded"),
        d7,
        _draft("drf_8", "tkt_05", 1, at(12, 12, 0, 20), "pending"),
    ]


def _messages() -> list[TicketMessage]:
    return [
        _message("tkt_01", 1, at(4, 9), "customer", "dev@example.com"),
        _message("tkt_01", 2, at(4, 9, 5), "system", ALICE, event="assigned"),
        _message("tkt_01", 3, at(4, 10), "system", ALICE, event="solved"),
        _message("tkt_02", 1, at(5, 14), "customer", "dev@example.com"),
        _message("tkt_03", 1, at(6, 8), "customer", "dev@example.com"),
        _message("tkt_03", 2, at(6, 8, 40), "agent", ALICE, text="hand"),
        _message("tkt_03", 3, at(6, 9), "system", ALICE, event="solved"),
        _message("tkt_03", 4, at(6, 10), "customer", "dev@example.com", text="still broken"),
        _message("tkt_03", 5, at(6, 10), "system", "public:help", event="reopened"),
        _message("tkt_03", 6, at(6, 10, 20), "note", BOB, text="internal"),
        _message("tkt_03", 7, at(6, 11), "system", BOB, event="solved"),
        _message("tkt_05", 1, at(12, 12), "customer", "dev@example.com"),
    ]


def _states() -> list[TicketState]:
    return [
        _state("tkt_01", at(4, 10), assignee="alice"),
        _state(
            "tkt_02",
            at(5, 14),
            assignee="bob",
            sla_first_response_due=at(5, 16),
            sla_resolution_due=at(6, 14),
        ),
        _state("tkt_03", at(6, 11), sla_breached=True, sla_first_response_breached=True),
        _state(
            "tkt_05",
            at(12, 12),
            assignee="bob",
            sla_first_response_due=at(12, 12, 30),
            sla_resolution_due=FAR_FUTURE,
        ),
        _state("tkt_06", at(12, 13), sla_paused=True, sla_next_response_due=FAR_FUTURE),
    ]


def _reviews() -> list[ReviewEvent]:
    return [
        _review("rev_1", "drf_1", "tkt_01", at(4, 9, 10), "approve", ALICE, edit_distance=0),
        _review("rev_2", "drf_2", "tkt_02", at(5, 15), "edit", BOB, edit_distance=7),
        _review(
            "rev_3", "drf_3", "tkt_03", at(6, 8, 30), "reject", ALICE, reason_code="inaccurate"
        ),
        _review("rev_4", "drf_4", "tkt_03", at(6, 8, 40), "approve", ALICE, edit_distance=0),
        _review(
            "rev_5",
            "drf_7",
            "tkt_04",
            at(11, 10, 5),
            "approve",
            "system:auto-send",
            edit_distance=0,
        ),
    ]


def _corrections() -> list[TicketCorrection]:
    return [
        TicketCorrection(
            id="cor_1", ticket_id="tkt_01", field="priority", predicted="P2",
            previous="P2", final="P1", actor=ALICE, created_at=at(4, 9, 6),
        ),
        TicketCorrection(
            id="cor_2", ticket_id="tkt_03", field="category", predicted="webhooks",
            previous="webhooks", final="auth", actor=ALICE, created_at=at(6, 8, 20),
        ),
    ]  # fmt: skip


def load(session: Session) -> None:
    """Write the six tickets and their history (the caller commits)."""
    session.add_all(_tickets())
    session.flush()
    session.add_all(_drafts())
    session.flush()
    session.add_all([*_messages(), *_states(), *_reviews(), *_corrections()])
    session.flush()


def query(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text(sql), params)
        return plain_rows(list(result.keys()), result.all())
