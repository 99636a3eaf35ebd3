"""Build the conversation service from the runtime (the API's start-up calls this)."""

from __future__ import annotations

from collections.abc import Callable

from app.conversations.policy import SlaPolicy, load_sla_policy
from app.conversations.service import ConversationService
from app.services.runtime import Runtime
from app.settings import Settings
from app.triage.classify.taxonomy import load_taxonomy


def build_conversations(
    settings: Settings,
    runtime: Runtime,
    wake_outbox: Callable[[], None],
    wake_drafting: Callable[[], None] = lambda: None,
    policy: SlaPolicy | None = None,
) -> ConversationService:
    taxonomy = load_taxonomy(settings.taxonomy_path)
    return ConversationService(
        runtime.sessions,
        # The configured pipeline drafts follow-ups; the offline one if it fails.
        [runtime.pipeline, runtime.screening],
        policy=policy or load_sla_policy(settings.sla_policy_path),
        team_for=taxonomy.team_for,
        categories=frozenset(taxonomy.names),
        auto_send=runtime.auto_send,
        wake_outbox=wake_outbox,
        wake_drafting=wake_drafting,
    )
