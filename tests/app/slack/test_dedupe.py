"""De-duplication around the durable record: in-flight keys, and pruning old rows on a
controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.slack.dedupe import InFlight, SlackEventPruner
from app.slack.events import SlackMessage
from app.store import slack_events
from app.store.models import SlackEvent
from app.store.slack_events import SlackEventKey

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def message(event_id: str = "Ev1", channel: str = "C1", ts: str = "1.0") -> SlackMessage:
    return SlackMessage(
        event_id=event_id,
        event_type="message",
        team_id=None,
        channel=channel,
        user="U1",
        text="hi",
        ts=ts,
        thread_ts=ts,
    )


def record(sessions: sessionmaker[Session], event_id: str, at: datetime) -> None:
    with sessions.begin() as session:
        key = SlackEventKey(event_id, "C1", f"{event_id}.0")
        assert slack_events.record(session, key, outcome="refused", now=at)


def stored(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(SlackEvent.event_id)))


def test_a_message_is_in_flight_by_either_key_until_discarded() -> None:
    in_flight = InFlight()
    keys = in_flight.add(message())
    assert message() in in_flight
    assert message(event_id="Ev2") in in_flight  # the app_mention of the same post
    assert message(event_id="Ev3", ts="2.0") not in in_flight
    in_flight.discard(keys)
    assert message() not in in_flight


def test_rows_older_than_the_retention_are_pruned(sessions: sessionmaker[Session]) -> None:
    clock = Clock(T0)
    pruner = SlackEventPruner(sessions, retention=timedelta(days=7), clock=clock)
    record(sessions, "EvOld", T0 - timedelta(days=8))
    record(sessions, "EvEdge", T0 - timedelta(days=7) + timedelta(seconds=1))
    record(sessions, "EvNew", T0 - timedelta(minutes=5))

    assert pruner.run_once() == 1
    assert stored(sessions) == {"EvEdge", "EvNew"}


def test_pruning_runs_at_most_once_per_interval(sessions: sessionmaker[Session]) -> None:
    clock = Clock(T0)
    pruner = SlackEventPruner(
        sessions, retention=timedelta(days=7), every=timedelta(hours=1), clock=clock
    )
    assert pruner.run_once() == 0  # nothing old yet; the next run is due in an hour

    record(sessions, "EvOld", T0 - timedelta(days=7, seconds=1))
    clock.now = T0 + timedelta(minutes=59)
    assert pruner.run_once() == 0  # not due: the row stays though it is old enough
    assert stored(sessions) == {"EvOld"}

    clock.now = T0 + timedelta(hours=1)
    assert pruner.run_once() == 1
    assert stored(sessions) == set()


def test_a_pruned_message_is_no_longer_seen(sessions: sessionmaker[Session]) -> None:
    record(sessions, "EvOld", T0 - timedelta(days=30))
    key = SlackEventKey("EvOld", "C1", "EvOld.0")
    with sessions() as session:
        assert slack_events.seen(session, key)
    SlackEventPruner(sessions, clock=Clock(T0)).run_once()
    with sessions() as session:
        assert not slack_events.seen(session, key)
