"""Migration 0005: existing tickets become conversations; the new states are allowed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.store.db import create_engine_for, downgrade, migrate

BEFORE = "0004_draft_lease"

INSERT_TICKET = text(
    "INSERT INTO tickets (id, channel, reporter, message, metadata, triage, signals, "
    "redactions, category, priority, team, status, created_at, updated_at) VALUES "
    "(:id, 'api', 'dev@example.com', :message, '{}', '{}', '{}', "
    '\'[{"kind": "api_key", "placeholder": "[REDACTED:api_key]"}]\', NULL, \'P3\', NULL, '
    ":status, '2026-01-05 10:00:00', '2026-01-05 10:00:00')"
)


def test_existing_tickets_get_their_message_as_message_one(empty_url: str) -> None:
    engine = create_engine_for(empty_url)
    try:
        migrate(engine, BEFORE)
        with engine.begin() as conn:
            conn.execute(
                INSERT_TICKET,
                {"id": "tkt_old", "message": "key [REDACTED:api_key] fails", "status": "sent"},
            )
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT ticket_id, seq, kind, author, text FROM ticket_messages")
            ).all()
            states = conn.execute(text("SELECT ticket_id, version FROM ticket_states")).all()
        assert [tuple(r) for r in rows] == [
            ("tkt_old", 1, "customer", "dev@example.com", "key [REDACTED:api_key] fails")
        ]
        assert [tuple(s) for s in states] == [("tkt_old", 0)]

        with engine.begin() as conn:
            conn.execute(INSERT_TICKET, {"id": "tkt_new", "message": "m", "status": "solved"})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(INSERT_TICKET, {"id": "tkt_bad", "message": "m", "status": "closed"})

        downgrade(engine, BEFORE)
        with engine.connect() as conn:
            statuses = dict(conn.execute(text("SELECT id, status FROM tickets")).all())
        assert statuses == {"tkt_old": "sent", "tkt_new": "sent"}
        migrate(engine)
    finally:
        engine.dispose()
