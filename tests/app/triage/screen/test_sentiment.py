"""Sentiment and frustration on realistic EN/ES/PT support messages."""

from __future__ import annotations

import pytest

from app.triage.screen.sentiment import frustration_score, sentiment_of


@pytest.mark.parametrize(
    "text",
    [
        "This is the third time I'm asking. Payouts are still failing and nobody answers. "
        "Unacceptable.",
        "URGENT!!! customer is furious, the transfer is still not there",
        "EVERY SINGLE CALL FAILS AND WE LAUNCH TOMORROW, WHAT IS GOING ON",
        "Es inaceptable, todavía no llega el pago y ya van tres días.",
        "Ainda não caiu o PIX, isso é um absurdo, preciso de uma resposta urgente.",
    ],
)
def test_frustrated_messages_are_negative(text: str) -> None:
    assert sentiment_of(text) == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, that worked! Appreciate the quick reply.",
        "¡Gracias! ya quedó, excelente soporte",
        "Valeu, perfeito, obrigado pela ajuda",
    ],
)
def test_thanks_are_positive(text: str) -> None:
    assert sentiment_of(text) == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "How do I verify the X-Grid-Signature header?",
        "¿Cuál es la URL base de producción?",
        "Qual é o limite diário de envio por cliente?",
    ],
)
def test_plain_questions_are_neutral(text: str) -> None:
    assert sentiment_of(text) == "neutral"


def test_frustration_grows_with_cues_and_stays_within_one() -> None:
    calm = frustration_score("The payout is pending, can you check?")
    angry = frustration_score("Still waiting, third time asking, this is ridiculous!!")
    furious = frustration_score("UNACCEPTABLE!!! STILL BROKEN!!! ESCALATE NOW, ASAP!!!")
    assert calm < angry <= furious <= 1.0
