"""Turn agents' review decisions in the store into an evaluation dataset (JSONL).

Approved drafts (as written or edited) become positive rows: the ticket's message, the
reply that was actually sent as `reference_answer`, the cited documents as
`gold_doc_ids`, and the category as routed at the end (an agent's correction when the
ticket was re-categorised, else the triage category), with `answerable: true`.

Rejected drafts become negative rows, marked `negative: true` with the reviewer's reason
code and note and the rejected text.  They deliberately do NOT set `answerable: false`:
a draft is rejected for being inaccurate, incomplete or in the wrong tone far more often
than because the question had no answer in the docs, so a reject says nothing reliable
about answerability.  Negative rows keep the category (triage is still scored on them)
and no gold documents (what a rejected draft cited is not evidence of relevance).

Messages are stored already redacted, so the export never holds a pasted secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

APPROVED = ("approved", "sent")
DECISIONS = ("approve", "edit", "reject")


@dataclass
class ExportReport:
    path: str
    rows: int
    positives: int
    negatives: int
    edited: int
    recategorised: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_since(value: str) -> datetime:
    """`2025-01-31` (midnight UTC) or an ISO-8601 timestamp."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(
                f"--since must be a date (YYYY-MM-DD) or timestamp: {value!r}"
            ) from exc
        parsed = datetime(day.year, day.month, day.day)
    return _as_utc(parsed)


def _category(triage: dict[str, Any], routed: str | None) -> tuple[str | None, bool]:
    predicted = triage.get("category") if isinstance(triage.get("category"), str) else None
    if routed and routed != predicted:
        return routed, True
    return predicted or routed, False


def _decided_drafts(session: Session, since: datetime | None) -> Iterator[tuple[Any, Any, Any]]:
    from app.store.models import Draft, ReviewEvent, Ticket

    stmt = (
        select(Draft, Ticket, ReviewEvent)
        .join(Ticket, Draft.ticket_id == Ticket.id)
        .join(ReviewEvent, ReviewEvent.draft_id == Draft.id)
        .where(ReviewEvent.action.in_(DECISIONS))
        .order_by(ReviewEvent.created_at, ReviewEvent.id)
    )
    if since is not None:
        stmt = stmt.where(ReviewEvent.created_at >= since)
    for row in session.execute(stmt):
        draft, ticket, event = row
        yield draft, ticket, event


def review_rows(session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """One dataset row per reviewed draft, oldest decision first."""
    seen: set[str] = set()
    for draft, ticket, event in _decided_drafts(session, since):
        if draft.id in seen:  # one decision per draft; guard against a replayed event
            continue
        seen.add(draft.id)
        category, corrected = _category(ticket.triage or {}, ticket.category)
        triage = ticket.triage or {}
        row: dict[str, Any] = {
            "id": f"review-{draft.id}",
            "message": ticket.message,
            "channel": ticket.channel,
            "category": category,
            "priority": ticket.priority,
            "language": triage.get("language"),
            "flags": [f for f in triage.get("flags", []) if f in ("secret", "prompt_injection")],
            "ticket_id": ticket.id,
            "draft_id": draft.id,
            "draft_version": draft.version,
            "decided_at": _as_utc(event.created_at).isoformat(),
            "category_corrected": corrected,
        }
        if event.action == "reject":
            row.update(
                negative=True,
                gold_doc_ids=[],
                rejected_text=draft.text,
                reject_reason_code=event.reason_code,
                reject_reason=event.reason,
            )
        elif draft.status in APPROVED and draft.final_text:
            cited = [c.get("doc_id") for c in draft.citations or [] if isinstance(c, dict)]
            row.update(
                reference_answer=draft.final_text,
                gold_doc_ids=list(dict.fromkeys(d for d in cited if isinstance(d, str) and d)),
                answerable=True,
                edited=event.action == "edit",
            )
        else:
            continue
        yield {k: v for k, v in row.items() if v is not None}


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def export_reviews(database_url: str, out: Path, since: datetime | None = None) -> ExportReport:
    """Write the reviewed drafts of the store at `database_url` to `out` (JSONL)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from app.store.db import create_engine_for, session_factory

    parsed = make_url(database_url)
    database = parsed.database or ""
    on_disk = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
    if on_disk and not Path(database).is_file():  # connecting would create an empty file
        raise ValueError(f"no review store at {_safe_url(database_url)}")
    engine = create_engine_for(database_url)
    try:
        if not inspect(engine).has_table("review_events"):
            raise ValueError(f"no review store at {_safe_url(database_url)}: it has no tables")
        with session_factory(engine)() as session:
            rows = list(review_rows(session, since))
    finally:
        engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    tmp.replace(out)  # a half-written dataset must never be picked up by an eval
    negatives = sum(1 for r in rows if r.get("negative"))
    return ExportReport(
        path=str(out),
        rows=len(rows),
        positives=len(rows) - negatives,
        negatives=negatives,
        edited=sum(1 for r in rows if r.get("edited")),
        recategorised=sum(1 for r in rows if r.get("category_corrected")),
    )
