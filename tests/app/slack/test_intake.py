"""Slack intake hardening: de-duplication in the database (shared by every process),
permanent errors acknowledged, support channels only.  SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.slack.events import SlackMessage
from app.slack.intake import Claim, SlackInbox, TicketWriter
from app.store import slack_events, tickets
from app.store.db import create_engine_for, migrate, session_factory
from app.store.models import SlackEvent
from app.store.slack_events import SlackEventKey
from tests.app.slack.test_events import make_client, message_event, post_signed, slack_tickets
from tests.postgres import PostgresDatabases


@pytest.fixture(scope="module")
def pg_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/intake.db"
    else:
        url = request.getfixturevalue("pg_databases").create()
    engine = create_engine_for(url)
    migrate(engine)
    yield session_factory(engine)
    engine.dispose()


def events(sessions: sessionmaker[Session]) -> list[tuple[str, str | None]]:
    with sessions() as session:
        return [(e.outcome, e.ticket_id) for e in session.scalars(select(SlackEvent))]


def test_a_second_process_receiving_the_same_event_makes_no_second_ticket(
    db: sessionmaker[Session],
) -> None:
    # Two apps = two processes' worth of state; only the database is shared.
    with make_client(db) as first, make_client(db) as second:
        a = post_signed(first, message_event())
        b = post_signed(second, message_event())
        # The same message as an app_mention (another event id) via the first again.
        mention = message_event(event_id="Ev0002")
        mention["event"]["type"] = "app_mention"
        c = post_signed(first, mention)
    assert [r.json()["status"] for r in (a, b, c)] == ["created", "duplicate", "duplicate"]
    [ticket] = slack_tickets(db)
    assert events(db) == [("ticket", ticket.id)]


def test_racing_deliveries_commit_exactly_one_ticket(db: sessionmaker[Session]) -> None:
    inbox = SlackInbox(db, _writer(db), support_channels=["C0SUPPORT"])
    message = _message()
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: inbox.create(message), range(6)))
    assert len([r for r in results if r is not None]) == 1
    assert len(slack_tickets(db)) == 1


def test_an_overflowing_channel_or_user_is_acknowledged_and_logged_not_stored(
    db: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with make_client(db) as client:
        long_channel = post_signed(client, message_event(event_id="EvLong1", channel="C" * 300))
        long_user = post_signed(client, message_event(event_id="EvLong2", user="U" * 400))
        odd_user = post_signed(client, message_event(event_id="EvOdd", user="U0\x00DEV"))
    for response in (long_channel, long_user, odd_user):
        assert response.status_code == 200
        assert response.json()["status"] == "rejected"
    assert slack_tickets(db) == []
    assert events(db) == []
    for event_id in ("EvLong1", "EvLong2", "EvOdd"):
        assert event_id in caplog.text


def test_nul_in_the_text_is_dropped_and_the_question_kept(db: sessionmaker[Session]) -> None:
    with make_client(db) as client:
        response = post_signed(client, message_event(text="why\u0000 401 on /v1/quotes?"))
    assert response.json()["status"] == "created"
    [ticket] = slack_tickets(db)
    assert ticket.message == "why 401 on /v1/quotes?"


def test_an_error_the_database_would_repeat_is_acknowledged_once_and_recorded(
    db: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    def check_violation(message: SlackMessage, claim: Claim) -> str:
        with db.begin() as session:
            ticket = tickets.create_ticket(
                session, channel="slack", reporter=None, message=message.text
            )
            # A value the database refuses (a CHECK violation): it would refuse it again.
            ticket.status = "nonsense"  # type: ignore[assignment]
            session.flush()
            claim(session, ticket.id)
            return ticket.id

    caplog.set_level(logging.WARNING)
    with make_client(db, check_violation) as client:
        first = post_signed(client, message_event(event_id="EvBad"))
        retry = post_signed(
            client, message_event(event_id="EvBad"), headers={"X-Slack-Retry-Num": "1"}
        )
    assert (first.status_code, first.json()["status"]) == (200, "rejected")
    assert retry.json()["status"] == "duplicate"
    assert slack_tickets(db) == []
    assert events(db) == [("refused", None)]
    assert "EvBad" in caplog.text


def test_a_temporary_failure_is_a_503_and_leaves_nothing_behind(
    db: sessionmaker[Session],
) -> None:
    def down(message: SlackMessage, claim: Claim) -> str:
        raise ConnectionError("database is restarting")

    with make_client(db, down) as client:
        response = post_signed(client, message_event())
    assert response.status_code == 503
    assert events(db) == []


def test_messages_outside_the_support_channels_are_ignored(db: sessionmaker[Session]) -> None:
    with make_client(db) as client:
        response = post_signed(client, message_event(channel="C0RANDOM"))
    assert response.json()["status"] == "ignored"
    assert slack_tickets(db) == []


def test_seen_matches_the_event_id_or_the_channel_and_ts(db: sessionmaker[Session]) -> None:
    with db.begin() as session:
        assert slack_events.record(session, SlackEventKey("Ev1", "C1", "1.0"), outcome="refused")
        assert not slack_events.record(
            session, SlackEventKey("Ev2", "C1", "1.0"), outcome="refused"
        )
    with db() as session:
        assert slack_events.seen(session, SlackEventKey("Ev1", "C9", "9.0"))
        assert slack_events.seen(session, SlackEventKey("Ev9", "C1", "1.0"))
        assert not slack_events.seen(session, SlackEventKey("Ev9", "C1", "2.0"))


def _message() -> SlackMessage:
    return SlackMessage(
        event_id="EvRace",
        event_type="message",
        team_id="T0",
        channel="C0SUPPORT",
        user="U0DEV",
        text="how do I rotate keys?",
        ts="1712345678.000900",
        thread_ts="1712345678.000900",
    )


def _writer(sessions: sessionmaker[Session]) -> TicketWriter:
    def write(message: SlackMessage, claim: Claim) -> str:
        with sessions.begin() as session:
            ticket = tickets.create_ticket(
                session, channel="slack", reporter=message.user, message=message.text
            )
            claim(session, ticket.id)
            return ticket.id

    return write


def test_a_retry_while_this_process_still_creates_the_ticket_is_a_duplicate(
    db: sessionmaker[Session],
) -> None:
    release = threading.Event()
    calls = 0

    def slow(message: SlackMessage, claim: Claim) -> str:
        nonlocal calls
        calls += 1
        release.wait(10)
        return _writer(db)(message, claim)

    with make_client(db, slow, ack_budget=0.2) as client:
        assert post_signed(client, message_event()).json()["status"] == "accepted"
        retry = post_signed(client, message_event(), headers={"X-Slack-Retry-Num": "1"})
        assert retry.json()["status"] == "duplicate"
        release.set()
        deadline = time.monotonic() + 5
        while not slack_tickets(db) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert calls == 1
    assert len(slack_tickets(db)) == 1
