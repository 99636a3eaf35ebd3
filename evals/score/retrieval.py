"""Ranked-retrieval metrics with binary relevance: hit@k, recall@k, MRR@10, nDCG@10.

Inputs are document ids in rank order.  Retrieval returns chunks, so the same doc id
can appear several times; only its first (best) rank counts, which is why every metric
works on the de-duplicated ranking.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10)
RANK_CUTOFF = 10  # MRR and nDCG are reported at 10, the size of a typical results page


def _dedupe(ranked: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def hit_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1.0 if any gold doc is in the top k, else 0.0."""
    return 1.0 if any(doc in gold for doc in _dedupe(ranked)[:k]) else 0.0


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Fraction of the gold docs found in the top k."""
    if not gold:
        raise ValueError("recall is undefined without gold documents")
    found = sum(1 for doc in _dedupe(ranked)[:k] if doc in gold)
    return found / len(set(gold))


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str], k: int = RANK_CUTOFF) -> float:
    """1 / rank of the first gold doc within the top k; 0.0 if none."""
    for rank, doc in enumerate(_dedupe(ranked)[:k], start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int = RANK_CUTOFF) -> float:
    """Binary-relevance nDCG: DCG of the ranking over DCG of a perfect ranking."""
    if not gold:
        raise ValueError("nDCG is undefined without gold documents")
    dcg = sum(
        1.0 / math.log2(rank + 1)
        for rank, doc in enumerate(_dedupe(ranked)[:k], start=1)
        if doc in gold
    )
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(set(gold))) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class QueryRetrieval:
    """Scores for one query; `scores` keys match `RetrievalSummary.means`."""

    query_id: str
    scores: dict[str, float]


@dataclass(frozen=True)
class RetrievalSummary:
    means: dict[str, float]
    per_query: list[QueryRetrieval] = field(default_factory=list)
    n_queries: int = 0
    n_skipped: int = 0  # queries without gold docs

    def as_dict(self) -> dict[str, float]:
        """Flat metric dict for metrics.json: the means plus the query counts."""
        return {**self.means, "n_queries": self.n_queries, "n_skipped": self.n_skipped}


def score_query(
    ranked: Sequence[str], gold: Collection[str], ks: Sequence[int]
) -> dict[str, float]:
    scores: dict[str, float] = {}
    for k in ks:
        scores[f"hit@{k}"] = hit_at_k(ranked, gold, k)
    for k in ks:
        scores[f"recall@{k}"] = recall_at_k(ranked, gold, k)
    scores[f"mrr@{RANK_CUTOFF}"] = reciprocal_rank(ranked, gold, RANK_CUTOFF)
    scores[f"ndcg@{RANK_CUTOFF}"] = ndcg_at_k(ranked, gold, RANK_CUTOFF)
    return scores


def retrieval_metrics(
    ranked_lists: Sequence[Sequence[str]],
    gold_sets: Sequence[Collection[str]],
    *,
    query_ids: Sequence[str] | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> RetrievalSummary:
    """Per-query scores and their means over the queries that have gold docs.

    Queries with an empty gold set are skipped (counted in `n_skipped`): there is no
    right answer to find, and scoring them 0 would punish retrieval for the dataset.
    """
    if len(ranked_lists) != len(gold_sets):
        raise ValueError(f"{len(ranked_lists)} rankings but {len(gold_sets)} gold sets")
    if query_ids is not None and len(query_ids) != len(ranked_lists):
        raise ValueError(f"{len(query_ids)} query ids for {len(ranked_lists)} rankings")
    if any(k < 1 for k in ks):
        raise ValueError(f"every k must be >= 1, got {list(ks)}")
    ids = list(query_ids) if query_ids is not None else [str(i) for i in range(len(ranked_lists))]

    per_query = [
        QueryRetrieval(qid, score_query(ranked, gold, ks))
        for qid, ranked, gold in zip(ids, ranked_lists, gold_sets, strict=True)
        if gold
    ]
    means: dict[str, float] = {}
    if per_query:
        for name in per_query[0].scores:
            means[name] = sum(q.scores[name] for q in per_query) / len(per_query)
    return RetrievalSummary(
        means=means,
        per_query=per_query,
        n_queries=len(per_query),
        n_skipped=len(ranked_lists) - len(per_query),
    )
