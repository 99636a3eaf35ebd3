"""Draft confidence: the fitted answer models, and what the drafter measures for them."""

from __future__ import annotations

import dataclasses

from app.triage.draft.confidence import FEATURE_NAMES, AnswerFeatures, AnswerModel
from app.triage.draft.offline import OfflineDrafter
from app.triage.draft.relevance import Weights, terms
from app.triage.draft.semantic import BlockSimilarity


def _features(**values: float) -> AnswerFeatures:
    return dataclasses.replace(
        AnswerFeatures(shape="how_to", top_block=0.6, section_coverage=0.5, prose_words=3.5),
        **values,
    )


def test_both_shipped_models_read_the_features_the_drafter_records() -> None:
    for meaning in (True, False):
        model = AnswerModel.default(meaning=meaning)
        assert len(model.coefficients) == len(FEATURE_NAMES) == len(AnswerFeatures().vector())
        assert 0.0 < model.probability(AnswerFeatures()) < 1.0


def test_the_words_model_ignores_meaning_which_other_embeddings_cannot_measure() -> None:
    words = AnswerModel.default(meaning=False)
    close = _features(meaning_top=0.8, meaning_gap=0.0)
    far = _features(meaning_top=0.1, meaning_gap=-0.5)
    assert words.probability(close) == words.probability(far)


def test_a_drafter_without_local_embeddings_uses_the_words_model() -> None:
    assert OfflineDrafter().model == AnswerModel.default(meaning=False)
    similarity = BlockSimilarity(lambda texts: [[1.0, 0.0] for _ in texts])
    assert OfflineDrafter(similarity=similarity).model == AnswerModel.default(meaning=True)


def test_terms_no_passage_mentions_are_counted_apart() -> None:
    weights = Weights(
        terms("does the dashboard support SAML single sign-on?"),
        [terms("The dashboard lists API keys."), terms("Sign in with your email.")],
    )
    assert terms("SAML") <= weights.unmatched
    assert not (terms("dashboard") & weights.unmatched)
    assert terms("dashboard") <= frozenset(weights.idf)
