"""The public /v1/ask endpoint: answer, hand off, rate limit."""

from __future__ import annotations

from tests.api.conftest import AUTH_QUESTION, MakeApi


def test_a_confident_grounded_answer_is_returned_directly(make_api: MakeApi) -> None:
    api = make_api(ask_answer_min_confidence=0.0)
    response = api.client.post("/v1/ask", json={"question": AUTH_QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["handed_off"] is False
    assert body["ticket_id"] is None
    assert body["citations"]
    assert body["answer"]
    queue = api.client.get("/v1/review/queue", headers=api.auth()).json()
    assert queue["items"] == []


def test_below_the_threshold_the_question_becomes_a_widget_ticket(make_api: MakeApi) -> None:
    api = make_api(ask_answer_min_confidence=1.0)
    body = api.client.post("/v1/ask", json={"question": AUTH_QUESTION}).json()
    assert body["handed_off"] is True
    assert body["ticket_id"]
    assert body["citations"] == [], "an unreviewed draft is not shown to the public"
    assert body["related"], "but the pages it found are offered as reading"
    assert all(page["url"].startswith("https://") for page in body["related"])
    assert all("quote" not in page for page in body["related"])
    ticket = api.client.get(f"/v1/tickets/{body['ticket_id']}", headers=api.auth()).json()
    assert ticket["channel"] == "widget"
    assert ticket["status"] == "pending_review"
    assert ticket["draft"]["text"] != body["answer"], "the visitor got the holding reply"
    queue = api.client.get("/v1/review/queue", headers=api.auth()).json()
    assert [t["id"] for t in queue["items"]] == [body["ticket_id"]]


def test_a_pasted_secret_is_handed_off_with_the_rotation_advice(make_api: MakeApi) -> None:
    api = make_api(ask_answer_min_confidence=0.0)
    question = 'my client_secret = "gs_live_9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS" stopped working'
    response = api.client.post("/v1/ask", json={"question": question})
    body = response.json()
    assert body["handed_off"] is True
    assert "gs_live_9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS" not in response.text


def test_rate_limit_per_client_is_a_429_with_retry_after(make_api: MakeApi) -> None:
    api = make_api(public_ask_rate_per_minute=2, ask_answer_min_confidence=0.0)
    statuses = [
        api.client.post("/v1/ask", json={"question": "How do I authenticate?"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    limited = api.client.post("/v1/ask", json={"question": "How do I authenticate?"})
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert (
        'triage_ask_requests_total{outcome="rate_limited"} 2.0' in api.client.get("/metrics").text
    )


def test_an_asker_id_is_kept_only_as_a_keyed_hash(make_api: MakeApi) -> None:
    from sqlalchemy import select

    from app.store.askers import AskerTicket
    from app.store.self_service import SelfServiceAnswer

    # Whichever way the pipeline goes (answered or handed off), the asker is kept hashed
    # beside what was stored: the answer row or the ticket.
    for threshold in (0.0, 1.0):
        api = make_api(ask_answer_min_confidence=threshold)
        body = {"question": AUTH_QUESTION, "asker": "browser-123"}
        reply = api.client.post("/v1/ask", json=body).json()
        with api.sessions() as session:
            answers = session.scalars(select(SelfServiceAnswer.asker_key)).all()
            tickets = session.scalars(select(AskerTicket)).all()
        if reply["handed_off"]:
            assert answers == []
            assert [t.ticket_id for t in tickets] == [reply["ticket_id"]]
            keys = [t.asker_key for t in tickets]
        else:
            assert tickets == []
            keys = list(answers)
        assert len(keys) == 1
        assert keys[0] is not None
        assert len(keys[0]) == 64
        assert "browser-123" not in keys[0]
        too_long = api.client.post("/v1/ask", json={**body, "asker": "x" * 201})
        assert too_long.status_code == 422
