"""The serving process's background workers prune the Slack event record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from app.store import slack_events
from app.store.columns import utcnow
from app.store.db import create_engine_for, migrate, session_factory
from app.store.models import SlackEvent
from app.store.slack_events import SlackEventKey
from tests.api.conftest import MakeApi, wait_for


def test_the_workers_prune_slack_events_past_the_retention(
    make_api: MakeApi, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'pruned.db'}"
    engine = create_engine_for(url)
    migrate(engine)
    now = utcnow()
    with session_factory(engine).begin() as session:
        for event_id, age in (("EvOld", timedelta(days=8)), ("EvNew", timedelta(minutes=1))):
            key = SlackEventKey(event_id, "C1", f"{event_id}.1")
            slack_events.record(session, key, outcome="refused", now=now - age)
    engine.dispose()

    api = make_api(database_url=url)

    def remaining() -> list[str] | None:
        with api.sessions() as session:
            ids = list(session.scalars(select(SlackEvent.event_id)))
        return ids if ids == ["EvNew"] else None

    assert wait_for(remaining) == ["EvNew"]
