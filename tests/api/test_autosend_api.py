"""Auto-send through the real app: the legacy global threshold, and a per-category policy
earned by an agent's approvals, audited and visible in /v1/calibration.

The approvals are stored directly, not through the review API: an approval through the
API would teach the session-wide knowledge base a reusable answer for the question, which
other tests ask too."""

from __future__ import annotations

from pathlib import Path

from app.services.runtime import Pipeline
from app.store import reviews
from tests.api.conftest import AUTH_QUESTION, Api, MakeApi, wait_for


def _audit_actions(api: Api, ticket_id: str) -> dict[str, dict[str, object]]:
    rows = api.client.get(f"/v1/tickets/{ticket_id}/audit", headers=api.auth()).json()
    return {row["action"]: row.get("detail") or {} for row in rows}


def test_the_legacy_threshold_still_sends_and_is_audited(make_api: MakeApi) -> None:
    api = make_api(auto_send_min_confidence=0.0)
    ticket = api.client.post(
        "/v1/tickets", json={"message": AUTH_QUESTION}, headers=api.auth("integration")
    ).json()
    assert ticket["status"] in ("approved", "sent")
    decided = _audit_actions(api, ticket["id"])["autosend_decided"]
    assert decided["policy"] == "legacy"
    assert decided["threshold"] == 0.0


def test_a_category_earns_auto_send_from_approvals_through_the_api(
    make_api: MakeApi, pipeline: Pipeline, tmp_path: Path
) -> None:
    category = pipeline.run(AUTH_QUESTION).triage.category
    policy = tmp_path / "autosend.yaml"
    policy.write_text(
        "defaults: {threshold: 0.0, min_reviews: 2, target_precision: 0.9, "
        f"review_sample_rate: 0.0001}}\ncategories:\n  {category}: {{}}\n"
    )
    api = make_api(auto_send_policy_path=policy)
    create = {"json": {"message": AUTH_QUESTION}, "headers": api.auth("integration")}
    for n in range(2):
        shadowed = api.client.post("/v1/tickets", **create).json()
        assert shadowed["status"] == "pending_review"
        assert _audit_actions(api, shadowed["id"])["autosend_decided"]["mode"] == "shadow"
        with api.sessions.begin() as session:
            reviews.approve(session, shadowed["draft"]["id"], reviewer=f"agent-{n}")

    sent = api.client.post("/v1/tickets", **create).json()
    assert sent["status"] in ("approved", "sent")
    decided = _audit_actions(api, sent["id"])["autosend_decided"]
    assert (decided["mode"], decided["reviewed"], decided["precision"]) == ("on", 2, 1.0)

    def earned() -> bool:
        status = api.client.get("/v1/calibration", headers=api.auth()).json()["autosend"]
        return [c["mode"] for c in status["categories"]] == ["on"]

    wait_for(earned)
