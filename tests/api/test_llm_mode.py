"""With an LLM configured: tickets are created in `drafting` and the worker drafts them
(against the loopback OpenAI-compatible fake)."""

from __future__ import annotations

from typing import Any

from app.knowledge import KnowledgeBase
from app.settings import Settings
from tests.api.conftest import AUTH_QUESTION, MakeApi, wait_for
from tests.conftest import SHARED_DATA
from tests.fakes import FakeOpenAI, Reply, llm_settings


def _llm_overrides(fake: FakeOpenAI) -> dict[str, Any]:
    return {
        "openai_base_url": fake.base_url,
        "embedding_provider": "local",
        "llm_timeout_seconds": 5.0,
        "llm_max_retries": 0,
    }


def _llm_pipeline(fake: FakeOpenAI, kb_settings: Settings, kb: KnowledgeBase, **extra: Any) -> Any:
    """The LLM pipeline over the shared test index, pointed at the loopback fake."""
    from app.services.pipelines import build_pipeline

    settings = llm_settings(
        fake,
        data_dir=kb_settings.data_dir,
        models_dir=kb_settings.models_dir,
        embedding_provider="local",
        **extra,
    )
    return build_pipeline(settings, kb)


def _auth_passage(kb: KnowledgeBase) -> tuple[str, str]:
    """The authentication page's chunk and its first sentence, for a citation that holds."""
    hits = kb.retriever.search("authenticate with client id and client secret", 5)
    auth = next(h for h in hits if h.doc_id.endswith("api-reference/authentication"))
    return auth.chunk_id, auth.text.split(".")[0].strip()


def test_ticket_is_drafted_by_the_worker_with_the_llm(
    make_api: MakeApi, fake_openai: FakeOpenAI, kb_settings: Settings, kb: KnowledgeBase
) -> None:
    overrides = _llm_overrides(fake_openai)
    llm_pipeline = _llm_pipeline(fake_openai, kb_settings, kb)
    chunk_id, quote = _auth_passage(kb)
    fake_openai.script(
        Reply.json({"category": "auth_api_access", "confidence": 0.93, "priority": "P2",
                    "language": "en", "sentiment": "neutral", "reason": "credentials"}),
        Reply.json({"answer": "Use HTTP Basic auth with your client id and secret.",
                    "citations": [{"chunk_id": chunk_id, "quote": quote}],
                    "confidence": 0.9, "needs_human": False, "reason": None}),
    )  # fmt: skip
    api = make_api(use_pipeline=llm_pipeline, **overrides)
    created = api.client.post(
        "/v1/tickets", json={"message": AUTH_QUESTION}, headers=api.auth("integration")
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["status"] == "drafting"
    assert ticket["draft"] is None
    assert ticket["triage"]["category"], "the offline triage is there from the start"

    def drafted() -> dict[str, Any] | None:
        got: dict[str, Any] = api.client.get(
            f"/v1/tickets/{ticket['id']}", headers=api.auth()
        ).json()
        return got if got["status"] == "pending_review" else None

    detail = wait_for(drafted, timeout=30)
    assert detail["draft"]["text"] == "Use HTTP Basic auth with your client id and secret."
    assert detail["triage"]["classifier"] == "llm"
    assert [c["quote"] for c in detail["draft"]["citations"]] == [quote]
    audit = api.client.get(f"/v1/tickets/{ticket['id']}/audit", headers=api.auth()).json()
    assert [a["action"] for a in audit] == ["ticket_created", "triage_updated", "draft_added"]
    assert len(fake_openai.chat_requests) == 2


def test_a_message_with_a_secret_is_finished_offline_at_once(
    make_api: MakeApi, fake_openai: FakeOpenAI, kb_settings: Settings, kb: KnowledgeBase
) -> None:
    llm_pipeline = _llm_pipeline(fake_openai, kb_settings, kb)
    api = make_api(use_pipeline=llm_pipeline, **_llm_overrides(fake_openai))
    message = 'client_secret = "gs_live_9fK2mQ7xT4vB8nR1cW6yZ3pL5hJ0dS" returns 401, help'
    created = api.client.post(
        "/v1/tickets", json={"message": message}, headers=api.auth("integration")
    ).json()
    assert created["status"] == "pending_review"
    assert created["draft"]["reason"] == "security_exposure"
    assert fake_openai.chat_requests == [], "the secret never reached the model either"


def test_a_follow_up_while_the_worker_drafts_is_drafted_with_the_whole_conversation(
    make_api: MakeApi, fake_openai: FakeOpenAI, kb_settings: Settings, kb: KnowledgeBase
) -> None:
    llm_pipeline = _llm_pipeline(fake_openai, kb_settings, kb)
    classified = Reply.json(
        {"category": "auth_api_access", "confidence": 0.9, "priority": "P3", "language": "en",
         "sentiment": "neutral", "reason": "credentials"}
    )  # fmt: skip

    def drafted(text: str) -> Reply:
        return Reply.json(
            {"answer": text, "citations": [], "confidence": 0.4, "needs_human": True,
             "reason": "insufficient_documentation"}
        )  # fmt: skip

    # The model is slow on the first message: the developer writes again meanwhile.
    fake_openai.script(
        Reply.delay(2.0, then=classified), drafted("first answer"),
        classified, drafted("answer with the follow-up"),
    )  # fmt: skip
    api = make_api(use_pipeline=llm_pipeline, **_llm_overrides(fake_openai))
    headers = api.auth("integration")
    created = api.client.post("/v1/tickets", json={"message": AUTH_QUESTION}, headers=headers)
    assert created.json()["status"] == "drafting"
    ticket_id = created.json()["id"]
    follow_up = "and in Python? requests.get keeps returning 401"
    posted = api.client.post(
        f"/v1/tickets/{ticket_id}/messages",
        json={"text": follow_up, "author": "customer"},
        headers=headers,
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["status"] == "drafting", "left to the worker, not drafted twice"

    def reviewable() -> dict[str, Any] | None:
        got: dict[str, Any] = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth()).json()
        return got if got["status"] == "pending_review" else None

    detail = wait_for(reviewable, timeout=30)
    # One draft stored, written for the follow-up with the question before it: the model
    # was given both (the draft a follow-up overtook was never stored).
    assert len(detail["drafts"]) == 1
    last = fake_openai.chat_requests[-1].raw
    assert AUTH_QUESTION[:40] in last
    assert "requests.get keeps returning 401" in last


def test_the_llm_drafters_checks_reach_the_reviewer(
    make_api: MakeApi, fake_openai: FakeOpenAI, kb_settings: Settings, kb: KnowledgeBase
) -> None:
    """An invented endpoint is listed under the draft's `checks`, on the ticket and in the
    queue alike, so the console can show the reviewer what to verify."""
    llm_pipeline = _llm_pipeline(
        fake_openai, kb_settings, kb, openapi_specs=[SHARED_DATA / "corpus_grid" / "openapi.yaml"]
    )
    chunk_id, quote = _auth_passage(kb)
    fake_openai.script(
        Reply.json({"category": "auth_api_access", "confidence": 0.93, "priority": "P2",
                    "language": "en", "sentiment": "neutral", "reason": "credentials"}),
        Reply.json({"answer": "Use HTTP Basic auth with your client id and secret. "
                              "Then call POST /quotes/{quoteId}/renew to keep the token.",
                    "citations": [{"chunk_id": chunk_id, "quote": quote}],
                    "confidence": 0.9, "needs_human": False, "reason": None}),
    )  # fmt: skip
    api = make_api(use_pipeline=llm_pipeline, **_llm_overrides(fake_openai))
    created = api.client.post(
        "/v1/tickets", json={"message": AUTH_QUESTION}, headers=api.auth("integration")
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]

    def drafted() -> dict[str, Any] | None:
        got: dict[str, Any] = api.client.get(f"/v1/tickets/{ticket_id}", headers=api.auth()).json()
        return got if got["draft"] is not None else None

    detail = wait_for(drafted, timeout=30)
    checks = detail["draft"]["checks"]
    assert checks["unknown_api_names"] == ["POST /quotes/{quoteId}/renew"]
    queue = api.client.get("/v1/review/queue", headers=api.auth()).json()
    row = next(item for item in queue["items"] if item["id"] == ticket_id)
    assert row["draft"]["checks"] == checks


def test_an_offline_draft_has_no_checks(make_api: MakeApi) -> None:
    api = make_api()
    created = api.client.post(
        "/v1/tickets", json={"message": AUTH_QUESTION}, headers=api.auth("integration")
    )
    assert created.status_code == 201, created.text
    assert created.json()["draft"]["checks"] is None
