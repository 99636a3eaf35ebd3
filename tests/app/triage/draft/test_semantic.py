"""Block similarity: cosine of question and block vectors, each text embedded once."""

from __future__ import annotations

from collections.abc import Sequence

from app.triage.draft.semantic import BlockSimilarity


class _Counting:
    """Vectors by keyword: one axis per topic, so similarity is predictable."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> Sequence[Sequence[float]]:
        self.seen.extend(texts)
        return [
            [float("webhook" in t), float("quote" in t), float("card" in t) + 0.01] for t in texts
        ]


def test_the_block_about_the_question_scores_highest() -> None:
    similarity = BlockSimilarity(_Counting())
    scores = similarity.scores(
        "why does my webhook fail?", ["verify each webhook", "quotes expire", "card states"]
    )
    assert scores[0] == max(scores)
    assert scores[0] > 0.9 > scores[1]


def test_each_text_is_embedded_once_across_questions() -> None:
    embed = _Counting()
    similarity = BlockSimilarity(embed)
    similarity.scores("webhook retries?", ["verify each webhook", "quotes expire"])
    similarity.scores("webhook order?", ["verify each webhook", "quotes expire"])
    assert embed.seen.count("verify each webhook") == 1
    assert embed.seen.count("quotes expire") == 1


def test_the_cache_forgets_the_oldest_texts_beyond_its_size() -> None:
    embed = _Counting()
    similarity = BlockSimilarity(embed, cache_size=2)
    similarity.scores("q", ["a webhook"])
    similarity.scores("q2", ["a quote"])
    similarity.scores("q", ["a webhook"])
    assert embed.seen.count("a webhook") == 2


def test_no_blocks_no_work() -> None:
    embed = _Counting()
    assert BlockSimilarity(embed).scores("anything", []) == []
    assert embed.seen == []
