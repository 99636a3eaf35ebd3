"""SLA clocks stored by the conversation layer (here its sweep, with a controlled clock)
are what the statistics count, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.clocks import SlaClocks
from app.conversations.policy import load_sla_policy
from app.conversations.sweep import SlaSweep
from app.operations.metrics.stats import StatsService
from app.store import reviews
from tests.app.conftest import Seeder

# P2 in the built-in policy: first response within 120 minutes, resolution within a day,
# around the clock.  Opened hours ago: the views compare open clocks with the real time.
OPENED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def test_late_and_timely_first_responses(
    engine: Engine, sessions: sessionmaker[Session], seed: Seeder
) -> None:
    seed.ticket(priority="P2", created_at=OPENED)
    answered = seed.ticket(priority="P2", created_at=OPENED + timedelta(seconds=1))
    assert answered.draft_id is not None
    with sessions.begin() as session:
        reviews.approve(
            session, answered.draft_id, reviewer="tok_A:alice", now=OPENED + timedelta(minutes=20)
        )
    clocks = SlaClocks(load_sla_policy(), clock=lambda: OPENED + timedelta(hours=3))
    SlaSweep(sessions, clocks).run_once()

    sla = StatsService(engine).stats(OPENED, OPENED + timedelta(hours=1), "priority").totals
    assert (sla.tickets.sla.tracked, sla.tickets.sla.breached) == (2, 1)
    assert sla.tickets.sla.first_response_breached == 1
    assert sla.tickets.sla.attainment == 0.5
    assert sla.tickets.timings["first_response"].p50_seconds == 20 * 60 - 1
