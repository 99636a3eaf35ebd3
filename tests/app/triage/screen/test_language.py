"""The language a developer wrote in, so replies match it."""

from __future__ import annotations

import pytest

from app.triage.screen.language import LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How do I verify the webhook signature in node?", "en"),
        ("¿Cómo verifico la firma de los webhooks? Siempre nos da inválida.", "es"),
        ("Como validar a assinatura do webhook? Sempre dá inválida aqui.", "pt"),
        ("buenas, la transferencia sigue en PROCESSING desde ayer, ¿qué pasa?", "es"),
        ("o pix não caiu na conta do cliente, vocês podem verificar?", "pt"),
    ],
)
def test_detects_the_language_of_the_prose(
    detector: LanguageDetector, text: str, language: str
) -> None:
    assert detector.detect(text) == language


def test_pasted_code_does_not_make_spanish_english(detector: LanguageDetector) -> None:
    text = (
        "hola, al llamar a la API nos regresa esto y no entendemos por qué:\n"
        '```\n{"status": 400, "code": "INVALID_INPUT", "message": "Invalid account ID format"}\n'
        "```\n¿qué formato espera el campo accountId?"
    )
    assert detector.detect(text) == "es"


def test_too_little_text_falls_back_to_the_default(detector: LanguageDetector) -> None:
    assert detector.detect("ok 👍") == "en"
    assert LanguageDetector(default="es").detect("POST /quotes") == "es"
