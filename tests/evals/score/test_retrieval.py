from __future__ import annotations

import math

import pytest

from evals.score.retrieval import (
    hit_at_k,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    retrieval_metrics,
)


def test_single_gold_at_rank_two() -> None:
    ranked, gold = ["a", "b", "c"], {"b"}

    assert hit_at_k(ranked, gold, 1) == 0.0
    assert hit_at_k(ranked, gold, 3) == 1.0
    assert recall_at_k(ranked, gold, 1) == 0.0
    assert recall_at_k(ranked, gold, 3) == 1.0
    assert reciprocal_rank(ranked, gold) == 0.5
    assert ndcg_at_k(ranked, gold) == pytest.approx(1 / math.log2(3))


def test_two_gold_docs() -> None:
    ranked, gold = ["x", "g1", "y", "g2"], {"g1", "g2"}

    assert recall_at_k(ranked, gold, 2) == 0.5
    assert recall_at_k(ranked, gold, 4) == 1.0
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(ranked, gold) == pytest.approx(expected)


def test_perfect_and_empty_rankings() -> None:
    assert ndcg_at_k(["g1", "g2", "z"], {"g1", "g2"}) == pytest.approx(1.0)
    assert reciprocal_rank([], {"g"}) == 0.0
    assert ndcg_at_k([], {"g"}) == 0.0
    assert hit_at_k([], {"g"}, 5) == 0.0


def test_duplicate_doc_ids_count_once_at_their_best_rank() -> None:
    # Several chunks of doc "a" must not push "b" out of the top 2 or inflate recall.
    ranked = ["a", "a", "a", "b"]

    assert hit_at_k(ranked, {"b"}, 2) == 1.0
    assert reciprocal_rank(ranked, {"b"}) == 0.5
    assert recall_at_k(ranked, {"a", "c"}, 10) == 0.5


def test_cutoff_at_ten() -> None:
    ranked = [f"d{i}" for i in range(10)] + ["gold"]

    assert reciprocal_rank(ranked, {"gold"}) == 0.0
    assert ndcg_at_k(ranked, {"gold"}) == 0.0
    assert reciprocal_rank(ranked, {"gold"}, k=11) == pytest.approx(1 / 11)


def test_means_skip_queries_without_gold() -> None:
    summary = retrieval_metrics(
        [["a", "b", "c"], ["g", "x"], ["q"]],
        [{"b"}, {"g"}, set()],
        query_ids=["q1", "q2", "q3"],
        ks=(1, 3),
    )

    assert summary.n_queries == 2
    assert summary.n_skipped == 1
    assert [q.query_id for q in summary.per_query] == ["q1", "q2"]
    assert summary.means["hit@1"] == 0.5
    assert summary.means["hit@3"] == 1.0
    assert summary.means["mrr@10"] == pytest.approx(0.75)
    assert summary.means["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1) / 2)
    assert summary.as_dict()["n_queries"] == 2
    assert set(summary.means) == {"hit@1", "hit@3", "recall@1", "recall@3", "mrr@10", "ndcg@10"}


def test_no_scorable_queries_gives_no_means() -> None:
    summary = retrieval_metrics([["a"]], [set()])

    assert summary.means == {}
    assert summary.n_skipped == 1


def test_mismatched_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="2 rankings but 1 gold sets"):
        retrieval_metrics([["a"], ["b"]], [{"a"}])
    with pytest.raises(ValueError, match="k must be >= 1"):
        retrieval_metrics([["a"]], [{"a"}], ks=(0,))
