"""Spanish and Portuguese questions find the right Grid page (real Chroma, real MiniLM)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.knowledge import build_knowledge_base
from app.settings import Settings
from ingest.multilingual import default_glossary, english_query

PAGES = [
    "docs/guides/api-reference/authentication.md",
    "docs/guides/api-reference/environments.md",
    "docs/guides/api-reference/webhooks.md",
    "docs/guides/api-reference/sandbox-testing.md",
    "docs/guides/platform-overview/core-concepts/quote-system.md",
    "docs/guides/cards/card-management/freezing-and-closing.md",
]
WEBHOOKS = "docs/guides/api-reference/webhooks"
QUOTES = "docs/guides/platform-overview/core-concepts/quote-system"
ENVIRONMENTS = "docs/guides/api-reference/environments"

QUESTIONS = [
    ("¿cómo verifico la firma de los webhooks?", WEBHOOKS),
    ("como eu verifico a assinatura dos webhooks?", WEBHOOKS),
    ("mi cotización expiró antes de ejecutarla, ¿cuánto tiempo es válida?", QUOTES),
    ("a cotação expirou antes de executar, quanto tempo ela vale?", QUOTES),
    ("¿cuál es la URL base de producción? ¿es distinta a la de sandbox?", ENVIRONMENTS),
    ("qual é a URL base de produção? é diferente da do sandbox?", ENVIRONMENTS),
]


@pytest.fixture(scope="module")
def grid_kb(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, grid_root: Path) -> Any:
    corpus = tmp_path_factory.mktemp("corpus")
    for rel in PAGES:
        target = corpus / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(grid_root / rel, target)
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"), models_dir=models_dir, embedding_provider="local"
    )
    kb = build_knowledge_base(settings, refresh_seconds=0)
    kb.synchronizer().sync([corpus])
    return kb


@pytest.mark.parametrize(("question", "page"), QUESTIONS)
def test_spanish_and_portuguese_questions_find_the_page(
    grid_kb: Any, question: str, page: str
) -> None:
    hits = grid_kb.retriever.search(question, k=3)
    assert page in [h.doc_id for h in hits]


def test_english_messages_are_searched_as_written() -> None:
    assert english_query("how do I verify the webhook signature? we get 401") is None
    assert english_query("POST /quotes -> 409 QUOTE_EXPIRED") is None


def test_gloss_keeps_codes_and_paths_and_translates_support_words() -> None:
    gloss = english_query(
        "POST /quotes devuelve 409 QUOTE_EXPIRED, ¿cuánto tiempo es válida la cotización?"
    )
    assert gloss is not None
    words = gloss.split()
    assert {"POST", "/quotes", "409", "QUOTE_EXPIRED,"} <= set(words)
    assert {"quote", "valid", "returns"} <= set(words)
    assert "cotizacion" not in words


def _language(text: str) -> str:
    return default_glossary().language(text.split(" "))


def test_language_votes_tell_spanish_from_portuguese() -> None:
    assert _language("no sé por qué la cuenta está bloqueada") == "es"
    assert _language("não sei por que a conta está bloqueada") == "pt"
    assert _language("the account is blocked and we do not know why") == "en"


def test_inflected_forms_of_listed_words_are_glossed() -> None:
    gloss = english_query("¿ustedes reintentan los eventos si el endpoint está caído?")
    assert gloss is not None
    assert {"retry", "events"} <= set(gloss.split())
