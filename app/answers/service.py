"""Reusable answers: learnt from agents' approvals, matched before drafting, retired
when the docs they quote change.

The database row is the record (who approved what, from which ticket, active or
retired and why); the answers collection in Chroma is the searchable copy of the
active ones.  Learning from an approval writes the row in the approval's own
transaction, so an approved reply and its reusable answer never disagree; the vector is
written after the commit (``index_learned``), and ``reindex`` restores any that a crash
in between lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.answers.index import AnswerIndex, IndexEntry, MatchedAnswer
from app.answers.verify import DocTexts, verify_citations
from app.store import answers as rows
from app.store.models import Draft, ReusableAnswer
from ingest.vectorstore import KnowledgeBaseStore

log = logging.getLogger(__name__)

_MARKER = re.compile(r"\[(\d{1,3})\]")
# Citation fields worth keeping: enough to show the source and to re-verify the quote.
_CITATION_KEYS = ("chunk_id", "doc_id", "source", "url", "quote", "marker", "doc_hash")


@dataclass(frozen=True)
class RetiredAnswer:
    id: str
    question: str
    answer: str
    reason: str
    retired_at: datetime | None
    citations: list[dict[str, Any]]
    source_ticket_id: str | None
    source_draft_id: str | None
    collection: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "reason": self.reason,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "citations": self.citations,
            "source_ticket_id": self.source_ticket_id,
            "source_draft_id": self.source_draft_id,
            "collection": self.collection,
        }


@dataclass(frozen=True)
class ReverifyReport:
    checked: int
    updated: int
    retired: list[RetiredAnswer]

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "updated": self.updated,
            "retired": [r.as_dict() for r in self.retired],
        }


def _retired(row: ReusableAnswer) -> RetiredAnswer:
    return RetiredAnswer(
        id=row.id,
        question=row.question,
        answer=row.answer,
        reason=row.retired_reason or "",
        retired_at=row.retired_at,
        citations=list(row.citations),
        source_ticket_id=row.source_ticket_id,
        source_draft_id=row.source_draft_id,
        collection=row.collection,
    )


def _entry(row: ReusableAnswer) -> IndexEntry:
    return IndexEntry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        citations=list(row.citations),
        language=row.language,
        category=row.category,
    )


def citations_kept_by(text: str, citations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The citations an approved text still relies on.

    An agent's edit may drop a marked sentence; its citation goes with it.  A text with
    no markers at all (rewritten in the agent's words) keeps every citation.
    """
    cleaned = [{k: c[k] for k in _CITATION_KEYS if k in c} for c in citations]
    markers = {int(m) for m in _MARKER.findall(text)}
    if not markers:
        return cleaned
    return [c for c in cleaned if not isinstance(c.get("marker"), int) or c["marker"] in markers]


class ReusableAnswers:
    """Learn, match, retire and re-verify the reusable answers of one docs collection.

    ``sessions`` may be None for a matching-only instance (the triage pipeline); the
    methods that read or write rows need it.
    """

    def __init__(
        self,
        index: AnswerIndex,
        docs: KnowledgeBaseStore,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.index = index
        self.docs = docs
        self.sessions = sessions

    @property
    def collection(self) -> str:
        return self.docs.name

    def _factory(self) -> sessionmaker[Session]:
        if self.sessions is None:
            raise RuntimeError("this ReusableAnswers was built for matching only (no database)")
        return self.sessions

    # -- matching ---------------------------------------------------------------------
    def match(
        self,
        question: str,
        *,
        language: str | None = None,
        vector: Sequence[float] | None = None,
    ) -> MatchedAnswer | None:
        return self.index.match(question, language=language, vector=vector)

    # -- learning ---------------------------------------------------------------------
    def _grounded(self, citations: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Citations pinned to the doc revision they quote now; None when one fails."""
        verdict = verify_citations(citations, DocTexts(self.docs))
        return verdict.citations if verdict.failure is None else None

    def add(
        self,
        *,
        question: str,
        answer: str,
        citations: Sequence[Mapping[str, Any]],
        language: str,
        category: str | None = None,
        edited: bool = False,
        approved_by: str | None = None,
    ) -> str | None:
        """Store and index an answer; None when it has no citation the docs still hold."""
        pinned = self._grounded(citations_kept_by(answer, citations))
        if not pinned or not question.strip() or not answer.strip():
            return None
        with self._factory().begin() as session:
            row = rows.insert(
                session,
                collection=self.collection,
                question=question,
                answer=answer,
                citations=pinned,
                language=language,
                category=category,
                edited=edited,
                approved_by=approved_by,
            )
            entry = _entry(row)
        self.index.add([entry])
        return entry.id

    def record_approval(self, session: Session, draft: Draft) -> IndexEntry | None:
        """In the approval's transaction: keep an approved, cited draft as a reusable answer.

        Holding replies (the hand-off drafter, no citations) teach nothing and are
        skipped, as is an approval whose quotes the docs no longer hold.  Runs in a
        savepoint: whatever goes wrong here, the approval itself stands.  Returns what
        ``index_learned`` must index once the transaction has committed.
        """
        if draft.status != "approved" or not draft.final_text:
            return None
        if (draft.provenance or {}).get("drafter") == "handoff" or not draft.citations:
            return None
        try:
            with session.begin_nested():
                return self._record(session, draft, draft.final_text)
        except Exception:  # Chroma unreachable, a concurrent duplicate: log, keep approving
            log.warning("reusable answer not learnt from draft %s", draft.id, exc_info=True)
            return None

    def _record(self, session: Session, draft: Draft, final_text: str) -> IndexEntry | None:
        if rows.by_draft(session, draft.id) is not None:
            return None
        kept = citations_kept_by(final_text, draft.citations)
        pinned = self._grounded(kept) if kept else None
        if not pinned:
            return None
        ticket = draft.ticket
        row = rows.insert(
            session,
            collection=self.collection,
            question=ticket.message,
            answer=final_text,
            citations=pinned,
            language=str((ticket.triage or {}).get("language") or "en"),
            category=ticket.category,
            edited=final_text != draft.text,
            approved_by=draft.approved_by,
            source_ticket_id=ticket.id,
            source_draft_id=draft.id,
        )
        return _entry(row)

    def index_learned(self, entry: IndexEntry) -> None:
        try:
            self.index.add([entry])
        except Exception:  # the row stays; ``reindex`` (run by every ingest) adds it later
            log.warning("reusable answer %s not indexed yet", entry.id, exc_info=True)

    def reindex(self) -> int:
        """Index active answers the collection lacks (a crash between commit and index)."""
        with self._factory()() as session:
            indexed = self.index.ids()
            missing = [
                _entry(r) for r in rows.active(session, self.collection) if r.id not in indexed
            ]
        self.index.add(missing)
        return len(missing)

    # -- retiring ---------------------------------------------------------------------
    def retire(self, answer_id: str, reason: str) -> bool:
        with self._factory().begin() as session:
            done = rows.retire(session, answer_id, reason=reason)
        self.index.remove([answer_id])
        return done

    def list_retired(self) -> list[RetiredAnswer]:
        with self._factory()() as session:
            return [_retired(r) for r in rows.retired(session, self.collection)]

    def reverify(self) -> ReverifyReport:
        """After a sync: retire every active answer whose quoted text left its doc."""
        self.reindex()
        docs = DocTexts(self.docs)
        updated: list[str] = []
        retired: list[RetiredAnswer] = []
        with self._factory()() as session:
            active = [(r.id, list(r.citations)) for r in rows.active(session, self.collection)]
        for answer_id, citations in active:
            verdict = verify_citations(citations, docs)
            with self._factory().begin() as session:
                if verdict.failure is not None:
                    if rows.retire(session, answer_id, reason=verdict.failure):
                        row = rows.get(session, answer_id)
                        if row is not None:
                            session.flush()
                            session.refresh(row)
                            retired.append(_retired(row))
                elif verdict.changed:
                    rows.set_citations(session, answer_id, verdict.citations)
                    updated.append(answer_id)
        self.index.remove([r.id for r in retired])
        if updated:
            # The served copy of the citations must point at the chunks that hold them now.
            with self._factory()() as session:
                fresh = [rows.get(session, answer_id) for answer_id in updated]
                self.index.add([_entry(r) for r in fresh if r is not None and r.status == "active"])
        return ReverifyReport(checked=len(active), updated=len(updated), retired=retired)
