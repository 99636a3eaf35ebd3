"""Deflection on both databases with a controlled clock: an answered asker who opens no
ticket within the window (and did not say it didn't help) is deflected, counted only
once the window has passed; the asker is stored only as a keyed hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, text

from app.operations.metrics.config import MetricsConfig
from app.operations.metrics.stats import StatsService
from app.store import askers, self_service
from app.store.db import session_factory
from tests.app.operations.metric_fixture import _ticket


def at(day: int, hour: int) -> datetime:
    return datetime(2024, 3, day, hour, tzinfo=UTC)


MARCH = (at(1, 0), datetime(2024, 4, 1, tzinfo=UTC))


def _answer(session, asker: str | None, when: datetime, feedback: str | None = None) -> None:  # type: ignore[no-untyped-def]
    row = self_service.record_answer(
        session,
        question="how do I rotate a key?",
        answer="Use the console.",
        citations=[],
        confidence=0.9,
        category="auth",
        language="en",
        asker_key=askers.asker_key(session, asker),
        now=when,
    )
    if feedback:
        self_service.give_feedback(session, row.id, feedback, now=when)  # type: ignore[arg-type]


def _handoff(session, ticket_id: str, asker: str, when: datetime) -> None:  # type: ignore[no-untyped-def]
    session.add(
        _ticket(
            ticket_id,
            when,
            channel="widget",
            category="auth",
            priority="P3",
            team="platform",
            status="pending_review",
            triage={"language": "en"},
            metadata={"source": "ask"},
        )
    )
    session.flush()
    key = askers.asker_key(session, asker)
    assert key is not None
    askers.record_ticket(session, ticket_id, key, when)


def _load(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        _handoff(session, "tkt_before", "browser-x", at(4, 8))  # before the answer: no matter
        _answer(session, "browser-x", at(4, 9))
        _handoff(session, "tkt_x", "browser-x", at(5, 9))  # 24 h later: not deflected
        _answer(session, "browser-y", at(4, 10), "helpful")
        _handoff(session, "tkt_y", "browser-y", at(8, 11))  # 97 h later: deflected
        _answer(session, "browser-z", at(4, 11), "not_helpful")  # no ticket, didn't help
        _answer(session, None, at(4, 12))  # no asker: never settled
        _answer(session, "browser-w", at(6, 9))  # settles at 03-09 09:00


def test_deflection_counts_only_settled_answers(engine: Engine) -> None:
    _load(engine)
    service = StatsService(engine, config=MetricsConfig(deflection_window=timedelta(hours=72)))

    early = service.stats(*MARCH, "day", now=at(8, 12)).totals.self_service
    assert early is not None
    assert (early.answered, early.helpful, early.didnt_help, early.asker_known) == (5, 1, 1, 4)
    assert early.handed_off == 3
    assert (early.settled, early.deflected, early.deflection_rate) == (3, 1, 1 / 3)

    later = service.stats(*MARCH, "day", now=at(10, 0)).totals.self_service
    assert later is not None
    assert (later.settled, later.deflected) == (4, 2)

    # A window of 100 h makes browser-y's ticket (97 h later) count against the answer.
    wide = StatsService(engine, config=MetricsConfig(deflection_window=timedelta(hours=100)))
    widest = wide.stats(*MARCH, "day", now=at(20, 0)).totals.self_service
    assert widest is not None
    assert (widest.settled, widest.deflected) == (4, 1)


def test_deflection_grouped_by_day_and_category(engine: Engine) -> None:
    _load(engine)
    service = StatsService(engine)
    stats = service.stats(*MARCH, "day", now=at(20, 0))
    by_day = {r.key: r.self_service for r in stats.groups}
    assert by_day["2024-03-04"] is not None
    assert by_day["2024-03-06"] is not None
    assert (by_day["2024-03-04"].answered, by_day["2024-03-04"].deflected) == (4, 1)
    assert (by_day["2024-03-06"].answered, by_day["2024-03-06"].deflected) == (1, 1)
    assert by_day["2024-03-05"] is not None
    assert by_day["2024-03-05"].handed_off == 1
    by_priority = service.stats(*MARCH, "priority", now=at(20, 0))
    assert all(r.self_service is None for r in by_priority.groups)
    assert by_priority.totals.self_service is not None
    assert by_priority.totals.self_service.deflected == 2


def test_the_view_gives_each_answer_its_next_ticket(engine: Engine) -> None:
    _load(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT feedback, didnt_help, asker_known, seconds_to_next_ticket "
                "FROM metric_self_service_answers ORDER BY created_at"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (None, 0, 1, 86400),
        ("helpful", 0, 1, 97 * 3600),
        ("not_helpful", 1, 1, None),
        (None, 0, 0, None),
        (None, 0, 1, None),
    ]


def test_the_asker_is_stored_only_as_a_keyed_hash(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        first = askers.asker_key(session, "dev@example.com")
        again = askers.asker_key(session, " dev@example.com ")
        other = askers.asker_key(session, "someone-else")
        assert askers.asker_key(session, "  ") is None
        secret = session.scalar(select(askers.AskerHashKey.secret))
    assert first == again != other
    assert first is not None
    assert len(first) == 64
    assert "example" not in first
    assert secret is not None
    import hashlib
    import hmac

    unkeyed = hashlib.sha256(b"dev@example.com").hexdigest()
    assert first != unkeyed
    assert first == hmac.new(bytes.fromhex(secret), b"dev@example.com", "sha256").hexdigest()
