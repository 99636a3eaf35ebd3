"""The review queue's read path (services/review_queue.py): order, filters, keyset pages.

The page's whole document is compared with SQL written in the test in
tests/api/test_tickets.py; these check the queue's behaviour on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.policy import load_sla_policy
from app.services.review_queue import Workflow, queue_page_json
from app.store.conversations import TicketState
from app.store.errors import InvalidInputError
from app.store.tickets import QueueQuery
from tests.app.conftest import Seeder

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _page(session: Session, **query: Any) -> tuple[list[dict[str, Any]], str | None]:
    document = orjson.loads(queue_page_json(session.connection(), QueueQuery(**query)))
    return document["items"], document["next_cursor"]


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _seed_queue(seed: Seeder) -> dict[str, str]:
    """Six pending tickets plus one still drafting; returns label -> ticket id."""
    spec = {
        "p2_old": ("P2", 0, "billing"),
        "p1_new": ("P1", 50, "authentication"),
        "p3_old": ("P3", 1, "authentication"),
        "p1_old": ("P1", 10, "billing"),
        "p2_new": ("P2", 40, "authentication"),
        "p2_mid": ("P2", 20, "billing"),
    }
    ids = {
        label: seed.ticket(
            priority=prio, category=cat, created_at=T0 + timedelta(minutes=minutes)
        ).ticket_id
        for label, (prio, minutes, cat) in spec.items()
    }
    ids["drafting"] = seed.ticket(priority="P1", draft_text=None, created_at=T0).ticket_id
    return ids


def test_queue_orders_by_priority_then_age(sessions: sessionmaker[Session], seed: Seeder) -> None:
    ids = _seed_queue(seed)
    with sessions() as s:
        items, cursor = _page(s)
    order = ["p1_old", "p1_new", "p2_old", "p2_mid", "p2_new", "p3_old"]
    assert [t["id"] for t in items] == [ids[label] for label in order]
    assert cursor is None
    assert all(t["draft"]["status"] == "pending" for t in items)


def test_queue_filters(sessions: sessionmaker[Session], seed: Seeder) -> None:
    ids = _seed_queue(seed)
    with sessions() as s:
        billing, _ = _page(s, category="billing")
        p2, _ = _page(s, priority="P2", category="authentication")
        drafting, _ = _page(s, status="drafting")
        other_team, _ = _page(s, team="nobody")
    assert _ids(billing) == [ids["p1_old"], ids["p2_old"], ids["p2_mid"]]
    assert _ids(p2) == [ids["p2_new"]]
    assert _ids(drafting) == [ids["drafting"]]
    assert other_team == []


def test_queue_cursor_pages_are_stable_under_concurrent_inserts(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    ids = _seed_queue(seed)
    seen: list[str] = []
    with sessions() as s:
        page, cursor = _page(s, limit=2)
    seen += _ids(page)
    assert cursor is not None

    # Arrivals between pages: one sorts before the cursor (must not reappear or shift
    # the next page), one after it (must show up later, exactly once).
    urgent = seed.ticket(priority="P1", created_at=T0 - timedelta(days=1)).ticket_id
    late = seed.ticket(priority="P2", created_at=T0 + timedelta(hours=5)).ticket_id

    while cursor is not None:
        with sessions() as s:
            page, cursor = _page(s, limit=2, cursor=cursor)
        seen += _ids(page)

    order = ["p1_old", "p1_new", "p2_old", "p2_mid", "p2_new"]
    assert seen == [ids[label] for label in order] + [late, ids["p3_old"]]
    assert urgent not in seen
    assert len(set(seen)) == len(seen)


def test_queue_cursor_breaks_ties_on_identical_timestamps(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    same = [seed.ticket(priority="P2", created_at=T0).ticket_id for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        with sessions() as s:
            page, cursor = _page(s, limit=2, cursor=cursor)
        seen += _ids(page)
        if cursor is None:
            break
    assert seen == sorted(same)


@pytest.mark.parametrize("cursor", ["not-base64!!", "bm9wZQ", "WzEsMiwzXQ"])
def test_bad_cursor_is_rejected(session: Session, cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid queue cursor"):
        _page(session, cursor=cursor)


def _workflow_page(
    session: Session, workflow: Workflow, **query: Any
) -> tuple[list[dict[str, Any]], str | None]:
    body = queue_page_json(session.connection(), QueueQuery(**query), workflow)
    document = orjson.loads(body)
    return document["items"], document["next_cursor"]


def test_console_rows_carry_assignee_and_sla_and_filter_mine_and_breached(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    policy = load_sla_policy()
    # P1: first response due 30 min after opening, around the clock.
    late = seed.ticket(priority="P1", created_at=T0).ticket_id
    fresh = seed.ticket(priority="P1", created_at=T0 + timedelta(minutes=50)).ticket_id
    taken = seed.ticket(priority="P2", created_at=T0 + timedelta(minutes=55)).ticket_id
    with sessions.begin() as s:
        s.add(
            TicketState(
                ticket_id=taken,
                version=1,
                assignee="ana",
                sla_next_due=T0 + timedelta(hours=3),
                sla_breached=False,
                sla_paused=False,
                updated_at=T0,
            )
        )
    now = T0 + timedelta(minutes=60)
    with sessions() as s:
        rows, _ = _workflow_page(s, Workflow(policy, now))
        mine, _ = _workflow_page(s, Workflow(policy, now, assignee="ana"))
        breached, _ = _workflow_page(s, Workflow(policy, now, breached=True))
        someone_else, _ = _workflow_page(s, Workflow(policy, now, assignee="bo"))
        any_status, _ = _workflow_page(s, Workflow(policy, now), status=None)
    by_id = {row["id"]: row for row in rows}
    assert by_id[late]["sla"]["breached"] is True
    assert by_id[late]["sla"]["next_due"].startswith("2026-11-01T09:30:00")
    assert by_id[fresh]["sla"]["breached"] is False
    assert by_id[fresh]["sla"]["next_due"].startswith("2026-11-01T10:20:00")
    assert by_id[taken]["assignee"] == "ana"
    assert by_id[taken]["sla"]["next_due"].startswith("2026-11-01T12:00:00")
    assert by_id[late]["assignee"] is None
    assert _ids(mine) == [taken]
    assert _ids(breached) == [late]
    assert someone_else == []
    assert set(_ids(any_status)) == {late, fresh, taken}


def _state(ticket_id: str, next_due: datetime | None, **values: Any) -> TicketState:
    return TicketState(
        ticket_id=ticket_id,
        version=1,
        sla_next_due=next_due,
        sla_first_response_due=next_due,
        sla_breached=False,
        sla_paused=next_due is None,
        updated_at=T0,
        **values,
    )


def test_rows_carry_every_clock_and_sort_by_due_pages_through_in_due_order(
    sessions: sessionmaker[Session], seed: Seeder
) -> None:
    policy = load_sla_policy()
    now = T0 + timedelta(minutes=5)
    # P4 due soonest, P1 later: due order is not priority order.  A paused ticket has
    # no due time (last).
    soon = seed.ticket(priority="P4", created_at=T0).ticket_id
    later = seed.ticket(priority="P1", created_at=T0).ticket_id
    paused = seed.ticket(priority="P1", created_at=T0 - timedelta(hours=1)).ticket_id
    middle = seed.ticket(priority="P2", created_at=T0 + timedelta(minutes=1)).ticket_id
    untouched = seed.ticket(priority="P1", created_at=T0 + timedelta(minutes=2)).ticket_id
    with sessions.begin() as s:
        s.add_all(
            [
                _state(soon, T0 + timedelta(minutes=10), assignee="ana"),
                _state(later, T0 + timedelta(hours=2)),
                _state(middle, T0 + timedelta(minutes=40)),
                _state(paused, None),
            ]
        )
    seen: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        with sessions() as s:
            page, cursor = _workflow_page(
                s, Workflow(policy, now), sort="due", limit=2, cursor=cursor
            )
        seen += _ids(page)
        rows.update({row["id"]: row for row in page})
        if cursor is None:
            break
    # Without stored clocks (written straight to the store; the API starts them with
    # the ticket, the SLA sweep starts older ones) a ticket sorts with the clockless
    # ones, last, by priority and age; its row still shows its opening's clocks.
    assert seen == [soon, middle, later, paused, untouched]
    assert rows[soon]["assignee"] == "ana"
    assert rows[untouched]["sla"]["first_response_due"].startswith("2026-11-01T09:32:00")
    assert rows[untouched]["sla"]["resolution_due"] is not None
    assert rows[middle]["sla"]["next_response_due"] is None
    assert rows[paused]["sla"]["paused"] is True
    assert rows[paused]["sla"]["next_due"] is None
    assert not any(row["sla"]["breached"] for row in rows.values())

    # A cursor of one order is refused by the other (never a silently wrong page).
    with sessions() as s:
        _, by_priority = _workflow_page(s, Workflow(policy, now), limit=1)
        assert by_priority is not None
        with pytest.raises(InvalidInputError, match="invalid queue cursor"):
            _workflow_page(s, Workflow(policy, now), sort="due", cursor=by_priority)
