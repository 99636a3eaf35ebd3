"""What a follow-up is read as: alone, or with the developer's earlier question."""

from __future__ import annotations

from app.triage.draft.protocol import Turn
from app.triage.pipeline import in_context

QUESTION = "How do I verify the signature of the webhooks you send us?"


def test_a_short_follow_up_is_read_with_the_question_that_set_the_topic() -> None:
    history = [
        Turn(role="user", content=QUESTION),
        Turn(role="assistant", content="Verify X-Grid-Signature with the public key."),
    ]
    assert in_context("and in Python?", history) == f"{QUESTION}\n\nand in Python?"
    # A chain of short follow-ups still reaches back to the topic.
    chained = [*history, Turn(role="user", content="and in Go?")]
    assert in_context("ok, Java?", chained) == f"{QUESTION}\n\nand in Go?\n\nok, Java?"


def test_a_self_contained_message_and_agent_turns_are_read_as_they_are() -> None:
    message = "Separately: payouts to Brazil fail with error 4012 since this morning, why?"
    assert in_context(message, [Turn(role="user", content=QUESTION)]) == message
    # Only the developer's turns give context; the agent's reply does not.
    agent_only = [Turn(role="assistant", content="Use the public key.")]
    assert in_context("and in Python?", agent_only) == "and in Python?"
    assert in_context("and in Python?", []) == "and in Python?"
