"""ReviewService speaks the domain: drafts and tickets in, decided drafts and tickets
out, the store's domain errors raised; outcomes counted only for decisions that ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.observability import Metrics
from app.services.review import ReviewService
from app.store.errors import ConflictError, NotFoundError
from app.store.models import Draft
from tests.app.conftest import Seeder

R = TypeVar("R")


def _decided(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value("triage_drafts_decided_total", {"outcome": outcome})
    return value or 0.0


def test_approve_returns_the_approved_draft_and_counts_it_once(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = seed.ticket()
    assert seeded.draft_id is not None
    metrics, woken = Metrics(), []
    service = ReviewService(sessions, metrics, wake_outbox=lambda: woken.append(True))

    draft = service.approve(
        seeded.draft_id, reviewer="alice", text="Edited reply.", expected_version=None
    )

    assert (draft.id, draft.status, draft.final_text) == (
        seeded.draft_id,
        "approved",
        "Edited reply.",
    )
    assert _decided(metrics, "edited") == 1
    assert woken == [True]
    with pytest.raises(ConflictError, match="already approved"):
        service.approve(seeded.draft_id, reviewer="bob", text=None, expected_version=None)
    assert _decided(metrics, "edited") + _decided(metrics, "approved") == 1
    assert woken == [True]


def test_reject_and_escalate_raise_domain_errors_for_unknown_rows(
    sessions: sessionmaker[Session],
) -> None:
    service = ReviewService(sessions, Metrics())
    with pytest.raises(NotFoundError):
        service.reject("drf_nope", reviewer="alice", reason_code="other", reason=None)
    with pytest.raises(NotFoundError):
        service.escalate("tkt_nope", reviewer="alice", reason="why", team=None)


def test_the_callers_transaction_runs_the_work(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seeded = seed.ticket()
    assert seeded.draft_id is not None
    seen: list[str] = []

    def transaction(work: Callable[[Session], R]) -> R:
        with sessions.begin() as session:
            result = work(session)
            # The caller may add to the same transaction (the API edge stores the response).
            seen.append(type(result).__name__)
            return result

    rejected = ReviewService(sessions, Metrics()).reject(
        seeded.draft_id,
        reviewer="alice",
        reason_code="inaccurate",
        reason=None,
        transaction=transaction,
    )

    assert isinstance(rejected, Draft)
    assert rejected.status == "rejected"
    assert seen == ["Draft"]
