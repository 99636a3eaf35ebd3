"""Self-service "did this help?", GET /v1/gaps and GET /v1/calibration on the real app."""

from __future__ import annotations

from tests.api.conftest import AUTH_QUESTION, MakeApi

GAP_KEYS = {"topic", "count", "trend", "examples", "nearest_docs", "kind", "ticket_ids"}


def test_an_answer_that_did_not_help_becomes_a_gap_linked_to_it(make_api: MakeApi) -> None:
    api = make_api(ask_answer_min_confidence=0.0, public_ask_rate_per_minute=2)
    asked = api.client.post("/v1/ask", json={"question": AUTH_QUESTION}).json()
    assert asked["handed_off"] is False
    answer_id = asked["answer_id"]
    assert answer_id

    # Verdicts have their own budget: two questions used it all, feedback still works.
    assert api.client.post("/v1/ask", json={"question": AUTH_QUESTION}).status_code == 200
    verdict = api.client.post(f"/v1/ask/{answer_id}/feedback", json={"helpful": True})
    assert verdict.status_code == 200, verdict.text
    # A change of mind replaces the first verdict.
    verdict = api.client.post(f"/v1/ask/{answer_id}/feedback", json={"helpful": False})
    assert verdict.json() == {"helpful": False}

    report = api.client.get("/v1/gaps", headers=api.auth()).json()
    assert report["questions"] == 1
    [gap] = report["gaps"]
    assert gap.keys() >= GAP_KEYS
    assert gap["answer_ids"] == [answer_id]
    assert gap["sources"] == {"didnt_help": 1}
    assert gap["count"] == 1
    assert gap["trend"] == {"current": 1, "previous": 0, "direction": "new"}
    assert gap["examples"] == [AUTH_QUESTION]
    # The docs answer this one: the authentication page is among the nearest sections
    # (the sandbox page's own authentication section can be as close to a short question).
    nearest = [doc["doc_id"] for doc in gap["nearest_docs"]]
    assert "docs/guides/api-reference/authentication" in nearest
    assert gap["kind"] == "retrieval_miss"


def test_feedback_refuses_unknown_answers_bad_bodies_and_floods(make_api: MakeApi) -> None:
    api = make_api(ask_feedback_rate_per_minute=1)
    missing = api.client.post("/v1/ask/ssa_nope/feedback", json={"helpful": False})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = api.client.post("/v1/ask/ssa_nope/feedback", json={"helpful": "meh", "x": 1})
    assert bad.status_code == 422  # refused before it costs anything
    flooded = api.client.post("/v1/ask/ssa_nope/feedback", json={"helpful": False})
    assert flooded.status_code == 429
    assert int(flooded.headers["retry-after"]) >= 1


def test_reports_need_an_agent_or_admin_and_a_past_start(make_api: MakeApi) -> None:
    api = make_api()
    assert api.client.get("/v1/gaps").status_code == 401
    assert api.client.get("/v1/gaps", headers=api.auth("integration")).status_code == 403
    assert api.client.get("/v1/calibration", headers=api.auth("integration")).status_code == 403
    future = api.client.get("/v1/gaps?since=2999-01-01", headers=api.auth())
    assert future.status_code == 422
    empty = api.client.get("/v1/gaps?since=2026-01-01", headers=api.auth("admin")).json()
    assert empty["gaps"] == []
    assert empty["since"].startswith("2026-01-01T00:00:00")

    calibration = api.client.get("/v1/calibration", headers=api.auth()).json()
    assert calibration["reliability"][0]["category"] == "all"
    assert calibration["reliability"][0]["n"] == 0
    assert calibration["autosend"] == {"legacy_min_confidence": None, "categories": []}
